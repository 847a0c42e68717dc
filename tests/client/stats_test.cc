// The device's statistics (client/replica_stats.h; docs/STATISTICS.md) against the ground truth
// computed from the generated records (tests/stats_data.h), and what the engine refuses.
#include <catch2/catch.hpp>

#include "client/replica_stats.h"
#include "tests/client/fixture.h"
#include "tests/stats_truth_check.h"

namespace relais::client::testing {
namespace {

using relais::testing::StatsData;
using relais::testing::Text;

// The generated records written straight into the replica's tables, as a pull would leave them.
void Load(TestReplica& r, const StatsData& data) {
  sqlite::Db& db = r.replica().db();
  REQUIRE(db.Exec("BEGIN").ok());
  auto bind = [](sqlite::Stmt& s, std::initializer_list<Text> values) {
    int i = 0;
    for (const Text& v : values) s.Bind(++i, schema::Value(v));
    REQUIRE(s.Run().ok());
  };
  for (const auto& c : data.cases) {
    auto s = db.Prepare(
        "INSERT INTO cases(id, last_name, first_name, territory, reception_point, referent, status, sector, commune, "
        "service_level, birth_date, opened_on, closed_on) VALUES (?1, 'Martin', 'Zoé', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11)");
    REQUIRE(s.ok());
    bind(*s, {c.id, c.territory, c.point, c.referent, c.status, c.sector, c.commune, c.service_level, c.birth_date,
              c.opened_on, c.closed_on});
  }
  for (const auto& v : data.visits) {
    auto s = db.Prepare(
        "INSERT INTO visits(id, territory, reception_point, date, channel, mode, reasons, case_id, status, sector, "
        "age_band, commune, service_level, amends) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    REQUIRE(s.ok());
    bind(*s, {v.id, v.territory, v.point, v.date, v.channel, v.mode, v.reasons, v.case_id, v.status, v.sector,
              v.age_band, v.commune, v.service_level, v.amends});
  }
  for (const auto& f : data.followups) {
    auto s = db.Prepare("INSERT INTO followups(id, case_id, kind, date, text, author) VALUES (?1, ?2, ?3, ?4, 'Note', ?5)");
    REQUIRE(s.ok());
    bind(*s, {f.id, f.case_id, f.kind, f.date, f.author});
  }
  REQUIRE(db.Exec("COMMIT").ok());
}

}  // namespace

TEST_CASE("the device's statistics equal the counts of its replica's records, on every measure", "[stats]") {
  TestReplica r;
  const StatsData data = relais::testing::GenerateStatsData(20, 60, 400, 150);
  Load(r, data);
  for (const auto& q : relais::testing::kTruthQueries) {
    INFO(q.measure << " by " << q.by.front() << " × " << q.breakdown);
    auto table = ReplicaStats(r.replica(), relais::testing::InternalQuery(q));
    REQUIRE(table.ok());
    relais::testing::CheckAgainstTruth(
        *table, relais::testing::StatsTruth(data, q.measure, q.by, q.breakdown, "2026-09-01", "2026-11-30"));
  }
}

TEST_CASE("a meaningless statistics query is refused in French and changes nothing", "[stats]") {
  TestReplica r;
  Load(r, relais::testing::GenerateStatsData(21, 5, 20, 5));
  const std::string before = r.ContentHash();
  struct Bad {
    std::string measure, by, breakdown, from, to;
    int64_t min_count;
    std::string says;
  };
  const Bad bad = GENERATE(
      Bad{"visits", "month", "followup_kind", "2026-09-01", "2026-09-30", 5,
          "« visits » ne se ventile pas selon « followup_kind » (--breakdown possibles pour visits : status, sector, "
          "age_band, commune, reason, channel, mode, service_level)"},
      Bad{"followups", "month", "reason", "2026-09-01", "2026-09-30", 5, "--breakdown possibles pour followups : "},
      Bad{"visits", "counsellor", "", "2026-09-01", "2026-09-30", 5, "« visits » par « counsellor »"},
      Bad{"visites", "month", "", "2026-09-01", "2026-09-30", 5, "mesure inconnue « visites » (mesures possibles : visits, people"},
      Bad{"visits", "month", "", "2026-09-31", "2026-10-30", 5, "« 2026-09-31 » n'est pas une date qui existe"},
      Bad{"visits", "month", "", "2026-10-01", "2026-09-30", 5, "la période finit (2026-09-30) avant de commencer"},
      Bad{"visits", "month", "", "2026-09-01", "2026-09-30", 2, "le seuil ne descend pas sous 3"});
  stats::Query q;
  q.measure = bad.measure;
  q.by = {bad.by};
  q.breakdown = bad.breakdown;
  q.from = bad.from;
  q.to = bad.to;
  q.min_count = bad.min_count;
  auto refused = ReplicaStats(r.replica(), q);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kUsage);
  INFO(refused.error().message);
  CHECK(refused.error().message.find(bad.says) != std::string::npos);
  CHECK(r.ContentHash() == before);
}

TEST_CASE("the default period is the last calendar month, across a year and a leap February", "[stats]") {
  CHECK(stats::LastMonth("2026-12-07") == std::pair<std::string, std::string>("2026-11-01", "2026-11-30"));
  CHECK(stats::LastMonth("2027-01-15") == std::pair<std::string, std::string>("2026-12-01", "2026-12-31"));
  CHECK(stats::LastMonth("2028-03-01") == std::pair<std::string, std::string>("2028-02-01", "2028-02-29"));
}

}  // namespace relais::client::testing
