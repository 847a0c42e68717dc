#include "client/replica_port.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "base/ids.h"
#include "client/access_log.h"
#include "client/bulk_load.h"
#include "client/pending_creates.h"
#include "client/purge.h"
#include "client/records.h"
#include "sync/answer_match.h"
#include "sync/codec.h"
#include "sync/merge.h"
#include "sync/outbox.h"

namespace relais::client {

namespace {

constexpr const char* kSelectBatch =
    "SELECT change_id, tbl, record_id, op, fields, base_version, hlc FROM outbox "
    "WHERE batch_key = ?1 AND state = 'pending' ORDER BY seq";

// A page of at least this many records keeps what the replica derives from its new rows in bulk.
constexpr size_t kBulkIndexRecords = 256;

bool EachRecordOnce(const sync::PullPage& page) {
  std::unordered_set<std::string_view> ids;
  ids.reserve(page.records.size());
  for (const sync::PulledRecord& pr : page.records) {
    if (!ids.insert(pr.record.id).second) return false;
  }
  return true;
}

// "INSERT … ON CONFLICT(id) DO UPDATE" for a table, from its declaration.
std::string MakeUpsertSql(const schema::Table& t) {
  std::string cols = "id, version", params = "?1, ?2", set = "version = excluded.version";
  for (size_t i = 0; i < t.fields.size(); ++i) {
    std::string name(t.fields[i].name);
    cols += ", " + name;
    params += ", ?" + std::to_string(i + 3);
    set.append(", ").append(name).append(" = excluded.").append(name);
  }
  // The record's digests as the centre holds it, of the version pulled (?2).
  const size_t n = t.fields.size();
  cols += ", digest_key, digest_values, digest_version";
  params += ", ?" + std::to_string(n + 3) + ", ?" + std::to_string(n + 4) + ", ?2";
  set +=
      ", digest_key = excluded.digest_key, digest_values = excluded.digest_values, "
      "digest_version = excluded.digest_version";
  return "INSERT INTO " + std::string(t.name) + " (" + cols + ") VALUES (" + params +
         ") ON CONFLICT(id) DO UPDATE SET " + set;
}

// The same, made once per table: a page applies thousands of rows. `pulled_only`: the upsert
// leaves a row at version 0 alone (a create the centre has not accepted), and a row at a later
// version than the one pulled (which the caller then refuses).
const std::string& UpsertSql(const schema::Table& t, bool pulled_only = false) {
  static const std::vector<std::string> statements = [] {
    std::vector<std::string> all;
    for (const schema::Table& table : schema::Tables()) {
      const std::string name(table.name);
      all.push_back(MakeUpsertSql(table));
      std::string pulled_only = MakeUpsertSql(table);
      pulled_only += " WHERE " + name + ".version > 0 AND excluded.version >= ";
      pulled_only += name + ".version";
      all.push_back(std::move(pulled_only));
    }
    return all;
  }();
  return statements[static_cast<size_t>(&t - schema::Tables().data()) * 2 + (pulled_only ? 1 : 0)];
}

// A notice replaces the stored one only when it is as recent or more: pages arrive in order, but a
// page re-sent after a lost answer must not bring a settled conflict back to open.
constexpr const char* kUpsertNotice =
    "INSERT INTO conflicts (id, kind, status, tbl, record_id, field, other_id, base_value, server_value, "
    "device_value, device, server_device, settled_value, settlement, seq) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
    "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, status = excluded.status, tbl = excluded.tbl, "
    "record_id = excluded.record_id, field = excluded.field, other_id = excluded.other_id, "
    "base_value = excluded.base_value, server_value = excluded.server_value, device_value = excluded.device_value, "
    "device = excluded.device, server_device = excluded.server_device, settled_value = excluded.settled_value, "
    "settlement = excluded.settlement, seq = excluded.seq WHERE excluded.seq >= conflicts.seq";

constexpr const char* kConflictColumns =
    "SELECT id, kind, status, tbl, record_id, field, other_id, base_value, server_value, device_value, device, "
    "server_device, settled_value, settlement, seq FROM conflicts";

schema::Value OrNull(const std::string& text) { return text.empty() ? schema::Value() : schema::Value(text); }

}  // namespace

Result<std::vector<sync::ConflictNotice>> StoredConflicts(Replica& replica, const ConflictQuery& query) {
  std::string sql = std::string(kConflictColumns) + " WHERE (?1 OR status = 'open')" +
                    " AND (?2 IS NULL OR record_id = ?2 OR other_id = ?2) ORDER BY id";
  auto stmt = replica.Statement(sql);
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)->Bind(1, static_cast<int64_t>(query.settled_too ? 1 : 0)).Bind(2, OrNull(query.record_id));
  std::vector<sync::ConflictNotice> notices;
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    sqlite::Stmt& st = **stmt;
    sync::ConflictNotice n;
    n.id = st.Int(0);
    n.kind = st.Text(1);
    n.status = st.Text(2);
    n.table = st.Text(3);
    n.record_id = st.Text(4);
    n.field = st.Text(5);
    n.other_id = st.Text(6);
    n.base_value = st.Val(7);
    n.server_value = st.Val(8);
    n.device_value = st.Val(9);
    n.device = st.Text(10);
    n.server_device = st.Text(11);
    n.settled_value = st.Val(12);
    n.settlement = st.Text(13);
    n.seq = st.Int(14);
    notices.push_back(std::move(n));
  }
  return notices;
}

Status SqliteReplicaPort::StoreNotice(const sync::ConflictNotice& n) {
  auto stmt = replica_.Statement(kUpsertNotice);
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)->Bind(1, n.id).Bind(2, n.kind).Bind(3, n.status).Bind(4, n.table).Bind(5, n.record_id);
  (*stmt)->Bind(6, OrNull(n.field)).Bind(7, OrNull(n.other_id)).Bind(8, n.base_value).Bind(9, n.server_value);
  (*stmt)->Bind(10, n.device_value).Bind(11, OrNull(n.device)).Bind(12, OrNull(n.server_device));
  (*stmt)->Bind(13, n.settled_value).Bind(14, OrNull(n.settlement)).Bind(15, n.seq);
  return (*stmt)->Run();
}

Result<sync::PushRequest> SqliteReplicaPort::LoadBatch(const std::string& batch_key) {
  auto stmt = replica_.Statement(kSelectBatch);
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)->Bind(1, batch_key);
  sync::PushRequest request;
  request.batch_key = batch_key;
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    sync::Change c;
    c.change_id = (*stmt)->Text(0);
    c.table = (*stmt)->Text(1);
    c.record_id = (*stmt)->Text(2);
    c.op = (*stmt)->Text(3) == "create" ? sync::Op::kCreate : sync::Op::kUpdate;
    const std::string fields_text = (*stmt)->Text(4);
    const schema::Table* table = schema::FindTable(c.table);
    if (c.op == sync::Op::kCreate && fields_text == sync::kFieldsFromRow && table) {
      // Taken into the batch with its values in its row, which has not changed since (or the
      // entry would have been frozen first: client/pending_creates.h).
      auto from_row = RowCreateFields(replica_, *table, c.record_id);
      if (!from_row) return from_row.error();
      if (!*from_row) {
        return MakeError(ErrorCode::kInternal, "le lot " + batch_key + " ne retrouve plus la fiche " + c.record_id +
                                                   " ; rien n'a été envoyé à nouveau, signalez-le");
      }
      c.fields = std::move(**from_row);
    } else {
      auto fields = sync::DecodeOutboxFields(c.op, fields_text);
      if (!fields) return fields.error();
      c.fields = std::move(*fields);
    }
    c.base_version = (*stmt)->Int(5);
    c.hlc = (*stmt)->Text(6);
    request.changes.push_back(std::move(c));
  }
  return request;
}

namespace {

// The case an outbox entry concerns, as the replica knows it now: the record of a case, the case of
// a record that follows one (a follow-up, a referral: its row, or the case its create names).
const std::string& CaseOfEntrySql() {
  static const std::string sql = [] {
    std::string cases = "CASE outbox.tbl WHEN 'cases' THEN outbox.record_id";
    for (const schema::Table& t : schema::Tables()) {
      if (t.scope != schema::Scope::kParentCase) continue;
      const std::string name(t.name);
      cases.append(" WHEN '")
          .append(name)
          .append("' THEN coalesce((SELECT f.case_id FROM ")
          .append(name)
          .append(" f WHERE f.id = outbox.record_id), CASE WHEN json_valid(outbox.fields) AND json_type(outbox.fields, "
                  "'$.case_id') = 'text' THEN json_extract(outbox.fields, '$.case_id') END)");
    }
    return cases + " END";
  }();
  return sql;
}

// The ids of the records that follow case ?1 (scope kParentCase: follow-ups, referrals).
const std::string& ChildrenOfCaseSql() {
  static const std::string sql = [] {
    std::string ids;
    for (const schema::Table& t : schema::Tables()) {
      if (t.scope != schema::Scope::kParentCase) continue;
      ids += (ids.empty() ? "" : " UNION ALL ") + ("SELECT id FROM " + std::string(t.name) + " WHERE case_id = ?1");
    }
    return ids;
  }();
  return sql;
}

// What an UPDATE of the outbox sets on the entries it marks rejected, besides the reason: out of any
// batch, and the case they concern named while the replica still holds it.
std::string RejectedSet() {
  static const std::string set = "state = 'rejected', batch_key = NULL, reject_case_id = " + OutboxCaseIdSql() +
                                 ", reject_case_name = " + OutboxCaseNameSql();
  return set;
}

}  // namespace

