#include "client/purge.h"

#include <vector>

namespace relais::client {

namespace {

// The tables whose records cannot exist without their case (a required `case_id`): they leave
// with it. The register of visits (an optional `case_id`) belongs to the reception point: it stays.
bool FollowsCase(const schema::Table& table) {
  const schema::Field* f = table.FindField("case_id");
  return f != nullptr && f->required;
}

// "SELECT id, version FROM followups WHERE case_id = <c> UNION ALL …" over every table that
// follows a case, `c` being an SQL expression.
std::string RecordsOfCaseSql(const std::string& c) {
  std::string sql;
  for (const schema::Table& t : schema::Tables()) {
    if (!FollowsCase(t)) continue;
    sql += (sql.empty() ? "" : " UNION ALL ") + ("SELECT id, version FROM " + std::string(t.name) + " WHERE case_id = " + c);
  }
  return sql;
}

// The cases a purge takes, given ?1 today and ?2 the limit as "-N days".
const std::string& DueCasesSql() {
  static const std::string sql = [] {
    const std::string records = RecordsOfCaseSql("c.id");
    return "SELECT c.id FROM cases c WHERE c.version > 0 AND c.closed_on IS NOT NULL AND c.closed_on < date(?1, ?2)"
           " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = c.id OR o.reject_case_id = c.id"
           " OR o.record_id IN (SELECT id FROM (" +
           records +
           ")))"
           " AND NOT EXISTS (SELECT 1 FROM (" +
           records +
           ") r WHERE r.version = 0)"
           " AND NOT EXISTS (SELECT 1 FROM conflicts k WHERE k.status = 'open' AND (k.record_id = c.id"
           " OR k.other_id = c.id OR k.record_id IN (SELECT id FROM (" +
           records + "))))";
  }();
  return sql;
}

std::string Limit(int64_t days) { return "-" + std::to_string(days) + " days"; }

// The first column of every row `stmt` gives.
Result<std::vector<std::string>> Ids(sqlite::Stmt& stmt) {
  std::vector<std::string> ids;
  while (true) {
    auto row = stmt.Step();
    if (!row) return row.error();
    if (!*row) return ids;
    ids.push_back(stmt.Text(0));
  }
}

Result<std::vector<std::string>> DueCases(Replica& replica, int64_t days) {
  auto stmt = replica.db().Prepare(DueCasesSql() + " ORDER BY c.id");
  if (!stmt) return stmt.error();
  stmt->Bind(1, LocalToday(replica.clock())).Bind(2, Limit(days));
  return Ids(*stmt);
}

Status KeepLine(Replica& replica, const schema::Table& table, const std::string& id, const std::string& case_id,
                int64_t version, const sync::StoredDigests& digests) {
  auto put = replica.Statement(
      "INSERT OR REPLACE INTO purged_records (id, tbl, case_id, version, digest_key, digest_values) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!put) return put.error();
  sqlite::StmtGuard guard(**put);
  (*put)->Bind(1, id).Bind(2, std::string(table.name)).Bind(3, case_id).Bind(4, version);
  (*put)->Bind(5, digests.key).Bind(6, digests.values);
  return (*put)->Run();
}

// Purges one record: its line written from its row, then the row deleted (the search index follows
// by its triggers).
Status PurgeRecord(Replica& replica, sync::RecordDigester& digester, const schema::Table& table,
                   const std::string& id, const std::string& case_id) {
  auto record = replica.Get(table, id);
  if (!record) return record.error();
  if (!*record) return OkStatus();
  const schema::Record& r = **record;
  RELAIS_TRY(KeepLine(replica, table, id, case_id, r.version, sync::DigestsOf(digester, r.id, r.version, r.values)));
  auto del = replica.db().Prepare("DELETE FROM " + std::string(table.name) + " WHERE id = ?1");
  if (!del) return del.error();
  del->Bind(1, id);
  return del->Run();
}

Status PurgeCase(Replica& replica, sync::RecordDigester& digester, const std::string& case_id) {
  for (const schema::Table& t : schema::Tables()) {
    if (!FollowsCase(t)) continue;
    auto ids = replica.db().Prepare("SELECT id FROM " + std::string(t.name) + " WHERE case_id = ?1");
    if (!ids) return ids.error();
    ids->Bind(1, case_id);
    auto records = Ids(*ids);
    if (!records) return records.error();
    for (const std::string& id : *records) RELAIS_TRY(PurgeRecord(replica, digester, t, id, case_id));
  }
  RELAIS_TRY(PurgeRecord(replica, digester, schema::CasesTable(), case_id, case_id));
  // Settled conflict notices go with it, as with a case that leaves the scope.
  auto notices = replica.db().Prepare("DELETE FROM conflicts WHERE record_id = ?1 OR other_id = ?1 OR record_id IN "
                                      "(SELECT id FROM purged_records WHERE case_id = ?1)");
  if (!notices) return notices.error();
  notices->Bind(1, case_id);
  return notices->Run();
}

}  // namespace

Result<std::optional<int64_t>> DeviceRetentionDays(Replica& replica) {
  auto stored = replica.GetState(kStateDeviceRetentionDays);
  if (!stored) return stored.error();
  if (!*stored) return std::optional<int64_t>();
  const int64_t days = std::strtoll((*stored)->c_str(), nullptr, 10);
  if (days < 1) return std::optional<int64_t>();
  return std::optional<int64_t>(days);
}

Result<int64_t> PurgeDue(Replica& replica) {
  auto days = DeviceRetentionDays(replica);
  if (!days) return days.error();
  if (!*days) return int64_t{0};
  auto due = DueCases(replica, **days);
  if (!due) return due.error();
  return static_cast<int64_t>(due->size());
}

Result<int64_t> PurgeClosedCases(Replica& replica, sync::RecordDigester& digester, std::optional<int64_t> days) {
  auto tx = sqlite::Transaction::Begin(replica.db());
  if (!tx) return tx.error();
  if (days) RELAIS_TRY(replica.SetState(kStateDeviceRetentionDays, std::to_string(*days)));
  auto limit = DeviceRetentionDays(replica);
  if (!limit) return limit.error();
  if (!*limit) {
    RELAIS_TRY(tx->Commit());
    return int64_t{0};
  }
  auto due = DueCases(replica, **limit);
  if (!due) return due.error();
  for (const std::string& id : *due) RELAIS_TRY(PurgeCase(replica, digester, id));
  RELAIS_TRY(tx->Commit());
  return static_cast<int64_t>(due->size());
}

Status AddPurged(Replica& replica, sync::ScopeDigest& digest) {
  auto stmt = replica.db().Prepare("SELECT tbl, digest_key, digest_values FROM purged_records");
  if (!stmt) return stmt.error();
  while (true) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) return OkStatus();
    digest[stmt->Text(0)].AddSums(1, static_cast<uint64_t>(stmt->Int(1)), static_cast<uint64_t>(stmt->Int(2)));
  }
}

