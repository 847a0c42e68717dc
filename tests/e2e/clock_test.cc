// The device's clock across processes: the stamp a device saves always reads back, so that a device
// whose wall clock is a month behind resumes after the centre's time it last saw; a saved clock that
// cannot be read stops `relais` with an error, never silently (docs/PROTOCOL.md, "Clocks").
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"

using nlohmann::json;
using namespace relais::e2e;

namespace {

const std::string kGap = "hautes-alpes-gap";

// SkewedRun, which must succeed: what a counsellor reads.
RunResult SkewedText(const Device& device, const std::string& offset, std::vector<std::string> args) {
  RunResult r = SkewedRun(device, offset, args);
  INFO("faketime " << offset << " relais " << args.front() << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

std::string SavedClock(const Device& device) {
  return QueryText(device.db(), "SELECT value FROM sync_state WHERE key = 'hlc_last'");
}

}  // namespace

TEST_CASE("a device a month behind that synced without pushing stamps its next edit after the centre's time",
          "[e2e][clock]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device ok(dir, "ok"), behind(dir, "behind");
  ok.Init(central, central.Enrol("ok", {kGap}));
  behind.Init(central, central.Enrol("behind", {kGap}));
  const std::string id = ok.AddCase("Girard", "Maël", kGap);
  ok.Sync();
  // An edit made on time, still on its laptop.
  ok.Json({"case", "edit", id, "--phone", "0611111111"});
  // The late laptop syncs after it (pushing nothing), then its counsellor edits the same phone.
  json synced = SkewedJson(behind, "-30d", {"sync"});
  CHECK(synced["pushed"] == 0);
  CHECK(synced["clock_skew_ms"].get<int64_t>() < -29LL * 86400000);
  const std::string saved = SavedClock(behind);
  const std::string node = QueryText(behind.db(), "SELECT value FROM sync_state WHERE key = 'node_id'");
  CHECK(saved.substr(saved.size() - node.size()) == node);  // the stamp whole, with its node
  SkewedJson(behind, "-30d", {"case", "edit", id, "--phone", "0622222222"});
  // Its edit is stamped after the centre's time of its sync, not a month back.
  const std::string stamp = QueryText(behind.db(), "SELECT hlc FROM outbox");
  CHECK(stamp > saved);
  ok.Sync();
  SkewedJson(behind, "-30d", {"sync"});
  ok.Sync();
  CHECK(ok.Show(id)["phone"] == "0622222222");
  CHECK(SkewedJson(behind, "-30d", {"case", "show", id})["phone"] == "0622222222");
}

TEST_CASE("a saved clock that cannot be read stops relais with an error naming the file, and changes nothing",
          "[e2e][clock]") {
  TempDir dir;
  Device device(dir, "device");
  device.AddCase("Girard", "Maël", kGap);
  Exec(device.db(), "INSERT OR REPLACE INTO sync_state(key, value) VALUES ('hlc_last', '1763900000000-zz-')");
  const std::string before = device.ContentHash();
  RunResult r = device.Cmd({"case", "add", "--last-name", "Roux", "--first-name", "Léa", "--territory", kGap});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(device.db()) != std::string::npos);
  CHECK(r.err.find("l'horloge enregistrée") != std::string::npos);
  CHECK(device.ContentHash() == before);
}

TEST_CASE("a clock saved without its node by an earlier Relais is read back", "[e2e][clock]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device device(dir, "device");
  device.Init(central, central.Enrol("device", {kGap}));
  const std::string id = device.AddCase("Girard", "Maël", kGap);
  device.Sync();
  // Far ahead of any wall clock: the next stamp can only come from the saved one.
  Exec(device.db(), "UPDATE sync_state SET value = '9000000000000-000000-' WHERE key = 'hlc_last'");
  device.Json({"case", "edit", id, "--phone", "0611111111"});
  CHECK(QueryText(device.db(), "SELECT hlc FROM outbox").rfind("9000000000000-000001-", 0) == 0);
}

TEST_CASE("a clock a month behind is told at init, and the dates it gives by default are flagged", "[e2e][clock]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device behind(dir, "behind");
  RunResult init =
      SkewedText(behind, "-30d", {"init", "--server", central.url(), "--token", central.Enrol("behind", {kGap})});
  CHECK(init.out.find("l'horloge de cet ordinateur retarde de 30 jours sur celle du centre") != std::string::npos);

  RunResult added = SkewedText(behind, "-30d", {"case", "add", "--last-name", "Girard", "--first-name", "Maël"});
  CHECK(added.err.find("attention : opened_on prend la date du jour de cet ordinateur") != std::string::npos);
  const std::string id = SkewedJson(behind, "-30d", {"case", "list"}).at(0)["id"].get<std::string>();
  // A date given by hand a month after the centre's today.
  RunResult later = SkewedText(
      behind, "-30d", {"followup", "add", id, "--kind", "entretien", "--text", "Entretien.", "--date", "2099-01-01"});
  CHECK(later.err.find("date 2099-01-01 est dans le futur") != std::string::npos);
  RunResult status = SkewedText(behind, "-30d", {"status"});
  CHECK(status.out.find("retarde de 30 jours") != std::string::npos);
  CHECK(SkewedJson(behind, "-30d", {"status"})["clock_skew_ms"].get<int64_t>() < -29LL * 86400000);

  // Once the clock is set right and the device has synced, nothing of the kind is said.
  behind.Sync();
  RunResult on_time = behind.Cmd({"case", "add", "--last-name", "Roux", "--first-name", "Léa"});
  CHECK(on_time.exit_code == 0);
  CHECK(on_time.err.find("attention") == std::string::npos);
}