const std::string& OutboxCaseIdSql() {
  static const std::string sql = "coalesce(outbox.reject_case_id, " + CaseOfEntrySql() + ")";
  return sql;
}

const std::string& OutboxCaseNameSql() {
  static const std::string sql =
      std::string(
          "coalesce(outbox.reject_case_name, (SELECT c.last_name || ' ' || c.first_name FROM cases c "
          "WHERE c.id = (") +
      CaseOfEntrySql() + ")))";
  return sql;
}

Result<std::optional<sync::PushRequest>> SqliteReplicaPort::UnacknowledgedBatch() {
  auto stmt = replica_.db().Prepare(
      "SELECT batch_key FROM outbox WHERE batch_key IS NOT NULL AND state = 'pending' ORDER BY seq LIMIT 1");
  if (!stmt) return stmt.error();
  auto row = stmt->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<sync::PushRequest>();
  auto batch = LoadBatch(stmt->Text(0));
  if (!batch) return batch.error();
  return std::optional<sync::PushRequest>(std::move(*batch));
}

namespace {

// The bytes of a change's values, as counted against SqliteReplicaPort::kMaxBatchValueBytes.
size_t ValueBytes(const std::vector<sync::FieldChange>& fields) {
  size_t n = 0;
  for (const sync::FieldChange& f : fields)
    n += f.field.size() + (f.value ? f.value->size() : 0) + (f.base ? f.base->size() : 0);
  return n;
}

// True when a change of `more` bytes would take a batch that already holds changes over the budget.
bool OverBudget(const sync::PushRequest& request, size_t bytes, size_t more) {
  return !request.changes.empty() && bytes + more > SqliteReplicaPort::kMaxBatchValueBytes;
}

}  // namespace

Result<std::optional<sync::PushRequest>> SqliteReplicaPort::FormBatch(size_t max_changes) {
  // The batch is built as its entries are assigned, from the same values that are written: the
  // same request LoadBatch() reads back when it is resent (the wire encoding does not depend on the
  // order of a create's fields).
  sync::PushRequest request;
  request.batch_key = RandomHex(16);
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();
  auto candidates = replica_.db().Prepare(
      "SELECT seq, change_id, tbl, record_id, op, fields, base_version, hlc FROM outbox "
      "WHERE batch_key IS NULL AND state = 'pending' ORDER BY seq LIMIT ?1");
  auto orphan = replica_.db().Prepare("UPDATE outbox SET " + RejectedSet() +
                                      ", reject_reason = 'la fiche n''est plus sur cet appareil' WHERE seq = ?1");
  auto assign = replica_.db().Prepare("UPDATE outbox SET batch_key = ?2 WHERE seq = ?1");
  // A create that took its values from the row is frozen and assigned in one write.
  auto freeze = replica_.db().Prepare("UPDATE outbox SET batch_key = ?2, fields = ?3 WHERE seq = ?1");
  if (!candidates) return candidates.error();
  if (!orphan) return orphan.error();
  if (!assign) return assign.error();
  if (!freeze) return freeze.error();
  candidates->Bind(1, static_cast<int64_t>(max_changes));
  size_t bytes = 0;
  bool full = false;
  while (true) {
    auto row = candidates->Step();
    if (!row) return row.error();
    if (!*row) break;
    const int64_t seq = candidates->Int(0);
    sync::Change c;
    c.change_id = candidates->Text(1);
    c.table = candidates->Text(2);
    c.record_id = candidates->Text(3);
    c.op = candidates->Text(4) == "create" ? sync::Op::kCreate : sync::Op::kUpdate;
    std::string fields = candidates->Text(5);
    c.base_version = candidates->Int(6);
    c.hlc = candidates->Text(7);
    const schema::Table* table = schema::FindTable(c.table);
    if (c.op == sync::Op::kCreate && fields == sync::kFieldsFromRow && table) {
      // The row is the create until now: copy its values in, frozen from here on.
      auto frozen = RowCreateFields(replica_, *table, c.record_id);
      if (!frozen) return frozen.error();
      if (!*frozen) {
        orphan->Bind(1, seq);
        RELAIS_TRY(orphan->Run());
        orphan->Reset();
        continue;
      }
      c.fields = std::move(**frozen);
      if ((full = OverBudget(request, bytes, ValueBytes(c.fields)))) break;
      freeze->Bind(1, seq).Bind(2, request.batch_key).Bind(3, sync::EncodeOutboxFields(sync::Op::kCreate, c.fields));
      RELAIS_TRY(freeze->Run());
      freeze->Reset();
    } else {
      auto decoded = sync::DecodeOutboxFields(c.op, fields);
      if (!decoded) return decoded.error();
      c.fields = std::move(*decoded);
      if ((full = OverBudget(request, bytes, ValueBytes(c.fields)))) break;
      assign->Bind(1, seq).Bind(2, request.batch_key);
      RELAIS_TRY(assign->Run());
      assign->Reset();
    }
    bytes += ValueBytes(c.fields);
    request.changes.push_back(std::move(c));
  }
  if (!full) RELAIS_TRY(BatchUnsentCreates(request, max_changes - request.changes.size(), bytes));
  RELAIS_TRY(tx->Commit());
  if (request.changes.empty()) return std::optional<sync::PushRequest>();
  return std::optional<sync::PushRequest>(std::move(request));
}

// After every outbox entry (they are older, and an update's create is in the outbox before it:
// client/pending_creates.h), the creates still held by their rows alone, cases before their
// follow-ups: tables in declaration order, rows in the order they were written. Their entries are
// written into the batch, frozen from here on, and added to `request` as written.
Status SqliteReplicaPort::BatchUnsentCreates(sync::PushRequest& request, size_t room, size_t& bytes) {
  const std::vector<schema::Table>& tables = schema::Tables();
  unsent_after_.resize(tables.size(), 0);
  std::vector<int64_t> positions;  // the rowid of each change of the batch taken here, 0 for the others
  for (size_t t = 0; t < tables.size() && room > 0; ++t) {
    const schema::Table& table = tables[t];
    const std::string name(table.name);
    std::vector<int64_t> rowids;
    auto unsent =
        Records(replica_).Query(table,
                                "SELECT " + RecordColumns(table, "r.") + ", r.rowid FROM " + name +
                                    " AS r WHERE r.rowid > CAST(?1 AS INTEGER) AND " + UnsentCreateCondition("r") +
                                    " ORDER BY r.rowid LIMIT CAST(?2 AS INTEGER)",
                                {std::to_string(unsent_after_[t]), std::to_string(room)}, rowids);
    if (!unsent) return unsent.error();
    if (unsent->empty()) continue;
    size_t taken = 0;
    bool full = false;
    for (schema::Record& r : *unsent) {
      size_t more = 0;
      for (size_t i = 0; i < r.values.size(); ++i)
        more += r.values[i] ? table.fields[i].name.size() + r.values[i]->size() : 0;
      if ((full = OverBudget(request, bytes, more))) break;
      auto written =
          WriteCreateEntry(replica_, table, std::move(r), request.batch_key, CreateValues::kFromRow);  // r keeps its id
      if (!written) return written.error();
      request.changes.push_back(std::move(*written));
      positions.resize(request.changes.size(), 0);
      positions.back() = rowids[taken];
      bytes += more;
      ++taken;
    }
    if (taken > 0) unsent_after_[t] = rowids[taken - 1];
    if (full) break;
    room -= taken;
  }
  if (!positions.empty()) batched_rowids_[request.batch_key] = std::move(positions);
  return OkStatus();
}

// The statements that give a row its version, per table, prepared once per acknowledgement: by
// rowid, then by id.
class SqliteReplicaPort::RowVersions {
 public:
  explicit RowVersions(Replica& replica) : replica_(replica) { tables_.reserve(schema::Tables().size()); }

