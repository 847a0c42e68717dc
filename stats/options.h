// The options of `relais stats` and `relais-central stats` (docs/CLI.md, "stats"), declared once for
// both programs, and what they make: a checked query, then the table in the format asked for.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "stats/engine.h"
#include "stats/report.h"

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

// The options of `relais report` and `relais-central report` (docs/CLI.md, "report").
struct ReportOptions {
  int year = 0;
  std::string territory;
  int64_t min_count = kDefaultMinCount;
  bool internal = false;
  std::string format = "html";  // html | pdf
  std::string output;           // the file written; empty: the HTML on standard output
};
void AddReportOptions(CLI::App& command, ReportOptions& options);

// Makes the annual report the options ask for over `scope`, reading `source`, and writes it:
// HTML to --output or standard output, PDF to --output (required). kUsage in French for a bad
// option (checked before anything is counted), kIo when the file cannot be written or printed.
// Returns what was written, for the program to say it ("" when the HTML went to standard output).
Result<std::string> MakeReport(const ReportOptions& options, const std::string& today, const std::string& scope,
                               const Source& source);

}  // namespace relais::stats
