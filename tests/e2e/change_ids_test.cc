// Change ids belong to the device that made them (docs/PROTOCOL.md, "Change ids"): a change sent
// again gets its first answer, an id reused by the same device for another change is refused and
// kept on the device, and another device's change of the same id is another change.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"

using nlohmann::json;
using namespace relais::e2e;

namespace {

const std::string kGap = "hautes-alpes-gap";

// The change id of the last change the centre took on `record`.
std::string LastChangeOn(const Central& central, const std::string& record) {
  return central.Rows("SELECT change_id FROM history WHERE record_id = '" + record + "' ORDER BY seq DESC LIMIT 1")
      .at(0);
}

// The laptop `d` as it is now, restored later from this copy: it sends the same changes again.
Device CopyOf(const TempDir& dir, const Device& d) {
  Device copy(dir, "restored");
  std::filesystem::copy_file(d.db(), copy.db());
  if (std::filesystem::exists(d.db() + "-wal")) std::filesystem::copy_file(d.db() + "-wal", copy.db() + "-wal");
  return copy;
}

// A centre and two devices of one territory, enrolled and bound.
struct TwoDevices {
  TempDir dir;
  Central central{dir.path()};
  Device a{dir, "a"}, b{dir, "b"};
  TwoDevices() {
    central.Start();
    a.Init(central, central.Enrol("a", {kGap}));
    b.Init(central, central.Enrol("b", {kGap}));
  }
};

}  // namespace

TEST_CASE("two devices may use one change id for two different changes: both are applied", "[e2e][change_ids]") {
  TwoDevices w;
  Central& central = w.central;
  Device &a = w.a, &b = w.b;
  const std::string id = a.AddCase("Santini", "Paul", kGap);
  a.Sync();
  b.Sync();
  a.Json({"case", "edit", id, "--phone", "0611111111"});
  a.Sync();
  b.Json({"case", "edit", id, "--email", "paul.santini@exemple.fr"});
  Exec(b.db(), "UPDATE outbox SET change_id = '" + LastChangeOn(central, id) + "'");
  json synced = b.Sync();
  INFO(synced.dump());
  CHECK(synced["pushed"] == 1);
  CHECK(synced["rejected"] == 0);
  CHECK(central.Rows("SELECT email FROM cases WHERE id = '" + id + "'").at(0) == "paul.santini@exemple.fr");
  a.Sync();
  CHECK(a.Show(id)["email"] == "paul.santini@exemple.fr");
  CHECK(b.Show(id)["phone"] == "0611111111");
}

TEST_CASE("a change id a device reuses for another change is refused, never acknowledged, and kept on the device",
          "[e2e][change_ids]") {
  TwoDevices w;
  Central& central = w.central;
  Device& a = w.a;
  const std::string id = a.AddCase("Santini", "Paul", kGap);
  a.Sync();
  a.Json({"case", "edit", id, "--phone", "0611111111"});
  a.Sync();
  a.Json({"case", "edit", id, "--email", "paul.santini@exemple.fr"});
  Exec(a.db(), "UPDATE outbox SET change_id = '" + LastChangeOn(central, id) + "'");
  const std::string seq_before = central.Rows("SELECT last_seq FROM meta").at(0);
  json synced = a.Sync();
  INFO(synced.dump());
  CHECK(synced["applied"] == 0);
  CHECK(synced["rejected"] == 1);
  REQUIRE(synced["rejections"].size() == 1);
  CHECK(synced["rejections"][0]["reason"].get<std::string>().find("reprend l'identifiant d'une autre modification") !=
        std::string::npos);
  // Nothing reached the centre; the edit and its change stay on the device.
  CHECK(central.Rows("SELECT last_seq FROM meta").at(0) == seq_before);
  CHECK(central.Rows("SELECT email FROM cases WHERE id = '" + id + "'").at(0) == "∅");
  CHECK(a.Show(id)["email"] == "paul.santini@exemple.fr");
  CHECK(Count(a.db(), "SELECT count(*) FROM outbox WHERE state = 'rejected' AND record_id = '" + id + "'") == 1);
}

TEST_CASE("a change sent again in a new batch keeps its first status and review fields", "[e2e][change_ids]") {
  TwoDevices w;
  Central& central = w.central;
  Device &a = w.a, &b = w.b;
  const std::string phoned = a.AddCase("Santini", "Paul", kGap);
  const std::string levelled = a.AddCase("Marchetti", "Lucie", kGap);
  a.Sync();
  b.Sync();
  a.Json({"case", "edit", phoned, "--phone", "0611111111"});
  a.Json({"case", "edit", levelled, "--service-level", "2"});
  a.Sync();
  // b edits the same fields without having seen a's edits: the phone by last-writer-wins (merged),
  // the service level for central review.
  b.Json({"case", "edit", phoned, "--phone", "0622222222"});
  b.Json({"case", "edit", levelled, "--service-level", "3"});
  // The laptop as it was before its sync, restored from a backup: it sends the same changes again.
  Device restored = CopyOf(w.dir, b);
  json first = b.Sync();
  INFO(first.dump());
  REQUIRE(first["merged"] == 1);
  REQUIRE(first["conflicts"] == 1);
  const std::string conflicts = central.Rows("SELECT count(*) FROM conflicts").at(0);
  const std::string seq = central.Rows("SELECT last_seq FROM meta").at(0);

  json again = restored.Sync();
  INFO(again.dump());
  CHECK(again["pushed"] == 2);
  CHECK(again["applied"] == 0);
  CHECK(again["merged"] == 1);
  CHECK(again["conflicts"] == 1);
  CHECK(again["rejected"] == 0);
  CHECK(central.Rows("SELECT count(*) FROM conflicts").at(0) == conflicts);
  CHECK(central.Rows("SELECT last_seq FROM meta").at(0) == seq);
  CHECK(restored.Show(phoned)["phone"] == "0622222222");
  CHECK(central.Rows("SELECT review FROM change_outcomes WHERE status = 'review'") ==
        std::vector<std::string>{"service_level"});
}

TEST_CASE("a change sent again in a new batch names again the values it lost", "[e2e][change_ids]") {
  TwoDevices w;
  Central& central = w.central;
  Device &a = w.a, &b = w.b;
  const std::string id = a.AddCase("Santini", "Paul", kGap);
  a.Sync();
  b.Sync();
  // b's edit is the earlier one: it loses the phone to a's by last-writer-wins.
  b.Json({"case", "edit", id, "--phone", "0622222222"});
  Device restored = CopyOf(w.dir, b);
  a.Json({"case", "edit", id, "--phone", "0611111111"});
  a.Sync();
  json first = b.Sync();
  INFO(first.dump());
  REQUIRE(first["merged"] == 1);
  REQUIRE(first["lost"].size() == 1);
  const std::string seq = central.Rows("SELECT last_seq FROM meta").at(0);

  json again = restored.Sync();
  INFO(again.dump());
  CHECK(again["merged"] == 1);
  CHECK(again["lost"] == first["lost"]);
  CHECK(central.Rows("SELECT last_seq FROM meta").at(0) == seq);
  CHECK(restored.Show(id)["phone"] == "0611111111");
}