  struct Statements {
    const schema::Table* table;
    sqlite::Stmt* by_rowid;
    sqlite::Stmt* by_id;
  };
  Result<const Statements*> For(const schema::Table& table) {
    for (const Statements& s : tables_) {
      if (s.table == &table) return &s;
    }
    const std::string name(table.name);
    auto by_rowid =
        replica_.Statement("UPDATE " + name + " SET version = ?2 WHERE rowid = ?4 AND id = ?1 AND version = ?3");
    if (!by_rowid) return by_rowid.error();
    auto by_id = replica_.Statement("UPDATE " + name + " SET version = ?2 WHERE id = ?1 AND version = ?3");
    if (!by_id) return by_id.error();
    tables_.push_back({&table, *by_rowid, *by_id});
    return &tables_.back();  // stays valid: reserved for every table
  }

 private:
  Replica& replica_;
  std::vector<Statements> tables_;
};

Status SqliteReplicaPort::AcknowledgeBatch(const sync::PushRequest& request, const sync::PushResponse& response) {
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();
  auto entries = ReadBatchEntries(request.batch_key);
  if (!entries) return entries.error();
  const sync::AnswerMatch match = sync::MatchAnswer(entries->change_ids, request, response);
  const auto batched = batched_rowids_.find(request.batch_key);
  RowVersions versions(replica_);
  auto reject = replica_.db().Prepare("UPDATE outbox SET " + RejectedSet() +
                                      ", reject_reason = ?2, reject_code = nullif(?3, '') WHERE seq = ?1");
  if (!reject) return reject.error();
  for (const sync::AnswerMatch::Answered& m : match.answered) {
    const sync::ChangeResult& r = response.results[m.result];
    const sync::Change* change = m.change == sync::kUnmatched ? nullptr : &request.changes[m.change];
    if (change != nullptr && sync::TakesCentreVersion(*change, r)) {
      const bool formed_here = batched != batched_rowids_.end() && m.change < batched->second.size();
      RELAIS_TRY(GiveCentreVersion(versions, *change, r.version, formed_here ? batched->second[m.change] : 0));
    }
    if (r.status == sync::ChangeStatus::kRejected) {
      RELAIS_TRY(KeepRejected(*reject, entries->seqs[m.entry], change, r.reason, r.code));
    } else if (change != nullptr && !r.stored.empty()) {
      RELAIS_TRY(TakeStoredValues(*change, request.batch_key, r.stored));
    }
  }
  RELAIS_TRY(ReleaseEntries(entries->seqs, match.unanswered));
  RELAIS_TRY(DropAccepted(request));
  RELAIS_TRY(tx->Commit());
  batched_rowids_.erase(request.batch_key);
  return OkStatus();
}

// change_id has no index: the batch's entries are read once by its key (outbox_by_batch), in the
// order of its changes (seq: FormBatch takes them in that order and writes its creates' entries
// after them), the order the centre answers in too (sync::MatchAnswer).
Result<SqliteReplicaPort::BatchEntries> SqliteReplicaPort::ReadBatchEntries(const std::string& batch_key) {
  auto read = replica_.db().Prepare("SELECT seq, change_id FROM outbox WHERE batch_key = ?1 ORDER BY seq");
  if (!read) return read.error();
  read->BindBorrowed(1, batch_key);
  BatchEntries entries;
  while (true) {
    auto row = read->Step();
    if (!row) return row.error();
    if (!*row) break;
    entries.seqs.push_back(read->Int(0));
    entries.change_ids.push_back(read->Text(1));
  }
  return entries;
}

Status SqliteReplicaPort::GiveCentreVersion(RowVersions& versions, const sync::Change& change, int64_t version,
                                            int64_t rowid) {
  const schema::Table* table = schema::FindTable(change.table);
  if (table == nullptr) return OkStatus();
  auto statements = versions.For(*table);
  if (!statements) return statements.error();
  if (rowid > 0) {
    sqlite::Stmt& by_rowid = *(*statements)->by_rowid;
    sqlite::StmtGuard guard(by_rowid);
    by_rowid.BindBorrowed(1, change.record_id).Bind(2, version).Bind(3, change.base_version).Bind(4, rowid);
    RELAIS_TRY(by_rowid.Run());
    if (replica_.db().Changes() > 0) return OkStatus();
  }
  sqlite::Stmt& by_id = *(*statements)->by_id;
  sqlite::StmtGuard guard(by_id);
  by_id.BindBorrowed(1, change.record_id).Bind(2, version).Bind(3, change.base_version);
  return by_id.Run();
}

Status SqliteReplicaPort::TakeStoredValues(const sync::Change& change, const std::string& batch_key,
                                           const std::vector<std::pair<std::string, schema::Value>>& stored) {
  const schema::Table* table = schema::FindTable(change.table);
  if (table == nullptr) return OkStatus();
  // Fields edited again since this batch was formed keep the device's newer value on top.
  std::unordered_set<std::string> later;
  auto entries = replica_.db().Prepare(
      "SELECT fields FROM outbox WHERE tbl = ?1 AND record_id = ?2 AND op = 'update' AND "
      "(batch_key IS NULL OR batch_key <> ?3)");
  if (!entries) return entries.error();
  entries->Bind(1, change.table).Bind(2, change.record_id).Bind(3, batch_key);
  while (true) {
    auto row = entries->Step();
    if (!row) return row.error();
    if (!*row) break;
    auto fields = sync::DecodeOutboxFields(sync::Op::kUpdate, entries->Text(0));
    if (!fields) return fields.error();
    for (const sync::FieldChange& f : *fields) later.insert(f.field);
  }
  for (const auto& [name, value] : stored) {
    const schema::Field* field = table->FindField(name);
    if (field == nullptr || later.contains(name)) continue;
    auto put = replica_.db().Prepare("UPDATE " + std::string(table->name) + " SET " + std::string(field->name) +
                                     " = ?2 WHERE id = ?1");
    if (!put) return put.error();
    put->Bind(1, change.record_id).Bind(2, *field, value);
    RELAIS_TRY(put->Run());
  }
  return OkStatus();
}

Status SqliteReplicaPort::KeepRejected(sqlite::Stmt& reject, int64_t seq, const sync::Change* change,
                                       const std::string& reason, const std::string& code) {
  if (change != nullptr && change->op == sync::Op::kCreate) {
    if (const schema::Table* table = schema::FindTable(change->table)) {
      auto frozen = FreezeCreateEntry(replica_, *table, change->record_id, seq);
      if (!frozen) return frozen.error();
    }
  }
  // Out of the batch (batch_key NULL): DropAccepted leaves it.
  sqlite::StmtGuard guard(reject);
  reject.Bind(1, seq).Bind(2, reason).Bind(3, code);
  return reject.Run();
}

Status SqliteReplicaPort::ReleaseEntries(const std::vector<int64_t>& seqs, const std::vector<size_t>& positions) {
  if (positions.empty()) return OkStatus();
  auto release = replica_.db().Prepare("UPDATE outbox SET batch_key = NULL WHERE seq = ?1");
  if (!release) return release.error();
  for (size_t p : positions) {
    release->Bind(1, seqs[p]);
    RELAIS_TRY(release->Run());
    release->Reset();
  }
  return OkStatus();
}

Status SqliteReplicaPort::DropAccepted(const sync::PushRequest& request) {
  auto done = replica_.db().Prepare("DELETE FROM outbox WHERE batch_key = ?1");
  if (!done) return done.error();
  done->Bind(1, request.batch_key);
  RELAIS_TRY(done->Run());
  // The clock, not the batch's last stamp: a centre's time folded in before may be later, and the
  // saved clock must never go back.
  if (!request.changes.empty()) RELAIS_TRY(replica_.SetState(kStateHlcLast, replica_.hlc().last().ToString()));
  return OkStatus();
}

Status SqliteReplicaPort::RejectChange(const std::string& batch_key, const std::string& change_id,
                                       const std::string& reason) {
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();
  // A refused create keeps its values as sent in its entry, whatever becomes of the row.
  std::optional<std::tuple<int64_t, std::string, std::string>> create;
  {
    auto stmt = replica_.db().Prepare(
        "SELECT seq, tbl, record_id FROM outbox WHERE batch_key = ?2 AND change_id = ?1 AND op = 'create'");
    if (!stmt) return stmt.error();
    stmt->Bind(1, change_id).Bind(2, batch_key);
    auto row = stmt->Step();
    if (!row) return row.error();
    if (*row) create.emplace(stmt->Int(0), stmt->Text(1), stmt->Text(2));
  }
  if (create) {
    const auto& [seq, tbl, record_id] = *create;
    if (const schema::Table* table = schema::FindTable(tbl)) {
      auto frozen = FreezeCreateEntry(replica_, *table, record_id, seq);
      if (!frozen) return frozen.error();
    }
  }
  auto reject = replica_.db().Prepare("UPDATE outbox SET " + RejectedSet() +
                                      ", reject_reason = ?2 WHERE batch_key = ?3 AND change_id = ?1");
  if (!reject) return reject.error();
  reject->Bind(1, change_id).Bind(2, reason).Bind(3, batch_key);
  RELAIS_TRY(reject->Run());
  // The batch's other changes, and those of batches formed after it, are formed anew in order.
  // A later batch may have been sent and applied already: its changes keep their ids, and the
  // centre answers a change id it applied before with its first outcome.
  RELAIS_TRY(replica_.db().Exec("UPDATE outbox SET batch_key = NULL WHERE batch_key IS NOT NULL"));
  RELAIS_TRY(tx->Commit());
  batched_rowids_.clear();  // those batches are no more: their changes are found by id
  return OkStatus();
}

