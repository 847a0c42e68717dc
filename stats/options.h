// The options of `relais stats` and `relais-central stats` (docs/CLI.md, "stats"), declared once for
// both programs, and what they make: a checked query, then the table in the format asked for.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "stats/engine.h"

namespace CLI {
class App;
}

namespace relais::stats {

struct Options {
  std::string from, to;
  std::vector<std::string> by;
  std::string measure = "visits";
  std::string breakdown;
  std::string territory;
  int64_t min_count = kDefaultMinCount;
  bool internal = false;
  std::string format = "table";  // table | csv
  bool json = false;
};

// Adds the options to `command` (the program adds --db/--store and --json itself when it has them).
void AddOptions(CLI::App& command, Options& options);

// The query the options ask for, over `scope` (French, for people), the period defaulting to the
// last calendar month before `today`. kUsage (French, naming what is possible) for a bad option.
Result<Query> QueryFrom(const Options& options, const std::string& today, const std::string& scope);

// The table as the options ask: JSON, CSV or the French table.
std::string Render(const StatsTable& table, const Options& options);

}  // namespace relais::stats
