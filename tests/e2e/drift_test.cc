// End-to-end: a replica that drifted from the centre on disk is found and put back — a follow-up
// left without its case, at the end of every pull; every record's value, by `relais verify`.
// Real `relais-central serve`, real `relais`, rows altered with SQLite as a person would.
#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"
#include "tests/e2e/same_as_centre.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

}  // namespace

TEST_CASE("a follow-up left without its case is found at the end of the pull, and the case fetched again",
          "[e2e][drift][orphans]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), b(dir, "b");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  const std::string id = a.AddCase("Marchand", "Lucie", kGap);
  a.Json({"followup", "add", id, "--kind", "accueil", "--text", "Premier accueil."});
  a.Json({"followup", "add", id, "--kind", "entretien", "--text", "Entretien."});
  a.Sync();
  REQUIRE(b.Sync()["pulled"] == 3);

  // The case's row goes, on disk: its two follow-ups are left without it.
  Exec(b.db(), "DELETE FROM cases WHERE id = '" + id + "'");
  json s = b.Sync();
  INFO(s.dump());
  REQUIRE(s["orphans"].is_array());
  CHECK(s["orphans"].size() == 2);
  CHECK(s["divergence"].get<std::string>().find("2 suivi(s) sans leur dossier") != std::string::npos);
  CHECK(b.Show(id)["followups"].size() == 2);
  CHECK(Count(b.db(), "SELECT count(*) FROM followups f WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = "
                      "f.case_id)") == 0);
  CheckSameAsCentre(b, central);
  json again = b.Sync();
  CHECK(again["divergence"].is_null());
  CHECK(again["orphans"].empty());
}

TEST_CASE("relais verify finds every record altered on disk, in a bucket a sync does not check, and it is put back",
          "[e2e][drift][verify]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), b(dir, "b");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  // More cases than one sync checks against their kept digests (4,096 a table): two buckets.
  const int n = 5000;
  REQUIRE(a.Cmd({"import", CasesFile(dir, n, kGap)}).exit_code == 0);
  a.Sync();
  REQUIRE(b.Sync()["pulled"] == n);

  // Six records altered under their kept digests, all in the bucket (digest_key modulo 2) the next
  // sync does not check against the rows: that sync alone would not see them.
  const int64_t round =
      Count(b.db(), "SELECT coalesce((SELECT value FROM sync_state WHERE key = 'digest_check_round'), 0)");
  const std::string unchecked = std::to_string(1 - round % 2);
  Exec(b.db(),
       "UPDATE cases SET phone = '0699999999' WHERE id IN (SELECT id FROM cases WHERE (digest_key & 1) = " +
           unchecked + " ORDER BY id LIMIT 3)");
  Exec(b.db(),
       "UPDATE cases SET commune = 'Nulle part' WHERE id IN (SELECT id FROM cases WHERE (digest_key & 1) = " +
           unchecked + " ORDER BY id DESC LIMIT 3)");
  std::set<std::string> altered;
  for (const std::string& row :
       SqliteRows(b.db(), "SELECT id FROM cases WHERE phone = '0699999999' OR commune = 'Nulle part'")) {
    altered.insert(row);
  }
  REQUIRE(altered.size() == 6);

  json checked = b.Json({"verify", "--local"});
  INFO(checked.dump());
  CHECK(checked["records"] == n);
  std::set<std::string> found;
  for (const json& r : checked["altered"]) {
    CHECK(r["table"] == "cases");
    found.insert(r["record"].get<std::string>());
  }
  CHECK(found == altered);
  CHECK(checked["centre_checked"] == false);
  CHECK(Count(b.db(), "SELECT count(*) FROM cases WHERE phone = '0699999999' OR commune = 'Nulle part'") == 6);

  SECTION("the next sync puts every one back") {
    json s = b.Sync();
    INFO(s.dump());
    CHECK(s["divergence"].is_string());
  }
  SECTION("relais verify asks the centre and puts every one back") {
    json v = b.Json({"verify"});
    INFO(v.dump());
    CHECK(v["centre_checked"] == true);
    CHECK(v["divergence"].is_string());
    CHECK(v["recovered_records"].get<int64_t>() >= n);
  }
  CHECK(Count(b.db(), "SELECT count(*) FROM cases WHERE phone = '0699999999' OR commune = 'Nulle part'") == 0);
  CheckSameAsCentre(b, central);
  json again = b.Json({"verify"});
  CHECK(again["altered"].empty());
  CHECK(again["centre_checked"] == true);
  CHECK(again["divergence"].is_null());
}

TEST_CASE("relais verify says in French which records differ", "[e2e][drift][verify]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), b(dir, "b");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  const std::string id = a.AddCase("Marchand", "Lucie", kGap);
  a.Sync();
  b.Sync();
  Exec(b.db(), "UPDATE cases SET phone = '0699999999' WHERE id = '" + id + "'");
  RunResult r = b.Cmd({"verify"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("1 fiche(s) diffèrent de ce que le centre a envoyé") != std::string::npos);
  CHECK(r.out.find("dossier Marchand Lucie (" + id + ")") != std::string::npos);
  CHECK(r.out.find("recopiée(s) du centre") != std::string::npos);
  CHECK(b.Show(id)["phone"].is_null());
}