Result<int64_t> SqliteReplicaPort::PullCursor() {
  auto v = replica_.GetState(kStatePullCursor);
  if (!v) return v.error();
  if (!*v) return int64_t{0};
  return static_cast<int64_t>(std::stoll(**v));
}

Result<int64_t> SqliteReplicaPort::PendingCount() {
  auto stmt = replica_.db().Prepare("SELECT count(*) FROM outbox WHERE state = 'pending'");
  if (!stmt) return stmt.error();
  auto row = stmt->Step();
  if (!row) return row.error();
  int64_t pending = stmt->Int(0);
  for (const schema::Table& t : schema::Tables()) {
    auto unsent = CountUnsentCreates(replica_, t);
    if (!unsent) return unsent.error();
    pending += *unsent;
  }
  return pending;
}

Result<std::vector<std::string>> SqliteReplicaPort::LocalFields(const std::string& table, const std::string& id) {
  auto stmt = replica_.Statement("SELECT op, fields FROM outbox WHERE tbl = ?1 AND record_id = ?2");
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)->Bind(1, table).Bind(2, id);
  std::vector<std::string> names;
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    sync::Op op = (*stmt)->Text(0) == "create" ? sync::Op::kCreate : sync::Op::kUpdate;
    if (op == sync::Op::kCreate && (*stmt)->Text(1) == sync::kFieldsFromRow) {
      if (const schema::Table* t = schema::FindTable(table)) {
        for (const schema::Field& f : t->fields) names.emplace_back(f.name);
      }
      continue;
    }
    auto fields = sync::DecodeOutboxFields(op, (*stmt)->Text(1));
    if (!fields) return fields.error();
    for (auto& f : *fields) names.push_back(f.field);
  }
  return names;
}

Status SqliteReplicaPort::ApplyPage(const sync::PullPage& page) {
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();

  // With an empty outbox (the usual case after push) no record can have local edits to keep.
  auto outbox_rows = replica_.db().Prepare("SELECT EXISTS (SELECT 1 FROM outbox)");
  if (!outbox_rows) return outbox_rows.error();
  auto has = outbox_rows->Step();
  if (!has) return has.error();
  bool outbox_empty = outbox_rows->Int(0) == 0;

  // Records of cases purged from this device (client/purge.h) are looked up only when there are any.
  auto any_purged = AnyPurged(replica_);
  if (!any_purged) return any_purged.error();
  const bool purged = *any_purged;

  // Notices before removals, so that a case leaving the scope takes its conflicts with it even when
  // the same page settled them.
  for (const sync::ConflictNotice& n : page.conflicts) RELAIS_TRY(StoreNotice(n));

  // Removals first: a record that left the device's scope goes, with a case's follow-ups, unless the
  // same page brings it back at a later version. Local changes to it can no longer be accepted:
  // they are marked rejected, kept and shown, never dropped.
  for (const sync::Removal& r : page.removed) {
    bool back = false;
    for (const sync::PulledRecord& pr : page.records)
      back = back || (pr.record.id == r.record_id && pr.record.version > r.seq);
    if (back) continue;
    const schema::Table* table = schema::FindTable(r.table);
    if (!table) continue;
    if (purged) RELAIS_TRY(ForgetPurged(replica_, r.record_id));
    if (r.erased) {
      RELAIS_TRY(EraseRecord(*table, r.record_id));
      continue;
    }
    RELAIS_TRY(ApplyRemoval(*table, r.record_id, r.seq, /*moved=*/true, /*keep_pending=*/false, r.to));
  }

  // A large page keeps what the replica derives from the rows it inserts (the search index, the open
  // next actions) in one pass per table at its end (client/bulk_load.h) instead of triggers on
  // each row; rows it updates go through the update triggers as always. Only when no record comes twice: a row inserted and then updated within the
  // bulk load would be taken out of an index it is not in yet.
  std::vector<BulkLoad> bulk;
  if (page.records.size() >= kBulkIndexRecords && EachRecordOnce(page)) {
    for (const schema::Table& t : schema::Tables()) {
      auto load = BulkLoad::Begin(replica_.db(), t.name);
      if (!load) return load.error();
      bulk.push_back(std::move(*load));
    }
  }
  for (const sync::PulledRecord& pr : page.records) {
    const schema::Table* table = schema::FindTable(pr.table);
    if (!table)
      return MakeError(ErrorCode::kProtocol, "le centre a envoyé une fiche d'une table inconnue : " + pr.table);
    if (purged) {
      auto kept = KeepPurged(replica_, digester_, *table, pr.record, pr.digests ? &*pr.digests : nullptr);
      if (!kept) return kept.error();
      if (*kept) continue;
    }
    RELAIS_TRY(ApplyRecord(*table, pr.record, outbox_empty, true, pr.digests ? &*pr.digests : nullptr));
  }
  for (BulkLoad& load : bulk) RELAIS_TRY(load.Finish());
  // The centre's clock is folded in within the page's transaction: on its own, after the page, it
  // took a commit and its fsync per page (a tenth of a pull). ObserveCentralClock then finds it
  // folded and writes nothing. Should the page roll back, the clock stays ahead in memory only,
  // which a clock that never goes back allows.
  if (page.now_ms > 0) RELAIS_TRY(FoldCentralClock(page.now_ms));
  RELAIS_TRY(replica_.SetState(kStatePullCursor, std::to_string(page.next)));
  return tx->Commit();
}

Status SqliteReplicaPort::ApplyRemoval(const schema::Table& table, const std::string& id, int64_t seq, bool moved,
                                       bool keep_pending, const std::string& to) {
  // A create that still takes its values from the row must get them before the row goes.
  RELAIS_TRY(FreezeCreatesUnder(table, id));
  // Local changes are marked before the rows go, so that they keep the case's names.
  if (!keep_pending) {
    auto orphan = replica_.db().Prepare(
        "UPDATE outbox SET " + RejectedSet() +
        ", reject_reason = 'le dossier a quitté les territoires de cet appareil avant l''envoi de la modification' "
        "WHERE state = 'pending' AND (record_id = ?1 OR record_id IN (" +
        ChildrenOfCaseSql() + "))");
    if (!orphan) return orphan.error();
    orphan->Bind(1, id);
    RELAIS_TRY(orphan->Run());
  }
  if (moved && table.name == "cases") {
    // Every change of this replica's to the case or its follow-ups that stays, refused: marked just
    // now, or by the centre before.
    auto kept = replica_.db().Prepare(
        "SELECT count(*) FROM outbox WHERE state = 'rejected' AND (record_id = ?1 OR record_id IN (" +
        ChildrenOfCaseSql() + "))");
    if (!kept) return kept.error();
    kept->Bind(1, id);
    auto counted = kept->Step();
    if (!counted) return counted.error();
    const int64_t rejected = *counted ? kept->Int(0) : 0;
    // Named while its rows are still here: the person, and the follow-ups that leave with the case.
    auto named = replica_.db().Prepare(
        "SELECT last_name || ' ' || first_name, (SELECT count(*) FROM followups WHERE case_id = ?1) FROM cases "
        "WHERE id = ?1 AND version < ?2");
    if (!named) return named.error();
    named->Bind(1, id).Bind(2, seq);
    auto row = named->Step();
    if (!row) return row.error();
    if (*row) removed_cases_.push_back({id, named->Text(0), to, named->Int(1), rejected});
  }
  auto del = replica_.db().Prepare("DELETE FROM " + std::string(table.name) + " WHERE id = ?1 AND version < ?2");
  if (!del) return del.error();
  del->Bind(1, id).Bind(2, seq);
  RELAIS_TRY(del->Run());
  // Its digests as the centre held it go with it (they derive from its values).
  auto del_digests =
      replica_.db().Prepare("DELETE FROM central_digests WHERE id = ?1 OR id IN (" + ChildrenOfCaseSql() + ")");
  if (!del_digests) return del_digests.error();
  del_digests->Bind(1, id);
  RELAIS_TRY(del_digests->Run());
  auto del_conflicts =
      replica_.db().Prepare("DELETE FROM conflicts WHERE record_id = ?1 OR record_id IN (" + ChildrenOfCaseSql() + ")");
  if (!del_conflicts) return del_conflicts.error();
  del_conflicts->Bind(1, id);
  RELAIS_TRY(del_conflicts->Run());
  if (table.name == "cases") {
    for (const schema::Table& t : schema::Tables()) {
      if (t.scope != schema::Scope::kParentCase) continue;
      auto del_children = replica_.db().Prepare("DELETE FROM " + std::string(t.name) + " WHERE case_id = ?1");
      if (!del_children) return del_children.error();
      del_children->Bind(1, id);
      RELAIS_TRY(del_children->Run());
    }
  }
  return OkStatus();
}

