// The statistics engine (docs/STATISTICS.md): one query — a measure over a period, by one or two
// dimensions and an optional breakdown — counted in SQL over a store's tables, folded into a table
// with its totals, and protected (stats/suppression.h). The device runs it over its replica
// (client/), the centre over its store (server/), through Database; the annual report reads the same
// StatsTable.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "schema/model.h"
#include "stats/model.h"
#include "stats/suppression.h"

namespace relais::stats {

inline constexpr int64_t kDefaultMinCount = 5;
inline constexpr int64_t kLowestMinCount = 3;

struct Query {
  std::string from, to;          // YYYY-MM-DD, both included
  std::vector<std::string> by;   // one or two row dimensions
  std::string measure = "visits";
  std::string breakdown;         // a column dimension, or empty
  std::optional<std::string> territory;  // only the records of this territory
  int64_t min_count = kDefaultMinCount;
  bool internal = false;         // no protection: every count shown, the table marked internal
  std::string scope;             // what the counts cover, in French, for people ("tout le réseau")
};

// The period a query covers by default: the last calendar month before `today` (YYYY-MM-DD).
std::pair<std::string, std::string> LastMonth(const std::string& today);

// OK, or kUsage naming in French what is wrong and what is possible (an unknown measure or
// dimension, a dimension the measure does not have, a date, a period backwards, --min-count below 3).
Status CheckQuery(const Query& query);

// Where the engine reads: a database with the synced tables as schema/model.cc declares them.
class Database {
 public:
  virtual ~Database() = default;
  // Runs `sql` (SQLite's syntax: parameters ?1, ?2…, every one bound as text) and gives each row's
  // first `columns` columns (null or text) to `row`. kIo with the database's message on failure.
  virtual Status Read(const std::string& sql, const std::vector<std::string>& params, int columns,
                      const std::function<void(const std::vector<schema::Value>&)>& row) = 0;
};

// A computed table: row keys by the query's dimensions, columns by the breakdown's values (one
// column, "total", without a breakdown), the counts and totals in `grid` with their marks.
struct StatsTable {
  Query query;
  const Measure* measure = nullptr;
  std::vector<const Dimension*> by;
  const Dimension* breakdown = nullptr;
  std::vector<std::vector<std::string>> row_keys;    // null values as ""
  std::vector<std::vector<std::string>> row_labels;  // French words
  std::vector<std::string> column_keys, column_labels;
  Grid grid{0, 0};
  std::vector<std::string> notes;  // French, said under the table
};

// The SQL a query runs (for the tests and the benches' plans), in SQLite's syntax, with its parameters.
std::pair<std::string, std::vector<std::string>> QuerySql(const Query& query);

// How many columns each row of QuerySql has (a database interface that cannot tell needs it).
int QueryColumns(const Query& query);

// Counts `query` over `db` and protects the table (unless query.internal). The query is checked
// first (CheckQuery). Reads only.
Result<StatsTable> Compute(const Query& query, Database& db);

}  // namespace relais::stats
