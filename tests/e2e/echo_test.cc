// Echo suppression through the real binaries (docs/PROTOCOL.md, "Echo"): a device does not pull
// back what it pushed when the centre took it exactly as sent, and every replica still holds
// exactly the centre's records, values and versions, checked row by row and by the digest.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"
#include "tests/e2e/same_as_centre.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

// Something of its own to push, so that the sync asks the centre to leave its echo out (a sync
// with nothing to push asks for everything). The new contact is itself left out of the pull.
void AddContact(const Device& d, const std::string& organisation) {
  d.Json({"contact", "add", "--organisation", organisation});
}

// `relais-central conflicts ARGS` on the centre's store, as central staff run it; its output.
std::string StaffConflicts(const Central& central, std::vector<std::string> args) {
  args.insert(args.begin(), {CentralBinary(), "conflicts"});
  for (const std::string& arg : central.StoreArgs()) args.push_back(arg);
  RunResult r = Run(args);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// A centre and two devices of the same territory.
struct TwoDevices {
  TwoDevices() : central(dir.path()), a(dir, "a"), b(dir, "b") {
    central.Start();
    a.Init(central, central.Enrol("a", {kGap}));
    b.Init(central, central.Enrol("b", {kGap}));
  }
  // A case made on a that both devices hold.
  std::string SharedCase(const std::string& last, const std::string& first) {
    std::string id = a.AddCase(last, first, kGap);
    a.Sync();
    b.Sync();
    return id;
  }
  TempDir dir;
  Central central;
  Device a, b;
};

}  // namespace

TEST_CASE("a device does not pull back the cases it created; the other device gets them all", "[e2e][echo]") {
  TwoDevices w;
  REQUIRE(w.a.Cmd({"import", CasesFile(w.dir, 200, kGap)}).exit_code == 0);
  AddContact(w.a, "Mission locale Gap");
  json pushed = w.a.Sync();
  INFO(pushed.dump());
  CHECK(pushed["pushed"] == 201);
  CHECK(pushed["pulled"] == 0);
  CHECK(pushed["checked"] == true);
  CHECK(pushed["divergence"].is_null());
  CheckSameAsCentre(w.a, w.central);

  json got = w.b.Sync();
  CHECK(got["pulled"] == 201);
  CHECK(w.b.CaseCount() == 200);
  CheckSameAsCentre(w.b, w.central);
}

TEST_CASE("an edit applied as sent takes the centre's version on the device, and the digest agrees", "[e2e][echo]") {
  TwoDevices w;
  std::string id = w.SharedCase("Lefèvre", "Élodie");

  SECTION("one edit") {
    w.a.Json({"case", "edit", id, "--email", "elodie@exemple.fr"});
    json s = w.a.Sync();
    INFO(s.dump());
    CHECK(s["applied"] == 1);
    CHECK(s["pulled"] == 0);
    CHECK(s["checked"] == true);
    CHECK(s["divergence"].is_null());
  }
  SECTION("two edits of one record in one batch") {
    w.a.Json({"case", "edit", id, "--email", "elodie@exemple.fr"});
    w.a.Json({"case", "edit", id, "--phone", "0611223344"});
    json s = w.a.Sync();
    INFO(s.dump());
    // The second edit carries the base version of the first: the centre merges it over the first
    // (no conflict) and sends the record back.
    CHECK(s["applied"] == 1);
    CHECK(s["merged"] == 1);
    CHECK(s["conflicts"] == 0);
    CHECK(s["pulled"] == 1);
    CHECK(s["divergence"].is_null());
  }
  SECTION("two edits of one record, the same field twice, in two batches") {
    w.a.Json({"case", "edit", id, "--phone", "0611223344"});
    w.a.Json({"case", "edit", id, "--phone", "0655667788"});
    json s = w.a.Json({"sync", "--batch", "1"});
    INFO(s.dump());
    CHECK(s["batches"] == 2);
    CHECK(s["applied"] == 1);
    CHECK(s["merged"] == 1);
    CHECK(s["conflicts"] == 0);
    CHECK(s["pulled"] == 1);
    CHECK(s["divergence"].is_null());
    CHECK(w.a.Show(id)["phone"] == "0655667788");
  }
  CHECK(w.a.Json({"status"})["pending"] == 0);
  CheckSameAsCentre(w.a, w.central);
  AddContact(w.a, "CCAS de Gap");
  json again = w.a.Sync();
  CHECK(again["pulled"] == 0);
  CHECK(again["checked"] == true);
  CHECK(again["divergence"].is_null());
  json b = w.b.Sync();
  CHECK(b["pulled"].get<int64_t>() >= 2);  // the edited case and the contact
  CheckSameAsCentre(w.b, w.central);
  CHECK(SqliteRows(w.a.db(), ScopeQueries()[0]) == SqliteRows(w.b.db(), ScopeQueries()[0]));
}