Result<bool> AnyPurged(Replica& replica) {
  auto stmt = replica.Statement("SELECT EXISTS (SELECT 1 FROM purged_records)");
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  return *row && (*stmt)->Int(0) != 0;
}

Result<bool> KeepPurged(Replica& replica, sync::RecordDigester& digester, const schema::Table& table,
                        const schema::Record& record, const sync::StoredDigests* digested) {
  const bool is_case = &table == &schema::CasesTable();
  if (!is_case && !FollowsCase(table)) return false;
  const schema::Value& of = is_case ? schema::Value(record.id) : record.values[table.FieldIndex("case_id")];
  if (!of) return false;
  const std::string case_id = *of;
  auto purged = WasPurged(replica, case_id);
  if (!purged) return purged.error();
  if (!*purged) return false;
  if (is_case) {
    // Still closed past the limit: it stays purged. Otherwise it comes back (below, by the caller).
    const schema::Value& closed_on = record.values[table.FieldIndex("closed_on")];
    auto days = DeviceRetentionDays(replica);
    if (!days) return days.error();
    bool still = false;
    if (closed_on && *days) {
      auto cutoff = replica.Statement("SELECT ?1 < date(?2, ?3)");
      if (!cutoff) return cutoff.error();
      sqlite::StmtGuard guard(**cutoff);
      (*cutoff)->Bind(1, *closed_on).Bind(2, LocalToday(replica.clock())).Bind(3, Limit(**days));
      auto row = (*cutoff)->Step();
      if (!row) return row.error();
      still = *row && (*cutoff)->Int(0) != 0;
    }
    if (!still) {
      RELAIS_TRY(ForgetPurged(replica, case_id));
      return false;
    }
  }
  const sync::StoredDigests digests =
      digested ? *digested : sync::DigestsOf(digester, record.id, record.version, record.values);
  RELAIS_TRY(KeepLine(replica, table, record.id, case_id, record.version, digests));
  return true;
}

Status ForgetPurged(Replica& replica, const std::string& id) {
  auto forget = replica.Statement("DELETE FROM purged_records WHERE id = ?1 OR case_id = ?1");
  if (!forget) return forget.error();
  sqlite::StmtGuard guard(**forget);
  (*forget)->Bind(1, id);
  return (*forget)->Run();
}

Status ForgetAllPurged(Replica& replica) { return replica.db().Exec("DELETE FROM purged_records"); }

Result<bool> WasPurged(Replica& replica, const std::string& case_id) {
  auto stmt = replica.Statement("SELECT EXISTS (SELECT 1 FROM purged_records WHERE id = ?1 AND tbl = 'cases')");
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)->Bind(1, case_id);
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  return *row && (*stmt)->Int(0) != 0;
}

}  // namespace relais::client
