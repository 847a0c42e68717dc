#include "server/retention.h"

#include <cstdio>

#include "base/clock.h"
#include "schema/model.h"
#include "server/erasure_ledger.h"

namespace relais::server {

namespace {

constexpr const char* kReadPolicy =
    "SELECT name, value FROM network_settings WHERE name IN ('retention_closed_months', 'retention_device_days')";
constexpr const char* kWritePolicy =
    "INSERT INTO network_settings(name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2";
constexpr const char* kClosedBefore =
    "SELECT id, closed_on FROM cases WHERE closed_on IS NOT NULL AND closed_on < ?1 AND merged_into IS NULL "
    "ORDER BY closed_on, id COLLATE BINARY";

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

std::string MonthsBefore(const std::string& day, int64_t months) {
  int y = std::stoi(day.substr(0, 4)), m = std::stoi(day.substr(5, 2)), d = std::stoi(day.substr(8, 2));
  const int64_t index = static_cast<int64_t>(y) * 12 + (m - 1) - months;
  y = static_cast<int>(index / 12);
  m = static_cast<int>(index % 12) + 1;
  if (d > DaysIn(y, m)) d = DaysIn(y, m);
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02d-%02d", y, m, d);
  return out;
}

Result<RetentionPolicy> ReadRetention(SqlConn& conn) {
  auto rows = QueryAll(conn, kReadPolicy, {}, [](const SqlRow& r) { return std::make_pair(r.Text(0), r.Text(1)); });
  if (!rows) return rows.error();
  RetentionPolicy policy;
  for (const auto& [name, value] : *rows) {
    (name == "retention_closed_months" ? policy.closed_after_months : policy.device_closed_after_days) =
        std::stoll(value);
  }
  return policy;
}

Status WriteRetention(SqlConn& conn, const RetentionPolicy& policy) {
  if (policy.closed_after_months < 1 || policy.closed_after_months > kMaxClosedMonths) {
    return MakeError(ErrorCode::kValidation, "--closed-after-months : attendu un nombre de mois de 1 à " +
                                                 std::to_string(kMaxClosedMonths));
  }
  if (policy.device_closed_after_days < 1 || policy.device_closed_after_days > kMaxDeviceDays) {
    return MakeError(ErrorCode::kValidation, "--device-closed-after-days : attendu un nombre de jours de 1 à " +
                                                 std::to_string(kMaxDeviceDays));
  }
  auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
  if (!tx) return tx.error();
  for (const auto& [name, value] : {std::make_pair("retention_closed_months", policy.closed_after_months),
                                    std::make_pair("retention_device_days", policy.device_closed_after_days)}) {
    auto written = conn.Run(kWritePolicy, {name, std::to_string(value)});
    if (!written) return written.error();
  }
  return tx->Commit();
}

Result<std::vector<ClosedCase>> ClosedBefore(SqlConn& conn, const std::string& day) {
  return QueryAll(conn, kClosedBefore, {day}, [](const SqlRow& r) { return ClosedCase{r.Text(0), r.Text(1)}; });
}

Result<RetentionRun> RunRetention(CentralStore& store, const std::string& today, bool dry_run,
                                  const std::string& ledger) {
  if (!schema::IsIsoDate(today)) return MakeError(ErrorCode::kUsage, "jour attendu AAAA-MM-JJ : « " + today + " »");
  auto policy = store.Retention();
  if (!policy) return policy.error();
  RetentionRun run;
  run.policy = *policy;
  run.dry_run = dry_run;
  run.cutoff = MonthsBefore(today, policy->closed_after_months);
  auto cases = store.ClosedBefore(run.cutoff);
  if (!cases) return cases.error();
  run.cases = std::move(*cases);
  if (dry_run) return run;
  const std::string reason = "durée de conservation : dossier clos depuis plus de " +
                             std::to_string(policy->closed_after_months) + " mois (avant le " + run.cutoff + ")";
  for (const ClosedCase& c : run.cases) {
    if (!ledger.empty()) {
      RELAIS_TRY(AppendToLedger(ledger, {IsoTimestamp(SystemClock::Instance().NowMs()), "conservation", c.case_id}));
    }
    auto erased = store.ErasePerson(c.case_id, reason, "conservation", "staff");
    if (!erased) return erased.error();
    run.records += erased->records;
  }
  return run;
}

}  // namespace relais::server
