// A computed table (stats/engine.h) as people and scripts read it: an aligned French table, CSV for a
// spreadsheet, JSON. Hidden counts read "< N" (a count from 1 to N - 1) and "s" (a complement hidden
// so that the others cannot be worked out); docs/STATISTICS.md.
#pragma once

#include <string>
#include <vector>

#include "stats/engine.h"

namespace relais::stats {

inline constexpr const char* kInternalMark = "usage interne — ne pas diffuser";

// "12 345": thousands separated by a narrow no-break space (U+202F), as French typesetting does.
std::string FrenchCount(int64_t n);

// A grid entry as published: the count (French: « 12 345 »), "< N" or "s".
std::string Shown(const StatsTable& table, int i, int j, bool french);
// What the counts cover, for people: the query's scope and territory.
std::string Scope(const StatsTable& table);
// What "< N" and "s" mean, or that the table is internal; nothing when all is shown.
std::vector<std::string> Legend(const StatsTable& table);

// The heading, the aligned table with its totals, the legend and the notes, each line ending "\n".
std::string RenderText(const StatsTable& table);

// UTF-8 with a byte order mark, fields separated by ';', lines by CRLF: the spreadsheets people use
// in France open it with its accents. Counts without separators; hidden ones as in the text table.
std::string RenderCsv(const StatsTable& table);

// One JSON document (docs/CLI.md, "stats").
std::string RenderJson(const StatsTable& table);

}  // namespace relais::stats