Status SqliteReplicaPort::EraseRecord(const schema::Table& table, const std::string& id) {
  // The records linked to a case: the ids of every table with a `case_id` field, as one subquery.
  std::string linked;
  for (const schema::Table& t : schema::Tables()) {
    if (!t.FindField("case_id")) continue;
    linked += std::string(linked.empty() ? "" : " UNION ALL ") + "SELECT id FROM " + std::string(t.name) +
              " WHERE case_id = ?1";
  }
  if (table.name == "cases") {
    auto held = replica_.db().Prepare("SELECT count(*) FROM cases WHERE id = ?1");
    if (!held) return held.error();
    held->Bind(1, id);
    auto row = held->Step();
    if (!row) return row.error();
    if (*row && held->Int(0) > 0) ++erased_cases_;
  }
  const std::string statements[] = {
      "DELETE FROM outbox WHERE record_id = ?1 OR reject_case_id = ?1 OR record_id IN (" + linked + ")",
      "DELETE FROM discarded_changes WHERE record_id = ?1 OR case_id = ?1 OR record_id IN (" + linked + ")",
      "DELETE FROM conflicts WHERE record_id = ?1 OR other_id = ?1 OR record_id IN (" + linked + ")",
      "DELETE FROM central_digests WHERE id = ?1 OR id IN (" + linked + ")",
      "DELETE FROM purged_records WHERE id = ?1 OR case_id = ?1",
  };
  for (const std::string& sql : statements) {
    auto stmt = replica_.db().Prepare(sql);
    if (!stmt) return stmt.error();
    stmt->Bind(1, id);
    RELAIS_TRY(stmt->Run());
  }
  for (const schema::Table& t : schema::Tables()) {
    if (&t != &table && !(table.name == "cases" && t.FindField("case_id"))) continue;
    auto del = replica_.db().Prepare("DELETE FROM " + std::string(t.name) +
                                     (&t == &table ? " WHERE id = ?1" : " WHERE case_id = ?1"));
    if (!del) return del.error();
    del->Bind(1, id);
    RELAIS_TRY(del->Run());
  }
  return replica_.SetState(kStateScrubDue, "1");
}

Status ScrubErased(Replica& replica) {
  auto due = replica.GetState(kStateScrubDue);
  if (!due) return due.error();
  if (!*due || **due != "1") return OkStatus();
  RELAIS_TRY(replica.db().Exec("INSERT INTO cases_fts(cases_fts) VALUES ('rebuild')"));
  RELAIS_TRY(replica.db().Exec("VACUUM"));
  RELAIS_TRY(replica.SetState(kStateScrubDue, "0"));
  auto checkpoint = replica.db().Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  if (!checkpoint) return checkpoint.error();
  auto row = checkpoint->Step();
  if (!row) return row.error();
  if (*row && checkpoint->Int(0) != 0) {
    return MakeError(ErrorCode::kIo,
                     "effacement : le journal de la base n'a pas pu être vidé (une autre commande "
                     "relais tient la base ouverte) ; relancez `relais sync` quand elle a fini");
  }
  return OkStatus();
}

Status SqliteReplicaPort::ApplyRecord(const schema::Table& table, const schema::Record& record, bool outbox_empty,
                                      bool forward_only, const sync::StoredDigests* digested) {
  // The pulled values as they are (bound without a copy), or rebased under local edits.
  const std::vector<schema::Value>* values = &record.values;
  std::vector<schema::Value> rebased;
  if (!outbox_empty) {
    auto local_fields = LocalFields(std::string(table.name), record.id);
    if (!local_fields) return local_fields.error();
    if (!local_fields->empty()) {
      auto local = replica_.Get(table, record.id);
      if (!local) return local.error();
      if (*local) values = &(rebased = sync::RebaseLocal(table, record.values, (*local)->values, *local_fields));
      RELAIS_TRY(KeepCentralDigest(record));
    }
  }
  // The upsert leaves a row at version 0 alone: it is a create the centre has not accepted, whose
  // values must not be overwritten before they are kept (below).
  auto stmt = replica_.Statement(UpsertSql(table, true));
  if (!stmt) return stmt.error();
  const sync::StoredDigests digests =
      digested ? *digested : sync::DigestsOf(digester_, record.id, record.version, record.values);
  const int digest_param = static_cast<int>(table.fields.size()) + 3;
  {
    sqlite::StmtGuard guard(**stmt);
    (*stmt)->Bind(1, record.id).Bind(2, record.version);
    for (size_t i = 0; i < table.fields.size(); ++i) {
      (*stmt)->BindBorrowed(static_cast<int>(i + 3), table.fields[i], (*values)[i]);
    }
    (*stmt)->Bind(digest_param, digests.key).Bind(digest_param + 1, digests.values);
    RELAIS_TRY((*stmt)->Run());
  }
  if (replica_.db().Changes() > 0) return OkStatus();
  auto local = replica_.Get(table, record.id);
  if (!local) return local.error();
  if (forward_only && *local && (*local)->version > record.version) {
    // A record never goes back to an older version: the centre that sends one is not the one whose
    // changes this replica holds, or it is broken. The caller's transaction rolls the page back.
    return MakeError(ErrorCode::kProtocol,
                     "réception des nouveautés du centre : page refusée (rien n'en est "
                     "enregistré) : " +
                         std::string(table.name) + ", fiche " + record.id + " : version " +
                         std::to_string(record.version) + " plus ancienne que celle que cette base détient (" +
                         std::to_string((*local)->version) +
                         "). La base locale et vos saisies en attente sont intactes ; "
                         "signalez-le à l'équipe centrale.");
  }
  // The centre sent a record this device holds as a pending create (it never should: a device
  // pushes before it pulls). As with any local change, the create is kept in the outbox, its
  // fields stay on top of the centre's values, and the centre will answer it.
  auto materialized = MaterializeCreate(replica_, table, record.id);
  if (!materialized) return materialized.error();
  auto local_fields = LocalFields(std::string(table.name), record.id);
  if (!local_fields) return local_fields.error();
  local = replica_.Get(table, record.id);
  if (!local) return local.error();
  rebased = *local ? sync::RebaseLocal(table, record.values, (*local)->values, *local_fields) : record.values;
  if (!local_fields->empty()) RELAIS_TRY(KeepCentralDigest(record));
  auto overwrite = replica_.Statement(UpsertSql(table));
  if (!overwrite) return overwrite.error();
  sqlite::StmtGuard guard(**overwrite);
  (*overwrite)->Bind(1, record.id).Bind(2, record.version);
  for (size_t i = 0; i < table.fields.size(); ++i)
    (*overwrite)->Bind(static_cast<int>(i + 3), table.fields[i], rebased[i]);
  (*overwrite)->Bind(digest_param, digests.key).Bind(digest_param + 1, digests.values);
  return (*overwrite)->Run();
}

Status SqliteReplicaPort::FreezeCreatesUnder(const schema::Table& table, const std::string& record_id) {
  // Creates still held by their rows alone get their entries first, then every create is frozen.
  auto own = MaterializeCreate(replica_, table, record_id);
  if (!own) return own.error();
  RELAIS_TRY(MaterializeChildCreates(replica_, table, record_id));
  auto stmt = replica_.db().Prepare(
      "SELECT seq, tbl, record_id FROM outbox WHERE op = 'create' AND fields = ?2 AND "
      "(record_id = ?1 OR (?3 AND record_id IN (" +
      ChildrenOfCaseSql() + ")))");
  if (!stmt) return stmt.error();
  stmt->Bind(1, record_id).Bind(2, sync::kFieldsFromRow).Bind(3, static_cast<int64_t>(table.name == "cases"));
  std::vector<std::tuple<int64_t, std::string, std::string>> creates;
  while (true) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) break;
    creates.emplace_back(stmt->Int(0), stmt->Text(1), stmt->Text(2));
  }
  for (const auto& [seq, tbl, id] : creates) {
    const schema::Table* t = schema::FindTable(tbl);
    if (!t) continue;
    auto frozen = FreezeCreateEntry(replica_, *t, id, seq);
    if (!frozen) return frozen.error();
  }
  return OkStatus();
}

// ---- the divergence check and its recovery --------------------------------------------------------