TEST_CASE("a create the centre normalises is pulled back by its author", "[e2e][echo]") {
  TwoDevices w;
  std::string id = w.a.AddCase("Girard", "Maël", kGap);
  // A row as an older or another client might send it: separators in the phone number, which the
  // centre's decoder drops.
  Exec(w.a.db(), "UPDATE cases SET phone = '06 11 22 33 44' WHERE id = '" + id + "'");
  json s = w.a.Sync();
  INFO(s.dump());
  CHECK(s["pulled"] == 1);
  CHECK(s["divergence"].is_null());
  CHECK(w.a.Show(id)["phone"] == "0611223344");
  CheckSameAsCentre(w.a, w.central);
}

TEST_CASE("a concurrent edit merged by the centre is pulled back by its author", "[e2e][echo]") {
  TwoDevices w;
  std::string id = w.SharedCase("Dubois", "Inès");
  w.b.Json({"case", "edit", id, "--phone", "0698765432"});
  w.a.Json({"case", "edit", id, "--email", "ines@exemple.fr"});
  CHECK(w.b.Sync()["applied"] == 1);
  json s = w.a.Sync();
  INFO(s.dump());
  CHECK(s["merged"] == 1);
  CHECK(s["pulled"] == 1);
  CHECK(w.a.Show(id)["phone"] == "0698765432");
  CHECK(w.a.Show(id)["email"] == "ines@exemple.fr");
  CheckSameAsCentre(w.a, w.central);
  AddContact(w.b, "Pôle emploi Gap");
  w.b.Sync();
  CheckSameAsCentre(w.b, w.central);
}

TEST_CASE("central staff's settlement of a device's record is pulled by that device", "[e2e][echo]") {
  TwoDevices w;
  std::string id = w.SharedCase("Roux", "Aïcha");
  w.a.Json({"case", "edit", id, "--status", "salarie"});
  w.b.Json({"case", "edit", id, "--status", "independant"});
  CHECK(w.a.Sync()["applied"] == 1);    // a's record, as a holds it
  CHECK(w.b.Sync()["conflicts"] == 1);  // held for review
  json open = json::parse(StaffConflicts(w.central, {"list", "--json"}));
  REQUIRE(open.size() == 1);
  StaffConflicts(w.central, {"resolve", std::to_string(open[0]["id"].get<int64_t>()), "--keep", "device"});

  AddContact(w.a, "Mission locale Embrun");
  json s = w.a.Sync();
  INFO(s.dump());
  CHECK(s["pulled"] == 1);
  CHECK(w.a.Show(id)["status"] == "independant");
  CHECK(s["divergence"].is_null());
  CheckSameAsCentre(w.a, w.central);
}

TEST_CASE("a fresh copy after a divergence receives the device's own records too", "[e2e][echo]") {
  TwoDevices w;
  REQUIRE(w.a.Cmd({"import", CasesFile(w.dir, 20, kGap)}).exit_code == 0);
  CHECK(w.a.Sync()["pulled"] == 0);
  const std::string lost = "0190a1b2-0000-7000-8000-000000000001";
  Exec(w.a.db(), "DELETE FROM cases WHERE id = '" + lost + "'");
  AddContact(w.a, "Cap emploi");
  json s = w.a.Sync();
  INFO(s.dump());
  CHECK(s["divergence"].is_string());
  CHECK(s["recovered_records"].get<int64_t>() >= 21);
  CHECK(w.a.Show(lost)["id"] == lost);
  CHECK(w.a.CaseCount() == 20);
  CheckSameAsCentre(w.a, w.central);
  AddContact(w.a, "Cap emploi Briançon");
  json again = w.a.Sync();
  CHECK(again["checked"] == true);
  CHECK(again["divergence"].is_null());
}

// ---- the divergence check covers values (issue 24, item 6) --------------------------------------

TEST_CASE("a value altered on disk in a synced replica is put back by the next sync", "[e2e][echo][digest]") {
  TwoDevices w;
  std::string id = w.SharedCase("Marchand", "Lucie");
  w.a.Json({"case", "edit", id, "--phone", "0611223344"});
  w.a.Sync();
  // Same id, same version: only the value differs from the centre's.
  Exec(w.a.db(), "UPDATE cases SET phone = '0699999999' WHERE id = '" + id + "'");
  json s = w.a.Sync();
  INFO(s.dump());
  CHECK(s["divergence"].is_string());
  CHECK(w.a.Show(id)["phone"] == "0611223344");
  CheckSameAsCentre(w.a, w.central);
  json again = w.a.Sync();
  CHECK(again["checked"] == true);
  CHECK(again["divergence"].is_null());
}

