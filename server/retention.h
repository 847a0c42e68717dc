// Retention (RGPD art. 5-1-e; docs/PRIVACY.md, "Retention"): a case closed longer than the
// network's declared limit is erased at the centre as `person erase` would (server/erasure.h), by
// `relais-central retention run` and once a day by `serve`. The policy lives in the store
// (network_settings), so every command and the server read the same one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "server/sql_conn.h"
#include "server/store.h"
#include "sync/protocol.h"

namespace relais::server {

// Limits a network may set: from a month to 50 years at the centre, a day to 10 years on devices.
inline constexpr int64_t kMaxClosedMonths = 600;
inline constexpr int64_t kMaxDeviceDays = sync::kMaxDeviceRetentionDays;

// The day `months` calendar months before `day` (YYYY-MM-DD), the day of month kept when the month
// has it, else its last day (2026-03-31 less one month: 2026-02-28). Pure.
std::string MonthsBefore(const std::string& day, int64_t months);

// The policy as stored; the defaults (36 months, 90 days) when none was set.
Result<RetentionPolicy> ReadRetention(SqlConn& conn);
// Stores `policy`. kValidation when a limit is out of its bounds; nothing changes then.
Status WriteRetention(SqlConn& conn, const RetentionPolicy& policy);
// The cases closed before `day` (their closed_on earlier), oldest closure first; a case merged into
// another is left out (it goes with the one that absorbed it).
Result<std::vector<ClosedCase>> ClosedBefore(SqlConn& conn, const std::string& day);

// What a run of the policy did, or would do (dry_run).
struct RetentionRun {
  RetentionPolicy policy;
  std::string cutoff;  // cases closed before this day are erased
  std::vector<ClosedCase> cases;
  int64_t records = 0;  // records erased: the cases and what was linked to them
  bool dry_run = false;
};

// Applies the policy of `store` on `today` (YYYY-MM-DD): each case closed before the cutoff is
// erased (reason naming the limit, by "conservation"), journaled first in `ledger` when one is
// named, as `person erase` does. With `dry_run`, lists them and changes nothing. Stops at the first
// failure, the cases erased before it staying erased.
Result<RetentionRun> RunRetention(CentralStore& store, const std::string& today, bool dry_run,
                                  const std::string& ledger);

}  // namespace relais::server
