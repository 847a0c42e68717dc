// End-to-end: a centre that loses part of its history — restored from a backup, reinstalled empty,
// moved to a new address — and devices that hold what it lost (docs/PROTOCOL.md, "Centre identity").
// Nothing any device holds is lost: it is pushed back, and staff are told.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

// What a store or a replica holds of every record, values included (not versions: a record pushed
// back takes a new one), one line per record.
const char* const kContentSql =
    "SELECT 'case', id, last_name, first_name, phone, email, notes, territory FROM cases "
    "UNION ALL SELECT 'followup', id, case_id, kind, date, text, author, NULL FROM followups "
    "UNION ALL SELECT 'contact', id, organisation, kind, phone, email, role, NULL FROM contacts ORDER BY 2";

std::vector<std::string> CentreContent(const Central& c) { return c.Rows(kContentSql); }
std::vector<std::string> ReplicaContent(const Device& d) { return SqliteRows(d.db(), kContentSql); }

json Recovered(const Central& c) {
  std::vector<std::string> args = {CentralBinary(), "recovered", "--json"};
  for (const std::string& a : c.StoreArgs()) args.push_back(a);
  RunResult r = Run(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

bool Says(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a centre restored from a backup loses nothing that a device still holds", "[e2e][restore]") {
  // Told by the operator (`relais-central restore`, `restored`), or found by the devices alone.
  const bool declared = GENERATE(true, false);
  INFO((declared ? "restore declared" : "restore found by the devices"));
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), b(dir, "b");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  const std::string first = a.AddCase("Martin", "Zoé", kGap);
  const std::string second = a.AddCase("Girard", "Inès", kGap);
  a.Sync();
  b.Sync();
  central.Backup();

  // Seven changes after the backup, pushed and pulled by both devices.
  const std::string created_a = a.AddCase("Névache", "Maël", kGap);                                 // 1
  a.Json({"case", "edit", first, "--phone", "0611223344"});                                         // 2
  a.Json({"followup", "add", first, "--kind", "entretien", "--text", "Entretien du 2 décembre."});  // 3
  a.Sync();
  const std::string created_b = b.AddCase("Roux", "Aïcha", kGap);  // 4
  b.Json({"case", "edit", second, "--notes", "Rappeler lundi."});  // 5
  const std::string contact =
      b.Json({"contact", "add", "--organisation", "Mission locale Gap", "--kind", "jeunes"})["id"]
          .get<std::string>();                                   // 6
  b.Json({"case", "edit", first, "--email", "zoe@exemple.fr"});  // 7
  b.Sync();
  a.Sync();
  b.Sync();
  const std::vector<std::string> before = CentreContent(central);
  REQUIRE(ReplicaContent(a) == before);
  REQUIRE(ReplicaContent(b) == before);

  central.RestoreBackup(declared);
  central.Start();
  REQUIRE(CentreContent(central) != before);  // the restored store lost the seven changes
  // Offline work of b waiting to be sent meanwhile: kept, and sent.
  b.Json({"case", "edit", second, "--phone", "0699887766"});

  json first_sync = a.Sync();
  INFO(first_sync.dump());
  CHECK(first_sync["centre_restored"] == true);
  // a held three records the centre lost (two cases, a follow-up) and b's contact, pulled; and
  // newer versions of the two cases edited.
  CHECK(first_sync["pushed_back"] == 6);
  CHECK(first_sync["rejected"] == 0);
  json second_sync = b.Sync();
  INFO(second_sync.dump());
  CHECK(second_sync["centre_restored"] == true);
  CHECK(second_sync["rejected"] == 0);
  a.Sync();
  b.Sync();

  const std::vector<std::string> after = CentreContent(central);
  CHECK(ReplicaContent(a) == after);
  CHECK(ReplicaContent(b) == after);
  for (const std::string& line : before) {
    if (Says(line, second)) continue;  // its phone changed since, below
    CHECK(std::find(after.begin(), after.end(), line) != after.end());
  }
  CHECK(a.Show(first)["phone"] == "0611223344");
  CHECK(a.Show(first)["email"] == "zoe@exemple.fr");
  CHECK(a.Show(first)["followups"].size() == 1);
  CHECK(a.Show(second)["notes"] == "Rappeler lundi.");
  CHECK(a.Show(second)["phone"] == "0699887766");
  CHECK(a.Show(created_b)["last_name"] == "Roux");
  CHECK(b.Show(created_a)["last_name"] == "Névache");
  CHECK(b.Json({"contact", "show", contact})["organisation"] == "Mission locale Gap");
  CHECK(a.Json({"status"})["pending"] == 0);
  CHECK(b.Json({"status"})["pending"] == 0);

  // Staff are told what came back, and from which device.
  json notes = Recovered(central);
  INFO(notes.dump());
  REQUIRE(notes.size() == 6);
  for (const json& n : notes) CHECK(n["device"] == "a");
  std::vector<std::string> args = {CentralBinary(), "recovered"};
  for (const std::string& s : central.StoreArgs()) args.push_back(s);
  RunResult listing = Run(args);
  CHECK(Says(listing.out, "6 fiche(s) renvoyée(s) par les appareils après une restauration"));
  CHECK(Says(listing.out, created_a));
}

TEST_CASE("a centre reinstalled empty at the same address gets back what the laptop holds", "[e2e][restore]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  const std::string id = a.AddCase("Martin", "Zoé", kGap);
  a.Json({"followup", "add", id, "--kind", "accueil", "--text", "Premier accueil."});
  a.AddCase("Girard", "Inès", kGap);
  a.Sync();
  a.Json({"case", "edit", id, "--notes", "En attente du centre."});  // pending when the centre goes
  const std::vector<std::string> held = ReplicaContent(a);

  central.Reinstall();
  central.Start();
  REQUIRE(central.Count("SELECT count(*) FROM cases") == 0);
  RunResult init = a.Cmd({"init", "--server", central.url(), "--token", central.Enrol("a", {kGap})});
  INFO(init.err);
  REQUIRE(init.exit_code == 0);
  json s = a.Sync();
  INFO(s.dump());
  CHECK(s["centre_restored"] == true);
  CHECK(s["pushed_back"] == 3);
  CHECK(s["rejected"] == 0);
  CHECK(ReplicaContent(a) == held);
  CHECK(CentreContent(central) == held);
  CHECK(a.Json({"status"})["pending"] == 0);
  CHECK(Recovered(central).size() == 3);
}

TEST_CASE("a centre's address however written, or a new address it confirms, is the same centre", "[e2e][restore]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  const std::string token = central.Enrol("a", {kGap});
  a.Init(central, token);
  const std::string id = a.AddCase("Martin", "Zoé", kGap);
  a.Sync();
  const std::string port = central.url().substr(central.url().rfind(':') + 1);

  SECTION("a trailing slash, and localhost for 127.0.0.1") {
    for (const std::string& url :
         {central.url() + "/", "http://localhost:" + port, "http://LocalHost:" + port + "//"}) {
      RunResult r = a.Cmd({"init", "--server", url, "--token", token});
      INFO(url << ": " << r.err);
      CHECK(r.exit_code == 0);
      a.Json({"case", "edit", id, "--phone", "06112233" + std::to_string(10 + url.size() % 80)});
      json s = a.Sync();
      CHECK(s["rejected"] == 0);
      CHECK(s["centre_restored"] == false);
    }
    CHECK(a.CaseCount() == 1);
  }

  SECTION("a centre moved to a new address is followed with --same-centre") {
    a.Json({"case", "edit", id, "--notes", "Saisi avant le déménagement."});
    central.Kill(SIGTERM);
    central.MoveOnNextStart();
    central.Start();
    const std::string hash = a.ContentHash();
    RunResult refused = a.Cmd({"init", "--server", central.url(), "--token", token});
    CHECK(refused.exit_code == 2);
    CHECK(Says(refused.err, "--same-centre"));
    CHECK(a.ContentHash() == hash);
    RunResult moved = a.Cmd({"init", "--server", central.url(), "--token", token, "--same-centre"});
    INFO(moved.err);
    REQUIRE(moved.exit_code == 0);
    json s = a.Sync();
    CHECK(s["pushed"] == 1);
    CHECK(s["centre_restored"] == false);
    CHECK(central.Rows("SELECT notes FROM cases WHERE id = '" + id + "'").at(0) == "Saisi avant le déménagement.");
  }

  SECTION("another centre is refused, even with --same-centre, and the replica is unchanged") {
    TempDir other_dir;
    Central other(other_dir.path());
    other.Start();
    const std::string hash = a.ContentHash();
    RunResult refused = a.Cmd({"init", "--server", other.url(), "--token", other.Enrol("a", {kGap}), "--same-centre"});
    CHECK(refused.exit_code == 2);
    CHECK(Says(refused.err, "n'est pas celui de cette base"));
    CHECK(a.ContentHash() == hash);
  }
}

TEST_CASE("a revoked device keeps its pending work and sends it after init with a new token", "[e2e][restore]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  const std::string id = a.AddCase("Martin", "Zoé", kGap);
  a.Sync();
  a.Json({"case", "edit", id, "--phone", "0611223344"});
  a.AddCase("Girard", "Inès", kGap);
  std::vector<std::string> revoke = {CentralBinary(), "device", "revoke", "a"};
  for (const std::string& s : central.StoreArgs()) revoke.push_back(s);
  REQUIRE(Run(revoke).exit_code == 0);

  RunResult refused = a.Cmd({"sync"});
  CHECK(refused.exit_code == 1);
  INFO(refused.err);
  CHECK(Says(refused.err, "révoqué"));
  CHECK(Says(refused.err, "vos saisies en attente restent dans cette base"));
  CHECK(Says(refused.err, "relais init --server ADRESSE --token NOUVEAU"));
  CHECK_FALSE(Says(refused.err, "revoked"));
  CHECK(a.Json({"status"})["pending"] == 2);

  std::vector<std::string> add = {CentralBinary(), "device", "add", "--name", "a2", "--territory", kGap, "--json"};
  for (const std::string& s : central.StoreArgs()) add.push_back(s);
  RunResult enrolled = Run(add);
  REQUIRE(enrolled.exit_code == 0);
  const std::string token = json::parse(enrolled.out)["token"].get<std::string>();
  REQUIRE(a.Cmd({"init", "--server", central.url(), "--token", token}).exit_code == 0);
  CHECK(a.Json({"status"})["pending"] == 2);
  json s = a.Sync();
  CHECK(s["pushed"] == 2);
  CHECK(s["rejected"] == 0);
  CHECK(central.Rows("SELECT phone FROM cases WHERE id = '" + id + "'").at(0) == "0611223344");
  CHECK(central.Count("SELECT count(*) FROM cases") == 2);
}