namespace {
// Rows the centre has not accepted yet are not part of its view: they are at version 0 (a pulled
// record always has a version, an accepted create gets its own: client/pending_creates.h).
constexpr const char* kNotLocalCreate = "version > 0";
}  // namespace

namespace {

// The text of a column without a copy, valid until the statement steps again; nullopt for NULL.
std::optional<std::string_view> ColumnView(const sqlite::Stmt& stmt, int col) {
  if (stmt.IsNull(col)) return std::nullopt;
  const unsigned char* text = sqlite3_column_text(stmt.handle(), col);
  const int size = sqlite3_column_bytes(stmt.handle(), col);
  return std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

// A record with local changes, as the centre last held it before them: the base value of the
// earliest change of each field it changed (by field index). A create the centre has accepted
// while it is still in the outbox has no base: its row is taken as it is.
struct LocalChanges {
  std::unordered_map<int, schema::Value> bases;
  bool create = false;
};

// Reads outbox entries (tbl, record_id, op, fields, in sequence order) from `entries` into `changed`,
// by record id.
Status ReadLocalChanges(sqlite::Stmt& entries, std::unordered_map<std::string, LocalChanges>& changed) {
  while (true) {
    auto row = entries.Step();
    if (!row) return row.error();
    if (!*row) return OkStatus();
    const schema::Table* table = schema::FindTable(entries.Text(0));
    if (table == nullptr) continue;
    LocalChanges& local = changed[entries.Text(1)];
    if (entries.Text(2) == "create") {
      local.create = true;
      continue;
    }
    auto fields = sync::DecodeOutboxFields(sync::Op::kUpdate, entries.Text(3));
    if (!fields) return fields.error();
    for (sync::FieldChange& f : *fields) {
      const int index = table->FieldIndex(f.field);
      if (index >= 0) local.bases.emplace(index, std::move(f.base));  // the earliest stays
    }
  }
}

constexpr const char* kOutboxEntries = "SELECT tbl, record_id, op, fields FROM outbox";

}  // namespace

Status SqliteReplicaPort::KeepCentralDigest(const schema::Record& record) {
  // `expected`: the digest LocalDigest finds for this record's row, the base of each field changed
  // here in place of its value, while nothing altered the row (NULL for a create, taken as it is).
  std::unordered_map<std::string, LocalChanges> changed;
  {
    auto entries = replica_.Statement(std::string(kOutboxEntries) + " WHERE record_id = ?1 ORDER BY seq");
    if (!entries) return entries.error();
    sqlite::StmtGuard guard(**entries);
    (*entries)->Bind(1, record.id);
    RELAIS_TRY(ReadLocalChanges(**entries, changed));
  }
  std::optional<int64_t> expected;
  if (auto local = changed.find(record.id); local != changed.end() && !local->second.create) {
    digester_.Begin(record.id, record.version);
    for (size_t f = 0; f < record.values.size(); ++f) {
      const auto base = local->second.bases.find(static_cast<int>(f));
      const schema::Value& v = base != local->second.bases.end() ? base->second : record.values[f];
      digester_.AddValue(v ? std::optional<std::string_view>(*v) : std::nullopt);
    }
    expected = static_cast<int64_t>(digester_.Finish());
  }
  auto keep = replica_.Statement(
      "INSERT OR REPLACE INTO central_digests (id, version, digest, expected) VALUES (?1, ?2, ?3, ?4)");
  if (!keep) return keep.error();
  sqlite::StmtGuard guard(**keep);
  const uint64_t digest = sync::RecordDigest(digester_, record.id, record.version, record.values);
  (*keep)->Bind(1, record.id).Bind(2, record.version).Bind(3, static_cast<int64_t>(digest));
  if (expected) (*keep)->Bind(4, *expected);
  return (*keep)->Run();
}

namespace {

// The first field's column in LocalDigest's statement.
constexpr int kFirstField = 5;

// The record digest of the record at `row` of LocalDigest's statement as the centre holds it: each
// field changed here (`local`, if any) at its base.
uint64_t CentreView(sync::RecordDigester& digester, const schema::Table& table, const sqlite::Stmt& row,
                    std::string_view id, int64_t version, const LocalChanges* local) {
  digester.Begin(id, version);
  for (size_t f = 0; f < table.fields.size(); ++f) {
    if (local != nullptr && !local->create) {
      const auto base = local->bases.find(static_cast<int>(f));
      if (base != local->bases.end()) {
        digester.AddValue(base->second ? std::optional<std::string_view>(*base->second) : std::nullopt);
        continue;
      }
    }
    digester.AddValue(ColumnView(row, static_cast<int>(f) + kFirstField));
  }
  return digester.Finish();
}

}  // namespace

Result<sync::ScopeDigest> SqliteReplicaPort::LocalDigest() {
  // The check of the kept digests against the values on disk (a row altered under them, with
  // sqlite3 say): each call checks one bucket of kDigestBuckets(table), by its digest_key, in turn,
  // so that every record is checked once every few syncs, and a small replica at every sync.
  auto round_text = replica_.GetState(kStateDigestCheckRound);
  if (!round_text) return round_text.error();
  const uint64_t round = *round_text ? std::strtoull((*round_text)->c_str(), nullptr, 10) : 0;
  RELAIS_TRY(replica_.SetState(kStateDigestCheckRound, std::to_string(round + 1)));
  return Digest(round, nullptr, nullptr);
}

Result<SqliteReplicaPort::FullCheck> SqliteReplicaPort::CheckEveryRecord(const CheckProgress& progress) {
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();
  FullCheck full;
  auto digest = Digest(std::nullopt, &full, &progress);
  if (!digest) return digest.error();
  full.digest = std::move(*digest);
  // The digests kept of an altered row no longer count: the row does, as it is, so that the next
  // comparison with the centre finds it, and the sync repairs it.
  for (const AlteredRecord& a : full.altered) {
    auto stale = replica_.db().Prepare("UPDATE " + a.table + " SET digest_version = NULL WHERE id = ?1");
    if (!stale) return stale.error();
    stale->Bind(1, a.id);
    RELAIS_TRY(stale->Run());
    auto pulled = replica_.db().Prepare("DELETE FROM central_digests WHERE id = ?1");
    if (!pulled) return pulled.error();
    pulled->Bind(1, a.id);
    RELAIS_TRY(pulled->Run());
  }
  RELAIS_TRY(tx->Commit());
  return full;
}

Result<sync::ScopeDigest> SqliteReplicaPort::Digest(std::optional<uint64_t> round, FullCheck* full,
                                                    const CheckProgress* progress) {
  std::unordered_map<std::string, LocalChanges> changed;
  {
    auto entries = replica_.db().Prepare(std::string(kOutboxEntries) + " ORDER BY seq");
    if (!entries) return entries.error();
    RELAIS_TRY(ReadLocalChanges(*entries, changed));
  }
  // The digests kept when a pull wrote a record under local changes: id → (version, digest,
  // expected: see KeepCentralDigest).
  struct Kept {
    int64_t version = 0;
    uint64_t digest = 0;
    std::optional<uint64_t> expected;
  };
  std::unordered_map<std::string, Kept> pulled;
  if (!changed.empty()) {
    auto kept = replica_.db().Prepare("SELECT id, version, digest, expected FROM central_digests");
    if (!kept) return kept.error();
    while (true) {
      auto row = kept->Step();
      if (!row) return row.error();
      if (!*row) break;
      Kept k{kept->Int(1), static_cast<uint64_t>(kept->Int(2)), std::nullopt};
      if (!kept->IsNull(3)) k.expected = static_cast<uint64_t>(kept->Int(3));
      pulled.emplace(kept->Text(0), k);
    }
  }

  sync::ScopeDigest digest;
  std::string id;
  // For the progress of a full check: every row of every table.
  int64_t total = 0, read = 0;
  if (progress) {
    for (const schema::Table& table : schema::Tables()) {
      auto count = replica_.db().Prepare("SELECT count(*) FROM " + std::string(table.name));
      if (!count) return count.error();
      auto row = count->Step();
      if (!row) return row.error();
      if (*row) total += count->Int(0);
    }
    (*progress)(0, total);
  }
  // A row that does not give the digest kept for it: counted as it is, and listed by a full check.
  auto altered = [&](const schema::Table& table, const std::string& record_id) {
    if (full) full->altered.push_back({std::string(table.name), record_id});
  };
  for (const schema::Table& table : schema::Tables()) {
    const std::string name(table.name);
    uint64_t buckets = 1;
    if (round) {
      auto count = replica_.db().Prepare("SELECT count(*) FROM " + name);
      if (!count) return count.error();
      auto row = count->Step();
      if (!row) return row.error();
      if (*row) buckets = static_cast<uint64_t>(count->Int(0)) / kDigestChecksPerSync + 1;
    }
    const uint64_t bucket = round.value_or(0) % buckets;
    std::string sql = "SELECT id, version, digest_version, digest_key, digest_values";
    for (const schema::Field& f : table.fields) sql += ", " + std::string(f.name);
    sql.append(" FROM ").append(name).append(" WHERE ").append(kNotLocalCreate);
    auto stmt = replica_.db().Prepare(sql);
    if (!stmt) return stmt.error();
    sync::TableDigest& d = digest[table.name];
    while (true) {
      auto row = stmt->Step();
      if (!row) return row.error();
      if (!*row) break;
      if (progress && ++read % kCheckProgressEvery == 0) (*progress)(read, total);
      if (full) ++full->records;
      const int64_t version = stmt->Int(1);
      // The digests kept when the row was pulled count while the row is at that version.
      const bool kept_digests = !stmt->IsNull(2) && stmt->Int(2) == version;
      const auto key = static_cast<uint64_t>(stmt->Int(3));
      const bool check = kept_digests && (!round || key % buckets == bucket);
      auto local = changed.end();
      if (!changed.empty()) {
        id = stmt->Text(0);
        local = changed.find(id);
        if (local != changed.end()) {
          if (const auto kept = pulled.find(id); kept != pulled.end() && kept->second.version == version) {
            // Pulled under local changes: the digest of the centre's values then, while the row,
            // its changed fields at their bases, still gives what it gave then (few records: each
            // is checked at every sync).
            uint64_t counted = kept->second.digest;
            if (kept->second.expected) {
              const uint64_t row = CentreView(digester_, table, *stmt, id, version, &local->second);
              if (row != *kept->second.expected) {
                counted = row;
                altered(table, id);
              }
            }
            d.Add(id, version, counted);
            continue;
          }
        }
      }
      if (kept_digests && !check) {
        d.AddSums(1, key, static_cast<uint64_t>(stmt->Int(4)));
        continue;
      }
      if (changed.empty()) id = stmt->Text(0);
      // Digested from the row, as the centre holds it (fields changed here at their bases). A row
      // checked that does not give its kept digest counts as it is: the digest then differs from
      // the centre's, and the sync repairs the replica.
      const uint64_t row_digest =
          CentreView(digester_, table, *stmt, id, version, local != changed.end() ? &local->second : nullptr);
      if (check && row_digest != static_cast<uint64_t>(stmt->Int(4))) altered(table, id);
      d.Add(id, version, row_digest);
    }
  }
  if (progress) (*progress)(read, total);
  RELAIS_TRY(AddPurged(replica_, digest));
  return digest;
}

Result<std::vector<std::string>> SqliteReplicaPort::Orphans() {
  // One pass over the follow-ups, each case looked up by its primary key.
  auto stmt = replica_.db().Prepare(std::string("SELECT f.id FROM followups f WHERE f.") + kNotLocalCreate +
                                    " AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = f.case_id) ORDER BY f.id");
  if (!stmt) return stmt.error();
  std::vector<std::string> ids;
  while (true) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) return ids;
    ids.push_back(stmt->Text(0));
  }
}

