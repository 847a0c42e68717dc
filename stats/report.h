// The annual activity report a Maison de l'Emploi sends its funders (docs/STATISTICS.md, "The
// annual report"): one HTML page, in French, whose every table and chart is a stats::Query counted
// by the same engine as `stats` and protected the same way (small counts hidden, complements
// hidden), charts drawn as SVG inside the page. The device makes it over its replica, the centre
// over its store: both hand their way of counting to AnnualReport. The PDF is printed from this
// HTML (stats/pdf.h).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "stats/engine.h"

namespace relais::stats {

struct ReportRequest {
  int year = 0;                          // the calendar year reported
  std::optional<std::string> territory;  // only this territory
  int64_t min_count = kDefaultMinCount;
  bool internal = false;  // no protection, every page marked "usage interne — ne pas diffuser"
  std::string scope;      // what the counts cover, in French ("tout le réseau (base centrale)")
  std::string made_on;    // YYYY-MM-DD, said in the page
};

// Where the program reads: it gives the report its database (the replica, the central store) for
// the time of one call, in one snapshot, so that every table counts the same records.
using Source = std::function<Status(const std::function<Status(Database&)>&)>;

// OK, or kUsage in French: a year outside 2000–2100, a threshold below 3.
Status CheckReport(const ReportRequest& request);

// The report's HTML page, counted over `db` (stats::Compute, and stats/activity.h for the sessions
// of permanences and the staff time), or the first error of a count.
Result<std::string> AnnualReport(const ReportRequest& request, Database& db);

}  // namespace relais::stats