TEST_CASE("a value altered on disk under a pending edit is put back, the edit kept on top", "[e2e][echo][digest]") {
  TwoDevices w;
  std::string id = w.SharedCase("Marchand", "Lucie");
  Exec(w.a.db(), "UPDATE cases SET commune = 'Nulle part' WHERE id = '" + id + "'");
  w.a.Json({"case", "edit", id, "--email", "lucie@exemple.fr"});
  json s = w.a.Sync();
  INFO(s.dump());
  CHECK(s["applied"] == 1);
  CHECK(w.a.Show(id)["email"] == "lucie@exemple.fr");
  CHECK(w.a.Show(id)["commune"].is_null());
  CheckSameAsCentre(w.a, w.central);
}

TEST_CASE("a value altered on disk under a kept local change, after a pull rewrote the record, is put back",
          "[e2e][echo][digest]") {
  TwoDevices w;
  std::string id = w.SharedCase("Marchand", "Lucie");
  // b's change stays on b (the centre refused it, say): it is kept, on top of what b pulls.
  w.b.Json({"case", "edit", id, "--email", "lucie@exemple.fr"});
  Exec(w.b.db(), "UPDATE outbox SET state = 'rejected', reject_reason = 'refusée' WHERE record_id = '" + id + "'");
  w.a.Json({"case", "edit", id, "--phone", "0611223344"});
  w.a.Sync();
  json pulled = w.b.Sync();  // the centre's new version comes under b's change
  INFO(pulled.dump());
  CHECK(pulled["divergence"].is_null());
  REQUIRE(w.b.Show(id)["phone"] == "0611223344");
  // Another field of that record, altered on disk.
  Exec(w.b.db(), "UPDATE cases SET commune = 'Nulle part' WHERE id = '" + id + "'");
  json s = w.b.Sync();
  INFO(s.dump());
  CHECK(s["divergence"].is_string());
  CHECK(w.b.Show(id)["commune"].is_null());
  CHECK(w.b.Show(id)["email"] == "lucie@exemple.fr");  // the kept change still on top
  json again = w.b.Sync();
  CHECK(again["divergence"].is_null());
}

TEST_CASE("a phone sent as 06 12 34 56 78 ends up identical on the device and at the centre", "[e2e][echo][digest]") {
  TwoDevices w;
  std::string id = w.SharedCase("Marchand", "Lucie");
  w.a.Json({"case", "edit", id, "--phone", "0611223344"});
  w.a.Sync();
  // The device sends the number the centre holds, written with spaces, as another client might:
  // the centre normalises it to the value it has, and no new version is made.
  w.a.Json({"case", "edit", id, "--phone", "0655667788"});
  Exec(w.a.db(), "UPDATE outbox SET fields = replace(fields, '0655667788', '06 11 22 33 44')");
  Exec(w.a.db(), "UPDATE cases SET phone = '06 11 22 33 44' WHERE id = '" + id + "'");
  json s = w.a.Sync();
  INFO(s.dump());
  CHECK(s["applied"] == 1);
  CHECK(s["divergence"].is_null());  // the answer carried the stored value: nothing to recover
  CHECK(w.a.Show(id)["phone"] == "0611223344");
  CheckSameAsCentre(w.a, w.central);
}

// ---- Unicode forms (issue 24, item 7) ---------------------------------------------------------------

TEST_CASE("a person typed in decomposed form on one device and precomposed on another is one duplicate",
          "[e2e][echo][unicode]") {
  TwoDevices w;
  const std::string nfd_last = "Lefe\u0300vre", nfd_first = "E\u0301lodie";  // as macOS types them
  const std::string nfc_last = "Lefèvre", nfc_first = "Élodie";
  std::string by_a = w.a.Json({"case", "add", "--last-name", nfd_last, "--first-name", nfd_first, "--territory", kGap,
                               "--birth-date", "1985-02-03"})["id"];
  CHECK(w.a.Show(by_a)["last_name"] == nfc_last);  // stored in NFC from the first keystroke
  w.a.Sync();
  std::string by_b = w.b.Json({"case", "add", "--last-name", nfc_last, "--first-name", nfc_first, "--territory", kGap,
                               "--birth-date", "1985-02-03"})["id"];
  w.b.Sync();
  json open = json::parse(StaffConflicts(w.central, {"list", "--json"}));
  INFO(open.dump());
  REQUIRE(open.size() == 1);
  CHECK(open[0]["kind"] == "duplicate");
  w.a.Sync();
  for (const std::string& query : {nfd_last, nfc_last, nfd_first + " " + nfd_last}) {
    INFO(query);
    json found = w.a.Json({"case", "search", query});
    CHECK(found.size() == 2);
  }
  CheckSameAsCentre(w.a, w.central);
}