Status SqliteReplicaPort::BeginFreshCopy() {
  RELAIS_TRY(replica_.db().Exec(
      "CREATE TEMP TABLE IF NOT EXISTS fresh_copy (id TEXT PRIMARY KEY, tbl TEXT NOT NULL, version INTEGER NOT NULL, "
      "record_values TEXT NOT NULL)"));
  return replica_.db().Exec("DELETE FROM fresh_copy");
}

Status SqliteReplicaPort::StageFreshPage(const sync::PullPage& page) {
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();
  // Notices are kept as they come: a later state never yields to an earlier one (kUpsertNotice).
  for (const sync::ConflictNotice& n : page.conflicts) RELAIS_TRY(StoreNotice(n));
  auto drop = replica_.db().Prepare("DELETE FROM fresh_copy WHERE id = ?1 AND version < ?2");
  auto put = replica_.db().Prepare(
      "INSERT OR REPLACE INTO fresh_copy (id, tbl, version, record_values) VALUES (?1, ?2, ?3, ?4)");
  if (!drop) return drop.error();
  if (!put) return put.error();
  for (const sync::Removal& r : page.removed) {
    drop->Bind(1, r.record_id).Bind(2, r.seq);
    RELAIS_TRY(drop->Run());
    drop->Reset();
  }
  for (const sync::PulledRecord& pr : page.records) {
    const schema::Table* table = schema::FindTable(pr.table);
    if (!table)
      return MakeError(ErrorCode::kProtocol, "le centre a envoyé une fiche d'une table inconnue : " + pr.table);
    put->Bind(1, pr.record.id)
        .Bind(2, pr.table)
        .Bind(3, pr.record.version)
        .Bind(4, sync::EncodeRecordValues(*table, pr.record.values));
    RELAIS_TRY(put->Run());
    put->Reset();
  }
  return tx->Commit();
}

Status SqliteReplicaPort::SwapInFreshCopy(int64_t cursor) {
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();
  std::string note;
  auto swapped = SwapIn(cursor, std::numeric_limits<int64_t>::max(), note);
  if (!swapped) return swapped.error();
  return tx->Commit();
}

Result<int64_t> SqliteReplicaPort::SwapInPushingBack(int64_t cursor, int64_t lost_after,
                                                     const sync::CentreIdentity& centre) {
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();
  auto earlier = replica_.GetState(kStateRecoveryNote);
  if (!earlier) return earlier.error();
  std::string note = earlier->value_or("");
  auto pushed_back = SwapIn(cursor, lost_after, note);
  if (!pushed_back) return pushed_back.error();
  RELAIS_TRY(replica_.SetState(kStateRecoveryNote, note));
  RELAIS_TRY(RememberCentre(centre));
  RELAIS_TRY(tx->Commit());
  return *pushed_back;
}

Result<int64_t> SqliteReplicaPort::SwapIn(int64_t cursor, int64_t lost_after, std::string& note) {
  int64_t pushed_back = 0;
  // The fresh copy holds the purged records again: the sync's purge takes those still due.
  RELAIS_TRY(ForgetAllPurged(replica_));
  // What the replica holds and the centre's scope does not. Beyond what the centre vouches for, it
  // was lost there: the row becomes its pending create again (version 0, client/pending_creates.h),
  // which carries its pending edits too; all tables first, so that a follow-up pushed back is not
  // taken away with a case that goes. The rest is removed as a removal would, cases first (their
  // follow-ups go with them).
  std::vector<std::vector<std::string>> gone_ids;
  for (const schema::Table& table : schema::Tables()) {
    auto gone = replica_.db().Prepare("SELECT id, version FROM " + std::string(table.name) +
                                      " WHERE id NOT IN (SELECT id FROM fresh_copy) AND " + kNotLocalCreate);
    if (!gone) return gone.error();
    std::vector<std::string> ids;
    std::vector<std::pair<std::string, int64_t>> lost;  // id, the version held
    while (true) {
      auto row = gone->Step();
      if (!row) return row.error();
      if (!*row) break;
      if (gone->Int(1) > lost_after) {
        lost.emplace_back(gone->Text(0), gone->Int(1));
      } else {
        ids.push_back(gone->Text(0));
      }
    }
    if (!lost.empty()) {
      auto drop_edits = replica_.db().Prepare("DELETE FROM outbox WHERE record_id = ?1 AND state = 'pending'");
      // merged_into is central staff's: a merge the centre lost is not pushed back (nor made again).
      auto recreate = replica_.db().Prepare("UPDATE " + std::string(table.name) + " SET version = 0" +
                                            (table.FieldIndex("merged_into") >= 0 ? ", merged_into = NULL" : "") +
                                            " WHERE id = ?1");
      if (!drop_edits) return drop_edits.error();
      if (!recreate) return recreate.error();
      // The creates of its follow-ups waiting in the outbox go back to their rows, so that they are
      // sent after the case's create, which is its row again (client/pending_creates.h).
      auto unfreeze = replica_.db().Prepare(
          "DELETE FROM outbox WHERE state = 'pending' AND batch_key IS NULL AND op = 'create' AND tbl = 'followups' "
          "AND record_id IN (SELECT id FROM followups WHERE case_id = ?1 AND version = 0)");
      if (!unfreeze) return unfreeze.error();
      for (const auto& [id, version] : lost) {
        drop_edits->Bind(1, id);
        RELAIS_TRY(drop_edits->Run());
        drop_edits->Reset();
        if (table.name == schema::CasesTable().name) {
          unfreeze->Bind(1, id);
          RELAIS_TRY(unfreeze->Run());
          unfreeze->Reset();
        }
        recreate->Bind(1, id);
        RELAIS_TRY(recreate->Run());
        recreate->Reset();
        note += "create " + std::string(table.name) + " " + id + " " + std::to_string(version) + "\n";
        ++pushed_back;
      }
    }
    gone_ids.push_back(std::move(ids));
  }
  for (size_t t = 0; t < schema::Tables().size(); ++t) {
    for (const std::string& id : gone_ids[t])
      RELAIS_TRY(ApplyRemoval(schema::Tables()[t], id, std::numeric_limits<int64_t>::max(), /*moved=*/false,
                              /*keep_pending=*/lost_after != std::numeric_limits<int64_t>::max()));
  }
  // Then every record of the fresh copy, local edits on top; cases before their follow-ups. A
  // version held beyond what the centre vouches for, and that the centre holds otherwise, is
  // pushed back first, so that it stays on top as a local edit.
  for (const schema::Table& table : schema::Tables()) {
    auto fresh = replica_.db().Prepare("SELECT id, version, record_values FROM fresh_copy WHERE tbl = ?1");
    if (!fresh) return fresh.error();
    fresh->Bind(1, table.name);
    while (true) {
      auto row = fresh->Step();
      if (!row) return row.error();
      if (!*row) break;
      schema::Record record;
      record.id = fresh->Text(0);
      record.version = fresh->Int(1);
      auto values = sync::DecodeRecordValues(table, fresh->Text(2));
      if (!values) return values.error();
      record.values = std::move(*values);
      if (lost_after != std::numeric_limits<int64_t>::max()) {
        auto local = replica_.Get(table, record.id);
        if (!local) return local.error();
        if (*local && (*local)->version == 0) {
          // A create of this replica's that the centre holds though it never answered it: sent
          // before the restore, its answer lost, and pushed back by another device since. What this
          // replica holds of it goes as a pushed-back version, above what the centre vouches for.
          auto taken = TakeBackCreate(table, record);
          if (!taken) return taken.error();
          if (*taken) (*local)->version = lost_after + 1;
        }
        if (*local && (*local)->version > lost_after && table.kind == schema::TableKind::kMutable) {
          auto pushed = PushBackVersion(table, **local, record);
          if (!pushed) return pushed.error();
          if (*pushed) {
            note +=
                "update " + std::string(table.name) + " " + record.id + " " + std::to_string((*local)->version) + "\n";
            ++pushed_back;
          }
        }
      }
      RELAIS_TRY(ApplyRecord(table, record, false, false));
    }
  }
  if (lost_after != std::numeric_limits<int64_t>::max()) {
    // Pending edits based on a version the centre lost are based on the version it holds now.
    auto rebase = replica_.db().Prepare(
        "UPDATE outbox SET base_version = (SELECT version FROM fresh_copy WHERE fresh_copy.id = outbox.record_id) "
        "WHERE state = 'pending' AND op = 'update' AND base_version > ?1 AND record_id IN (SELECT id FROM fresh_copy)");
    if (!rebase) return rebase.error();
    rebase->Bind(1, lost_after);
    RELAIS_TRY(rebase->Run());
  }
  RELAIS_TRY(replica_.db().Exec("DELETE FROM fresh_copy"));
  RELAIS_TRY(replica_.SetState(kStatePullCursor, std::to_string(cursor)));
  return pushed_back;
}

