// Retention (issue 27; docs/PRIVACY.md, "Retention"): `relais-central retention set | show | run`
// and the daily pass of `serve`. Cases closed longer than the limit are erased at the centre as
// `person erase` would, with their receipts; open ones and those closed more recently stay. The
// clock is the closing dates: cases closed 37 months ago and 35 months ago, against 36.
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

// The day `months` calendar months before today (UTC), on the 1st: clear of month ends.
std::string MonthsAgo(int months) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  int index = (tm.tm_year + 1900) * 12 + tm.tm_mon - months;
  char day[32];
  std::snprintf(day, sizeof day, "%04d-%02d-01", index / 12, index % 12 + 1);
  return day;
}

RunResult Retention(const Central& central, std::vector<std::string> args) {
  std::vector<std::string> argv = {CentralBinary(), "retention"};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const std::string& a : central.StoreArgs()) argv.push_back(a);
  return Run(argv);
}

json RetentionJson(const Central& central, std::vector<std::string> args) {
  args.push_back("--json");
  RunResult r = Retention(central, args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("cases closed longer than the declared limit are erased at the centre, the others stay",
          "[e2e][rgpd][retention]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  const std::string old_case = a.AddCase("Ancelin", "Rémi", kGap);
  const std::string recent = a.AddCase("Brunet", "Lise", kGap);
  const std::string open = a.AddCase("Chabert", "Noé", kGap);
  a.Json({"followup", "add", old_case, "--kind", "entretien", "--text", "Entretien de Rémi"});
  REQUIRE(a.Cmd({"case", "edit", old_case, "--opened-on", MonthsAgo(48)}).exit_code == 0);
  REQUIRE(a.Cmd({"case", "edit", recent, "--opened-on", MonthsAgo(48)}).exit_code == 0);
  REQUIRE(a.Cmd({"case", "close", old_case, "--date", MonthsAgo(37)}).exit_code == 0);
  REQUIRE(a.Cmd({"case", "close", recent, "--date", MonthsAgo(35)}).exit_code == 0);
  const json policy = RetentionJson(central, {"show"});
  CHECK(policy["closed_after_months"] == 36);
  CHECK(policy["device_closed_after_days"] == 90);
  // Devices keep closed cases ten years here, so that `a` holds the old case when the centre erases
  // it (with 90 days, its own sync would purge it first: tests/e2e/device_retention_test.cc).
  REQUIRE(Retention(central, {"set", "--device-closed-after-days", "3650"}).exit_code == 0);
  a.Sync();
  REQUIRE(Count(a.db(), "SELECT count(*) FROM cases WHERE id = '" + old_case + "'") == 1);

  // A dry run lists and changes nothing.
  const std::vector<std::string> before = central.Rows("SELECT id, version FROM cases ORDER BY id");
  const json dry = RetentionJson(central, {"run", "--dry-run"});
  REQUIRE(dry["cases"].size() == 1);
  CHECK(dry["cases"][0]["case_id"] == old_case);
  CHECK(dry["closed_before"] == MonthsAgo(36).substr(0, 8) + dry["closed_before"].get<std::string>().substr(8));
  CHECK(central.Rows("SELECT id, version FROM cases ORDER BY id") == before);
  CHECK(central.Count("SELECT count(*) FROM erasures") == 0);

  const json run = RetentionJson(central, {"run"});
  CHECK(run["cases"].size() == 1);
  CHECK(run["records"] == 2);  // the case and its follow-up entry
  CHECK(central.Count("SELECT count(*) FROM cases WHERE id = '" + old_case + "'") == 0);
  CHECK(central.Count("SELECT count(*) FROM cases WHERE id IN ('" + recent + "', '" + open + "')") == 2);
  for (const std::string& row : central.Rows("SELECT snapshot FROM history")) {
    CHECK(row.find("Ancelin") == std::string::npos);
  }
  const std::vector<std::string> receipt = central.Rows("SELECT case_id, erased_by FROM erasures");
  CHECK(receipt == std::vector<std::string>{old_case + "|conservation"});
  // The device erases it at its next sync, as for a person's request.
  const json sync = a.Sync();
  CHECK(sync["erased_cases"] == 1);
  CHECK(a.Cmd({"case", "show", old_case}).exit_code != 0);
  CHECK(RetentionJson(central, {"run"})["cases"].empty());  // the next pass finds nothing

  // A shorter limit takes the other closed case; an open one is never taken.
  RunResult set = Retention(central, {"set", "--closed-after-months", "12"});
  INFO(set.err);
  REQUIRE(set.exit_code == 0);
  CHECK_THAT(set.out, Catch::Contains("plus de 12 mois"));
  CHECK(RetentionJson(central, {"show"})["closed_after_months"] == 12);
  CHECK(RetentionJson(central, {"run"})["cases"].size() == 1);
  CHECK(central.Count("SELECT count(*) FROM cases WHERE id = '" + open + "'") == 1);

  // Out of bounds: refused, saying the bounds, and nothing changes.
  RunResult zero = Retention(central, {"set", "--closed-after-months", "0"});
  CHECK(zero.exit_code == 3);
  CHECK_THAT(zero.err, Catch::Contains("de 1 à 600"));
  RunResult nothing = Retention(central, {"set"});
  CHECK(nothing.exit_code == 2);
  RunResult too_long = Retention(central, {"set", "--device-closed-after-days", "5000"});
  CHECK(too_long.exit_code == 3);
  CHECK_THAT(too_long.err, Catch::Contains("de 1 à 3650"));
  CHECK(RetentionJson(central, {"show"}) == json{{"closed_after_months", 12}, {"device_closed_after_days", 3650}});
}

TEST_CASE("serve applies the retention policy before it listens, and says how many cases it erased",
          "[e2e][rgpd][retention]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  const std::string old_case = a.AddCase("Ancelin", "Rémi", kGap);
  REQUIRE(a.Cmd({"case", "edit", old_case, "--opened-on", MonthsAgo(48)}).exit_code == 0);
  REQUIRE(a.Cmd({"case", "close", old_case, "--date", MonthsAgo(40)}).exit_code == 0);
  a.Sync();
  CHECK(central.Count("SELECT count(*) FROM cases") == 1);
  central.Kill(SIGTERM);
  central.Start();  // the first pass runs before the server listens
  CHECK(central.Count("SELECT count(*) FROM erasures WHERE erased_by = 'conservation'") == 1);
  CHECK(central.Count("SELECT count(*) FROM cases") == 0);
  CHECK_THAT(central.Log(), Catch::Contains("conservation : 1 dossier(s) clos avant le"));
  CHECK(central.Log().find("Ancelin") == std::string::npos);
}
