// Retention on devices (issue 27; docs/PRIVACY.md, "Retention"): a case closed longer than the
// network's device limit (90 days by default) leaves the replica at a sync, with its follow-ups,
// while the centre keeps it; the divergence check still counts it as held, so no fresh copy brings
// it back. The clock: closing dates 91 and 86 days ago, then five days later by libfaketime.
#include <catch2/catch.hpp>

#include <ctime>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

// The day `days` days before today, in this machine's time zone (the device's "today").
std::string DaysAgo(int days) {
  std::time_t then = std::time(nullptr) - static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  localtime_r(&then, &tm);
  char day[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  return day;
}

int64_t Held(const Device& d, const std::string& table, const std::string& case_column, const std::string& id) {
  return Count(d.db(), "SELECT count(*) FROM " + table + " WHERE " + case_column + " = '" + id + "'");
}

void Succeeds(const RunResult& r) {
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("closed cases leave a device after the device limit, stay at the centre, and are not fetched again",
          "[e2e][rgpd][retention]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  Device b(dir, "b");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  b.Sync();  // b now follows the centre: its next syncs ask whoami, and so learn the limit

  const std::string old_case = a.AddCase("Ancelin", "Rémi", kGap);
  const std::string recent = a.AddCase("Brunet", "Lise", kGap);
  const std::string open = a.AddCase("Chabert", "Noé", kGap);
  a.Json({"followup", "add", old_case, "--kind", "entretien", "--text", "Entretien de Rémi"});
  a.Json({"followup", "add", open, "--kind", "entretien", "--text", "Entretien de Noé"});
  for (const std::string& id : {old_case, recent}) Succeeds(a.Cmd({"case", "edit", id, "--opened-on", DaysAgo(400)}));
  Succeeds(a.Cmd({"case", "close", old_case, "--date", DaysAgo(91)}));
  Succeeds(a.Cmd({"case", "close", recent, "--date", DaysAgo(86)}));

  // The sync that sends them purges the one closed 91 days ago: the case and its follow-up.
  const json first = a.Sync();
  CHECK(first["purged_cases"] == 1);
  CHECK(Held(a, "cases", "id", old_case) == 0);
  CHECK(Held(a, "followups", "case_id", old_case) == 0);
  CHECK(Held(a, "cases", "id", recent) == 1);
  CHECK(Held(a, "followups", "case_id", open) == 1);
  CHECK(a.Json({"case", "search", "Ancelin"}).empty());
  RunResult shown = a.Cmd({"case", "show", old_case});
  CHECK(shown.exit_code != 0);
  CHECK_THAT(shown.err, Catch::Contains("retiré de cet appareil") && Catch::Contains("plus de 90 jours"));
  // The centre keeps it whole.
  CHECK(central.Count("SELECT count(*) FROM cases WHERE id = '" + old_case + "'") == 1);
  CHECK(central.Count("SELECT count(*) FROM followups WHERE case_id = '" + old_case + "'") == 1);
  json status = a.Json({"status"});
  CHECK(status["purged_cases"] == 1);
  CHECK(status["purge_due"] == 0);
  CHECK(status["device_retention_days"] == 90);

  // The next sync finds the replica as the centre holds it: nothing fetched again.
  const json again = a.Sync();
  CHECK(again["checked"] == true);
  CHECK(again["divergence"].is_null());
  CHECK(again["recovered_records"] == 0);
  CHECK(again["purged_cases"] == 0);
  CHECK(Held(a, "cases", "id", old_case) == 0);

  // Five days later the other closed case is due; a change of this device's waiting holds it back.
  CHECK(SkewedJson(a, "+5d", {"status"})["purge_due"] == 1);
  Succeeds(a.Cmd({"case", "edit", recent, "--phone", "0612345678"}));
  CHECK(SkewedJson(a, "+5d", {"status"})["purge_due"] == 0);
  const json later = SkewedJson(a, "+5d", {"sync"});
  CHECK(later["pushed"] == 1);
  CHECK(later["purged_cases"] == 1);
  CHECK(later["divergence"].is_null());
  CHECK(Held(a, "cases", "id", recent) == 0);
  CHECK(Held(a, "cases", "id", open) == 1);
  CHECK(central.Count("SELECT count(*) FROM cases WHERE phone = '0612345678'") == 1);

  // b learns the limit and purges as well; a follow-up b wrote on the old case before reaches a,
  // which keeps it purged: no orphan, no divergence.
  const json b_first = b.Sync();
  CHECK(b_first["purged_cases"] == 1);  // the old case (the other is 86 days closed on b's clock)
  CHECK(Held(b, "cases", "id", recent) == 1);
  Succeeds(b.Cmd({"followup", "add", recent, "--kind", "entretien", "--text", "Appel de Lise"}));
  b.Sync();
  const json a_pull = a.Sync();
  CHECK(a_pull["divergence"].is_null());
  CHECK(a_pull["recovered_records"] == 0);
  CHECK(Held(a, "followups", "case_id", recent) == 0);
  CHECK(Count(a.db(), "SELECT count(*) FROM purged_records WHERE case_id = '" + recent + "'") == 2);

  // Reopened elsewhere, it comes back whole, its follow-up with it: its records being missing, the
  // divergence check fetches a fresh copy, and the purge then takes the old case again.
  Succeeds(b.Cmd({"case", "edit", recent, "--clear", "closed_on"}));
  b.Sync();
  const json reopened = a.Sync();
  CHECK(reopened["recovered_records"] > 0);
  CHECK(reopened["purged_cases"] == 1);
  CHECK(Held(a, "cases", "id", old_case) == 0);
  CHECK(Held(a, "cases", "id", recent) == 1);
  CHECK(Held(a, "followups", "case_id", recent) == 1);
  CHECK(Count(a.db(), "SELECT count(*) FROM purged_records WHERE case_id = '" + recent + "'") == 0);
  CHECK(a.Sync()["divergence"].is_null());

  // Erased at the centre, a purged case leaves no line either.
  std::vector<std::string> erase = {CentralBinary(), "person", "erase", old_case, "--reason", "demande"};
  for (const std::string& arg : central.StoreArgs()) erase.push_back(arg);
  Succeeds(Run(erase));
  const json after_erasure = a.Sync();
  CHECK(after_erasure["divergence"].is_null());
  CHECK(Count(a.db(), "SELECT count(*) FROM purged_records WHERE case_id = '" + old_case + "'") == 0);
}
