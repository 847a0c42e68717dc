// The centre's statistics (server/sql_store.cc, SqlCentralStore::Stats; docs/STATISTICS.md) against
// the ground truth computed from the generated records (tests/stats_data.h), on SQLite and, as
// test_server_pg, on PostgreSQL: the records reach the store as a device pushes them.
#include <catch2/catch.hpp>

#include "tests/server/server_fixture.h"
#include "tests/stats_truth_check.h"

namespace relais::server::testing {
namespace {

using relais::testing::StatsData;

// The generated records pushed by a device of both territories, reception points declared.
void Load(StoreFixture& f, const StatsData& data) {
  for (const std::string& t : relais::testing::kStatsTerritories) {
    REQUIRE(f.store().AddTerritory(Territory{t, t, relais::testing::kStatsPoints.at(t)}).ok());
  }
  const Enrolled device = f.Enrol("pae-stats", relais::testing::kStatsTerritories);
  std::vector<sync::Change> changes;
  int n = 0;
  const std::string node = "stats-node";
  auto stamp = [&n, &node] { return Stamp(kT0 + ++n, node); };
  for (const auto& c : data.cases) {
    changes.push_back(Create("cases", c.id,
                             {{"last_name", "Martin"}, {"first_name", "Zoé"}, {"territory", c.territory},
                              {"reception_point", c.point}, {"referent", c.referent}, {"status", c.status},
                              {"sector", c.sector}, {"commune", c.commune}, {"service_level", c.service_level},
                              {"birth_date", c.birth_date}, {"opened_on", c.opened_on}, {"closed_on", c.closed_on}},
                             stamp()));
  }
  for (const auto& v : data.visits) {
    changes.push_back(Create("visits", v.id,
                             {{"territory", v.territory}, {"reception_point", v.point}, {"date", v.date},
                              {"channel", v.channel}, {"mode", v.mode}, {"reasons", v.reasons}, {"case_id", v.case_id},
                              {"status", v.status}, {"sector", v.sector}, {"age_band", v.age_band},
                              {"commune", v.commune}, {"service_level", v.service_level}, {"amends", v.amends}},
                             stamp()));
  }
  for (const auto& fu : data.followups) {
    changes.push_back(Create("followups", fu.id,
                             {{"case_id", fu.case_id}, {"kind", fu.kind}, {"date", fu.date}, {"text", "Entretien."},
                              {"author", fu.author}},
                             stamp()));
  }
  const sync::PushResponse reply = f.Push(device, std::move(changes));
  for (const auto& r : reply.results) {
    INFO(r.change_id << ": " << r.reason);
    REQUIRE(r.status != sync::ChangeStatus::kRejected);
  }
}

}  // namespace

TEST_CASE("the centre's statistics equal the counts of the records it holds, on every measure", "[stats]") {
  StoreFixture f;
  const StatsData data = relais::testing::GenerateStatsData(30, 60, 400, 150);
  Load(f, data);
  for (const auto& q : relais::testing::kTruthQueries) {
    for (const relais::testing::Text& territory : {relais::testing::Text(), relais::testing::Text("hautes-alpes-gap")}) {
      INFO(q.measure << " by " << q.by.front() << (q.by.size() > 1 ? "+" + q.by.back() : "") << " × " << q.breakdown
                     << " in " << territory.value_or("every territory"));
      auto table = f.store().Stats(relais::testing::InternalQuery(q, territory));
      REQUIRE(table.ok());
      relais::testing::CheckAgainstTruth(*table, relais::testing::StatsTruth(data, q.measure, q.by, q.breakdown,
                                                                             "2026-09-01", "2026-11-30", territory));
    }
  }
}

TEST_CASE("the centre's published statistics hide every small count and show the others as they are", "[stats]") {
  StoreFixture f;
  // Few visits over the points and reasons: small counts for certain, so that some are hidden.
  const StatsData data = relais::testing::GenerateStatsData(31, 40, 60, 60);
  Load(f, data);
  auto query = relais::testing::InternalQuery({"visits", {"reception_point"}, "reason"});
  query.internal = false;
  auto table = f.store().Stats(query);
  REQUIRE(table.ok());
  const auto truth = relais::testing::StatsTruth(data, "visits", {"reception_point"}, "reason", "2026-09-01", "2026-11-30");
  int hidden = 0;
  for (int i = 0; i < table->grid.rows; ++i) {
    for (int j = 0; j < table->grid.cols; ++j) {
      const auto found = truth.find({table->row_keys[size_t(i)], table->column_keys[size_t(j)]});
      const int64_t n = found == truth.end() ? 0 : found->second;
      CHECK(table->grid.at(i, j) == n);
      if (n >= 1 && n < 5) CHECK(table->grid.mark(i, j) == stats::Mark::kPrimary);
      if (table->grid.mark(i, j) != stats::Mark::kShown) {
        ++hidden;
        CHECK_FALSE(stats::Determined(table->grid, 5, i, j));
      }
    }
  }
  CHECK(hidden > 0);
}

TEST_CASE("a statistics query the engine cannot answer is refused in French, naming what is possible", "[stats]") {
  StoreFixture f;
  stats::Query q;
  q.from = "2026-09-01";
  q.to = "2026-09-30";
  q.by = {"counsellor"};
  q.measure = "visits";
  auto refused = f.store().Stats(q);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kUsage);
  CHECK(refused.error().message.find("--by possibles pour visits : reception_point, territory, month, week") !=
        std::string::npos);
}

}  // namespace relais::server::testing
