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

namespace {

const std::string kBastia = "corse-bastia";

// Cases and follow-ups of `territories` at the centre, as a replica of those territories holds them.
std::vector<std::string> ScopeContent(const Central& c, const std::string& territories) {
  return c.Rows("SELECT 'case', id, last_name, phone, notes, territory FROM cases WHERE territory IN (" + territories +
                ") UNION ALL SELECT 'followup', id, case_id, text, NULL, NULL FROM followups WHERE territory IN (" +
                territories + ") ORDER BY 2");
}
std::vector<std::string> HeldContent(const Device& d) {
  return SqliteRows(d.db(),
                    "SELECT 'case', id, last_name, phone, notes, territory FROM cases UNION ALL SELECT 'followup', id, "
                    "case_id, text, NULL, NULL FROM followups ORDER BY 2");
}

}  // namespace

TEST_CASE("a case moved into a territory in the history a restore lost comes back there, from the device that held it",
          "[e2e][restore]") {
  const bool declared = GENERATE(true, false);
  // Who syncs first after the restore: the device of the territory the case went to (it pushes the
  // case back as a create of an id the centre holds), or the one that moved it (an update).
  const bool receiver_first = GENERATE(true, false);
  INFO((declared ? "restore declared" : "restore found by the devices")
       << (receiver_first ? ", receiver first" : ", mover first"));
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device mover(dir, "m"), a(dir, "a"), b(dir, "b");
  mover.Init(central, central.Enrol("m", {kGap, kBastia}));
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kBastia}));
  const std::string id = mover.AddCase("Santini", "Paul", kGap);
  mover.Sync();
  a.Sync();
  b.Sync();
  central.Backup();

  // Lost by the restore: the move to Bastia, and what b wrote on the case there.
  mover.Json({"case", "edit", id, "--territory", kBastia});
  mover.Sync();
  b.Sync();
  b.Json({"followup", "add", id, "--kind", "entretien", "--text", "Vu à Bastia."});
  b.Json({"case", "edit", id, "--notes", "Suivi à Bastia."});
  b.Sync();
  a.Sync();
  mover.Sync();
  REQUIRE(b.Show(id)["territory"] == kBastia);

  central.RestoreBackup(declared);
  central.Start();
  REQUIRE(central.Rows("SELECT territory FROM cases WHERE id = '" + id + "'").at(0) == kGap);
  // An edit made at the centre's side after the restore, by the territory the case was left in.
  a.Sync();
  a.Json({"case", "edit", id, "--phone", "0622222222"});
  a.Sync();

  std::vector<const Device*> order = {&b, &mover, &a};
  if (!receiver_first) std::swap(order[0], order[1]);
  for (int pass = 0; pass < 2; ++pass) {
    for (const Device* d : order) {
      json s = d->Sync();
      INFO(s.dump());
      CHECK(s["rejected"] == 0);
    }
  }

  CHECK(central.Rows("SELECT territory FROM cases WHERE id = '" + id + "'").at(0) == kBastia);
  CHECK(central.Rows("SELECT notes FROM cases WHERE id = '" + id + "'").at(0) == "Suivi à Bastia.");
  CHECK(central.Rows("SELECT phone FROM cases WHERE id = '" + id + "'").at(0) == "0622222222");
  CHECK(central.Count("SELECT count(*) FROM followups WHERE case_id = '" + id + "' AND territory = '" + kBastia +
                      "'") == 1);
  CHECK(HeldContent(b) == ScopeContent(central, "'" + kBastia + "'"));
  CHECK(HeldContent(a) == ScopeContent(central, "'" + kGap + "'"));
  CHECK(HeldContent(mover) == ScopeContent(central, "'" + kGap + "', '" + kBastia + "'"));
  for (const Device* d : {&a, &b, &mover}) {
    CHECK(SqliteRows(d->db(), "SELECT count(*) FROM outbox").at(0) == "0");
  }
  // The recovery is in the case's history (a version by the device that pushed it back) and in what
  // staff read (relais-central recovered), with the version it was given.
  CHECK(central.Count("SELECT count(*) FROM recoveries WHERE record_id = '" + id + "' AND used_seq IS NOT NULL") >= 1);
  CHECK(central.Count("SELECT count(*) FROM history h JOIN recoveries r ON r.used_seq = h.seq WHERE r.record_id = '" +
                      id + "'") >= 1);
}

TEST_CASE("a device cannot take a case it never held by claiming it back after a restore", "[e2e][restore]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), c(dir, "c");
  a.Init(central, central.Enrol("a", {kGap}));
  c.Init(central, central.Enrol("c", {kBastia}));
  const std::string id = a.AddCase("Martin", "Zoé", kGap);
  a.Sync();
  c.Sync();
  central.Backup();
  a.Json({"case", "edit", id, "--phone", "0611223344"});
  a.Sync();
  central.RestoreBackup(/*declare=*/true);
  central.Start();
  c.Sync();
  const std::vector<std::string> before = CentreContent(central);

  // c knows the case's id, not the person: it writes the case into its replica as a create it pushes
  // back, with a note claiming a version the centre lost.
  Exec(
      c.db(),
      "INSERT INTO cases(id, last_name, first_name, territory, opened_on, version) VALUES ('" + id +
          "', 'Inconnu', 'Anonyme', '" + kBastia +
          "', '2026-01-01', 0); INSERT OR REPLACE INTO sync_state(key, value) VALUES ('recovery_note', 'create cases " +
          id + " 999999')");
  json s = c.Sync();
  INFO(s.dump());
  CHECK(s["rejected"] == 1);
  CHECK(central.Count("SELECT count(*) FROM recoveries WHERE device = 'c' AND lost_version IS NOT NULL") == 1);
  CHECK(CentreContent(central) == before);
  CHECK(central.Rows("SELECT territory FROM cases WHERE id = '" + id + "'").at(0) == kGap);
  CHECK(SqliteRows(c.db(), "SELECT reject_code FROM outbox WHERE state = 'rejected'") ==
        std::vector<std::string>{"record_exists"});
}