Result<bool> SqliteReplicaPort::TakeBackCreate(const schema::Table& table, const schema::Record& fresh) {
  auto drop = replica_.db().Prepare(
      "DELETE FROM outbox WHERE record_id = ?1 AND op = 'create' AND state = 'pending' AND batch_key IS NULL");
  if (!drop) return drop.error();
  drop->Bind(1, fresh.id);
  RELAIS_TRY(drop->Run());
  // Still a create when a batch holds it (sent again first, as it was) or the centre refused it.
  auto held = replica_.db().Prepare("SELECT 1 FROM outbox WHERE record_id = ?1 AND op = 'create'");
  if (!held) return held.error();
  held->Bind(1, fresh.id);
  auto row = held->Step();
  if (!row) return row.error();
  if (*row) return false;
  auto version = replica_.db().Prepare("UPDATE " + std::string(table.name) + " SET version = ?2 WHERE id = ?1");
  if (!version) return version.error();
  version->Bind(1, fresh.id).Bind(2, fresh.version);
  RELAIS_TRY(version->Run());
  return true;
}

Result<bool> SqliteReplicaPort::PushBackVersion(const schema::Table& table, const schema::Record& local,
                                                const schema::Record& fresh) {
  auto edited = LocalFields(std::string(table.name), local.id);
  if (!edited) return edited.error();
  std::vector<sync::FieldChange> fields;
  for (size_t i = 0; i < table.fields.size(); ++i) {
    const std::string name(table.fields[i].name);
    // merged_into is central staff's to write: a merge the centre lost is not pushed back.
    if (local.values[i] == fresh.values[i] || name == "merged_into") continue;
    if (std::find(edited->begin(), edited->end(), name) != edited->end()) continue;
    fields.push_back({name, local.values[i], fresh.values[i]});
  }
  if (fields.empty()) return false;
  auto insert = replica_.Statement(
      "INSERT INTO outbox(change_id, tbl, record_id, op, fields, base_version, hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
      "?7)");
  if (!insert) return insert.error();
  sqlite::StmtGuard guard(**insert);
  (*insert)
      ->Bind(1, std::string_view(NewUuidV7(replica_.clock().NowMs())))
      .Bind(2, table.name)
      .Bind(3, std::string_view(local.id))
      .Bind(4, std::string_view(sync::ToString(sync::Op::kUpdate)))
      .Bind(5, std::string_view(sync::EncodeOutboxFields(sync::Op::kUpdate, fields)))
      .Bind(6, fresh.version)
      .Bind(7, std::string_view(replica_.hlc().Tick().ToString()));
  RELAIS_TRY((*insert)->Run());
  return true;
}

Result<sync::CentreIdentity> SqliteReplicaPort::KnownCentre() {
  sync::CentreIdentity known;
  auto store_id = replica_.GetState(kStateCentreStoreId);
  if (!store_id) return store_id.error();
  auto epoch = replica_.GetState(kStateCentreEpoch);
  if (!epoch) return epoch.error();
  if (!*store_id || !*epoch) return known;
  known.store_id = **store_id;
  known.epoch = std::strtoll((*epoch)->c_str(), nullptr, 10);
  return known;
}

Status SqliteReplicaPort::RememberCentre(const sync::CentreIdentity& centre) {
  RELAIS_TRY(replica_.SetState(kStateCentreStoreId, centre.store_id));
  return replica_.SetState(kStateCentreEpoch, std::to_string(centre.epoch));
}

Result<std::optional<std::string>> SqliteReplicaPort::RecoveryNote() {
  auto note = replica_.GetState(kStateRecoveryNote);
  if (!note) return note.error();
  if (!*note || (*note)->empty()) return std::optional<std::string>();
  // Lines "op table id version" (version: the one held, the centre lost; absent in notes written
  // before it was kept): table names, ids (UUIDs) and numbers need no escaping in JSON.
  std::string body = "{\"records\":[";
  size_t start = 0;
  bool first = true;
  const std::string& text = **note;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    const size_t a = line.find(' '), b = line.find(' ', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const size_t c = line.find(' ', b + 1);
    body += std::string(first ? "" : ",") + "{\"op\":\"" + line.substr(0, a) + "\",\"table\":\"" +
            line.substr(a + 1, b - a - 1) + "\",\"id\":\"" + line.substr(b + 1, c - b - 1) + "\"";
    if (c != std::string::npos)
      body += ",\"version\":" + std::to_string(std::strtoll(line.c_str() + c + 1, nullptr, 10));
    body += "}";
    first = false;
  }
  body += "]}";
  return std::optional<std::string>(std::move(body));
}

Status SqliteReplicaPort::ClearRecoveryNote() { return replica_.SetState(kStateRecoveryNote, ""); }

Status SqliteReplicaPort::FoldCentralClock(int64_t central_ms) {
  const sync::Hlc before = replica_.hlc().last();
  replica_.hlc().Observe(sync::Hlc{central_ms, 0, "central"});
  if (replica_.hlc().last() != before) RELAIS_TRY(replica_.SetState(kStateHlcLast, replica_.hlc().last().ToString()));
  return OkStatus();
}

Result<int64_t> SqliteReplicaPort::PurgeClosedCases(std::optional<int64_t> days) {
  return client::PurgeClosedCases(replica_, digester_, days);
}

Result<int64_t> SqliteReplicaPort::ObserveCentralClock(int64_t central_ms) {
  RELAIS_TRY(FoldCentralClock(central_ms));
  return replica_.clock().NowMs() - central_ms;
}

Result<std::optional<sync::AccessLogChunk>> SqliteReplicaPort::NextAccessLog(size_t limit) {
  return NextAccessChunk(replica_, limit);
}

Status SqliteReplicaPort::ForgetAccessLog(int64_t last_seq) { return ForgetAccessUpTo(replica_, last_seq); }

}  // namespace relais::client
