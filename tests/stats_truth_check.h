// Checks a table of the statistics engine against the ground truth of tests/stats_data.h.
#pragma once

#include <catch2/catch.hpp>

#include "stats/engine.h"
#include "tests/stats_data.h"

namespace relais::testing {

// Every cell of `table` (computed with query.internal) equals the truth, and the truth has no
// count the table lacks (its total is the table's grand total).
inline void CheckAgainstTruth(const stats::StatsTable& table, const std::map<TruthCell, int64_t>& truth) {
  int64_t truth_total = 0;
  for (const auto& [cell, n] : truth) truth_total += n;
  for (int i = 0; i < table.grid.rows; ++i) {
    for (int j = 0; j < table.grid.cols; ++j) {
      const TruthCell cell{table.row_keys[size_t(i)], table.column_keys[size_t(j)]};
      const auto found = truth.find(cell);
      std::string row;
      for (const std::string& k : cell.first) row += k + "|";
      INFO("row " << row << " column " << cell.second);
      CHECK(table.grid.at(i, j) == (found == truth.end() ? 0 : found->second));
    }
  }
  CHECK(table.grid.at(table.grid.rows, table.grid.cols) == truth_total);
}

// The query of `q` over September to November 2026, every count shown.
inline stats::Query InternalQuery(const TruthQuery& q, const Text& territory = {}) {
  stats::Query query;
  query.from = "2026-09-01";
  query.to = "2026-11-30";
  query.measure = q.measure;
  query.by = q.by;
  query.breakdown = q.breakdown;
  query.territory = territory;
  query.internal = true;
  return query;
}

}  // namespace relais::testing