TEST_CASE("a version pushed back after a restore meets an edit made at the centre since through the field rules",
          "[e2e][restore]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), c(dir, "c");
  a.Init(central, central.Enrol("a", {kGap}));
  c.Init(central, central.Enrol("c", {kGap}));
  const std::string id = a.AddCase("Martin", "Zoé", kGap);
  a.Sync();
  c.Sync();
  central.Backup();
  // Lost by the restore; a still holds it.
  a.Json(
      {"case", "edit", id, "--phone", "0611111111", "--notes", "Avant la restauration.", "--email", "zoe@exemple.fr"});
  a.Sync();

  central.RestoreBackup(/*declare=*/true);
  central.Start();
  // c, which never saw a's version, edits the case after the restore: the later edit.
  c.Sync();
  c.Json({"case", "edit", id, "--phone", "0633333333", "--notes", "Après la restauration."});
  c.Sync();

  json s = a.Sync();
  INFO(s.dump());
  CHECK(s["centre_restored"] == true);
  CHECK(s["rejected"] == 0);
  c.Sync();
  a.Sync();

  // Last-writer-wins: the edit made after the restore is the later one; a's value is in the history.
  CHECK(central.Rows("SELECT phone FROM cases WHERE id = '" + id + "'").at(0) == "0633333333");
  CHECK(central.Count("SELECT count(*) FROM history WHERE record_id = '" + id + "' AND lost LIKE '%0611111111%'") == 1);
  // A review field edited on both sides: central staff choose.
  CHECK(central.Rows("SELECT notes FROM cases WHERE id = '" + id + "'").at(0) == "Après la restauration.");
  CHECK(central.Count("SELECT count(*) FROM conflicts WHERE record_id = '" + id +
                      "' AND field = 'notes' AND status = 'open' AND device_value = 'Avant la restauration.' AND "
                      "server_value = 'Après la restauration.'") == 1);
  // A field nobody touched since the restore takes the value pushed back.
  CHECK(central.Rows("SELECT email FROM cases WHERE id = '" + id + "'").at(0) == "zoe@exemple.fr");
  CHECK(ReplicaContent(a) == CentreContent(central));
  CHECK(ReplicaContent(c) == CentreContent(central));
}

TEST_CASE("a merge of duplicates that the restore lost is put before staff again, and nothing of either case is lost",
          "[e2e][restore]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  auto staff = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {CentralBinary(), "conflicts"});
    for (const std::string& s : central.StoreArgs()) args.push_back(s);
    RunResult r = Run(args);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  auto add = [&](const std::string& last, const std::string& first) {
    return a
        .Json({"case", "add", "--last-name", last, "--first-name", first, "--birth-date", "1990-04-12", "--territory",
               kGap})["id"]
        .get<std::string>();
  };
  const std::string first = add("Lefèvre", "Élodie");
  a.Sync();
  central.Backup();

  // After the backup: the same person again, a follow-up on her, and staff merge the two.
  const std::string second = add("LEFEVRE", "Elodie");
  a.Json({"followup", "add", second, "--kind", "entretien", "--text", "Entretien à Briançon."});
  a.Sync();
  json open = json::parse(staff({"list", "--status", "open", "--json"}));
  REQUIRE(open.size() == 1);
  REQUIRE(open[0]["kind"] == "duplicate");
  staff({"merge", std::to_string(open[0]["id"].get<int64_t>()), "--by", "claire-centre"});
  a.Sync();
  REQUIRE(a.Show(second)["id"] == first);  // the device follows the redirect

  central.RestoreBackup(true);
  central.Start();
  json back = a.Sync();
  INFO(back.dump());
  CHECK(back["rejected"] == 0);
  a.Sync();

  // The merge is not made again by a device (merged_into is staff's): the duplicate is open again,
  // for staff to settle as before; both cases and the follow-up are on the centre.
  json again = json::parse(staff({"list", "--status", "open", "--json"}));
  INFO(again.dump());
  REQUIRE(again.size() == 1);
  CHECK(again[0]["kind"] == "duplicate");
  CHECK(again[0]["record"] == second);
  CHECK(again[0]["other"] == first);
  CHECK(central.Count("SELECT count(*) FROM cases WHERE id IN ('" + first + "', '" + second + "')") == 2);
  CHECK(central.Count("SELECT count(*) FROM followups WHERE text = 'Entretien à Briançon.'") == 1);
  CHECK(CentreContent(central) == ReplicaContent(a));
  staff({"merge", std::to_string(again[0]["id"].get<int64_t>()), "--by", "claire-centre"});
  a.Sync();
  CHECK(a.Show(second)["id"] == first);
  CHECK(a.Show(first)["followups"].size() == 1);
}
