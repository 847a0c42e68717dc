// The access log (issue 27; docs/PRIVACY.md, "Access log"): every read of a person's case on a
// device reaches the centre with the syncs, exactly once even when syncs and the centre are
// SIGKILLed midway; staff reads are logged at the centre; `relais-central access-log` lists them by
// case or by device; a search keeps its result count, never its words. On SQLite and, as
// test_e2e_pg, on PostgreSQL.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

json AccessLog(const Central& central, std::vector<std::string> args) {
  std::vector<std::string> argv = {CentralBinary(), "access-log"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  for (const std::string& a : central.StoreArgs()) argv.push_back(a);
  RunResult r = Run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

RunResult CentralCmd(const Central& central, std::vector<std::string> args) {
  std::vector<std::string> argv = {CentralBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const std::string& a : central.StoreArgs()) argv.push_back(a);
  return Run(argv);
}

int64_t Pending(const Device& device) { return device.Json({"status"})["access_log_pending"].get<int64_t>(); }

std::vector<std::string> Actions(const json& entries) {
  std::vector<std::string> out;
  for (const json& e : entries) out.push_back(e["device"].get<std::string>() + ":" + e["action"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("reads on a device and at the centre are logged, listed by case and by device, searches as a count",
          "[e2e][rgpd][accesslog]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  const std::string person = a.AddCase("Ferrandou", "Maëlle", kGap);
  const std::string other = a.AddCase("Vial", "Hugo", kGap);
  a.Json({"followup", "add", person, "--kind", "entretien", "--text", "Premier entretien"});
  a.Sync();
  CHECK(Pending(a) == 0);  // adding and syncing read nothing

  a.Show(person);
  a.Json({"followup", "list", person});
  const json found = a.Json({"case", "search", "Ferrandou"});
  REQUIRE(found.size() == 1);
  CHECK(Pending(a) == 3);
  const json sync = a.Sync();
  CHECK(sync["access_log_sent"] == 3);
  CHECK(Pending(a) == 0);

  RunResult history = CentralCmd(central, {"history", person});
  INFO(history.err);
  REQUIRE(history.exit_code == 0);
  const json entries = AccessLog(central, {person});
  CHECK(Actions(entries) == std::vector<std::string>{"a:consultation", "a:suivis", "centre:historique"});
  CHECK(entries[0]["case_id"] == person);
  CHECK(entries[2]["by"].get<std::string>().size() > 0);
  CHECK(AccessLog(central, {other}).empty());  // nobody read Hugo's case

  // By device: the search is there, with its count and without its words.
  const json by_device = AccessLog(central, {"--device", "a", "--since", "2000-01-01"});
  REQUIRE(by_device.size() == 3);
  CHECK(by_device[2]["action"] == "recherche");
  CHECK(by_device[2]["results"] == 1);
  CHECK(by_device[2]["case_id"].is_null());
  CHECK(central.Count("SELECT count(*) FROM access_log WHERE action = 'recherche'") == 1);
  for (const std::string& row : central.Rows("SELECT * FROM access_log")) CHECK(row.find("Ferrandou") == std::string::npos);
  CHECK(AccessLog(central, {"--device", "a", "--since", "2099-01-01"}).empty());

  // The person's file lists who read the case, its own making excepted.
  RunResult file = CentralCmd(central, {"person", "export", person});
  INFO(file.err);
  REQUIRE(file.exit_code == 0);
  CHECK(Actions(json::parse(file.out)["access_log"]) ==
        std::vector<std::string>{"a:consultation", "a:suivis", "centre:historique"});
  CHECK(Actions(AccessLog(central, {person})).back() == "centre:export-personne");

  // The human listing speaks French.
  RunResult listing = CentralCmd(central, {"access-log", person});
  REQUIRE(listing.exit_code == 0);
  CHECK_THAT(listing.out, Catch::Contains("fiche consultée") && Catch::Contains("historique consulté") &&
                              Catch::Contains("4 lecture(s) du dossier " + person));
  // Both a case and a device: refused, saying why.
  RunResult both = CentralCmd(central, {"access-log", person, "--device", "a"});
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Catch::Contains("pas les deux"));
}

TEST_CASE("the centre refuses a wrong access-log entry whole, and keeps an entry sent twice once",
          "[e2e][rgpd][accesslog]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  const std::string token = central.Enrol("a", {kGap});
  const std::string case_id = "0190a1b2-0000-7000-8000-000000000001";
  auto post = [&](const json& body) {
    httplib::Client client(central.url());
    httplib::Headers headers = {{"Authorization", "Bearer " + token}, {"Relais-Protocol", "1"}};
    auto answer = client.Post("/v1/access-log", headers, body.dump(), "application/json");
    REQUIRE(answer);
    INFO(answer->body);
    return std::make_pair(answer->status, json::parse(answer->body, nullptr, false));
  };
  const json good = {{"id", "0190a1b2-0000-7000-8000-0000000000a1"}, {"at", "2026-12-07T09:30:00Z"},
                     {"by", "cmartin"},
                     {"action", "consultation"},
                     {"case_id", case_id},
                     {"results", nullptr}};
  json wrong = good;
  wrong["id"] = "0190a1b2-0000-7000-8000-0000000000a2";
  wrong["at"] = "07/12/2026 09:30";
  auto [refused, why] = post({{"entries", {good, wrong}}});
  CHECK(refused == 400);
  CHECK_THAT(why.dump(), Catch::Contains("entries[1]") && Catch::Contains("at :"));
  CHECK(central.Count("SELECT count(*) FROM access_log") == 0);  // the good one was not kept either

  auto [first, once] = post({{"entries", {good}}});
  CHECK(first == 200);
  CHECK(once["new"] == 1);
  const std::vector<std::string> after_first = central.Rows("SELECT * FROM access_log ORDER BY id");
  auto [again, twice] = post({{"entries", {good}}});
  CHECK(again == 200);
  CHECK(twice["new"] == 0);
  CHECK(central.Rows("SELECT * FROM access_log ORDER BY id") == after_first);

  json search = good;
  search["id"] = "0190a1b2-0000-7000-8000-0000000000a3";
  search["action"] = "recherche";  // a search names no case and gives its count
  auto [no_count, reason] = post({{"entries", {search}}});
  CHECK(no_count == 400);
  CHECK_THAT(reason.dump(), Catch::Contains("entries[0]"));
  CHECK(central.Rows("SELECT * FROM access_log ORDER BY id") == after_first);
}

TEST_CASE("access-log entries reach the centre exactly once through SIGKILL-cut syncs and centre kills",
          "[e2e][rgpd][accesslog][crash]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  REQUIRE(a.Cmd({"import", CasesFile(dir, 4000, kGap)}).exit_code == 0);
  a.Sync();
  // Two exports of 4,000 cases and a few reads: 8,003 entries, two parts of 5,000 and less.
  for (int i = 0; i < 2; ++i) REQUIRE(a.Cmd({"export", "--kind", "cases"}).exit_code == 0);
  a.Show(GeneratedCaseId(7));
  a.Json({"followup", "list", GeneratedCaseId(8)});
  a.Json({"case", "search", "Roux"});
  const int64_t made = Pending(a);
  REQUIRE(made == 8003);

  constexpr int kRounds = 20;
  std::mt19937 random(20261207);
  int kills_running = 0;
  for (int round = 0; round < kRounds; ++round) {
    if (round % 2 == 0) {
      // A delay under test (the instant of the kill), not an order of events.
      const int delay = std::uniform_int_distribution<int>(0, 120)(random);
      kills_running += RunAndKill({RelaisBinary(), "--db", a.db(), "sync", "--attempts", "1"}, delay) ? 1 : 0;
    } else {
      const int delay = std::uniform_int_distribution<int>(0, 120)(random);
      std::thread killer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        central.Kill(SIGKILL);
      });
      RunResult r = a.Cmd({"sync", "--attempts", "1"});
      killer.join();
      if (r.exit_code != 0) ++kills_running;
      central.Start();  // same port: the replica stays bound
    }
    CHECK(QueryText(a.db(), "PRAGMA integrity_check") == "ok");
    // Nothing the device forgot is missing at the centre, at any instant.
    const int64_t held = central.Count("SELECT count(*) FROM access_log WHERE device = 'a'");
    CHECK(held + Pending(a) >= made);
  }
  a.Sync();
  CHECK(Pending(a) == 0);
  CHECK(central.Count("SELECT count(*) FROM access_log WHERE device = 'a'") == made);
  CHECK(central.Count("SELECT count(DISTINCT id) FROM access_log") == made);
  WARN("kills that found a sync at work: " << kills_running << " of " << kRounds);
}

TEST_CASE("an access-log entry the centre refuses stays on the device, says why, and the sync still pulls",
          "[e2e][rgpd][accesslog]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  Device b(dir, "b");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  a.Sync();
  // An entry the centre finds wrong (an action it does not know), as a damaged replica would hold.
  Exec(a.db(), "INSERT INTO access_log (id, at, reader, action, case_id) VALUES "
               "('0190a1b2-0000-7000-8000-0000000000b1', '2026-12-07T09:30:00Z', 'cmartin', 'bidon', "
               "'0190a1b2-0000-7000-8000-000000000001')");
  const std::string from_b = b.AddCase("Vial", "Hugo", kGap);
  b.Sync();
  const json sync = a.Sync();
  CHECK_THAT(sync["access_log_refused"].get<std::string>(), Catch::Contains("entries[0]"));
  CHECK(Pending(a) == 1);                                         // kept
  CHECK(a.Show(from_b)["first_name"] == "Hugo");                  // the pull still came
  CHECK(central.Count("SELECT count(*) FROM access_log WHERE device = 'a'") == 0);
  RunResult human = a.Cmd({"sync"});
  CHECK(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::Contains("journal des accès refusé par le centre"));
}
