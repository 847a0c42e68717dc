#include "server/pg_store.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "base/text.h"
#include "pg/migrate.h"
#include "schema/migrations.h"
#include "server/erasure.h"
#include "server/push.h"
#include "server/store_layout.h"
#include "server/stored_json.h"
#include "sync/codec.h"

namespace relais::server {

namespace {

// Connections kept open for the next request.
constexpr size_t kMaxIdleConnections = 16;
// Taken first by every writing transaction; held until it commits or rolls back.
constexpr const char* kLockSeq = "SELECT last_seq FROM meta WHERE id = 1 FOR UPDATE";

std::string Num(int64_t n) { return std::to_string(n); }

// The shared statements in PostgreSQL's syntax, rewritten once.
struct PgStatements {
  std::vector<std::string> get, get_many, move, children;  // parallel to Layouts()
  // Batch reads of PgTx::Prefetch, each bound with an array of ids and planned for it at each call
  // (pg::Conn::ExecCustomPlan).
  std::string find_changes =
      "SELECT device_id, change_id, digest, status, version, review, lost FROM change_outcomes "
      "WHERE (device_id, change_id) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))";
  std::string find_identities =
      "SELECT identity_key, opened_on, id FROM cases WHERE identity_key = ANY($1::text[]) AND merged_into IS NULL";
  std::string find_batches =
      "SELECT device_id, batch_key, request_hash, response FROM push_batches "
      "WHERE (device_id, batch_key) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))";
  // Many rows in one statement, one array per column (PgTx::Flush).
  std::vector<std::string> put_many;  // parallel to Layouts()
  std::string insert_histories =
      "INSERT INTO history(seq, tbl, record_id, device, hlc, change_id, at, snapshot, lost, prev_seq) SELECT * FROM "
      "unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
      "$9::text[], $10::bigint[])";
  std::string insert_outcomes =
      "INSERT INTO change_outcomes(device_id, change_id, digest, status, version, review, lost) SELECT * FROM "
      "unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[])";
  std::string find_change = PostgresDialect().translate(sql::kFindChange);
  std::string insert_conflict = PostgresDialect().translate(sql::kInsertConflict);
  std::string find_identity = PostgresDialect().translate(sql::kFindIdentity);
  std::string settle_conflict = PostgresDialect().translate(sql::kSettleConflict);
  std::string insert_exit = PostgresDialect().translate(sql::kInsertExit);
  std::string exits_of_record = PostgresDialect().translate(sql::kExitsOfRecord);
  std::string erased_on = PostgresDialect().translate(kErasedOn);
  std::string find_batch = PostgresDialect().translate(sql::kFindBatch);
  std::string save_batch = PostgresDialect().translate(sql::kSaveBatch);
  std::string write_seq = PostgresDialect().translate(sql::kWriteSeq);
  std::string transfer_rule = PostgresDialect().translate(sql::kTransferRule);
  std::string reception_points_of = PostgresDialect().translate(sql::kReceptionPointsOf);
  std::string recovery_claims = PostgresDialect().translate(sql::kRecoveryClaims);
  std::string use_recovery_claim = PostgresDialect().translate(sql::kUseRecoveryClaim);
  std::string history_at = PostgresDialect().translate(sql::kHistoryAt);
  std::string get_conflict = "SELECT " + ConflictColumns() + " FROM conflicts c WHERE c.id = $1";

  PgStatements() {
    for (const TableLayout& l : Layouts()) {
      const TableStatements& t = StatementsFor(l);
      get.push_back(PostgresDialect().translate(t.get));
      get_many.push_back("SELECT " + l.columns + " FROM " + std::string(l.table->name) + " WHERE id = ANY($1::text[])");
      // Every column of the put is text but the integers: the fields of type int, and version.
      std::vector<std::string> types = {"text"};
      for (const schema::Field& f : l.table->fields)
        types.push_back(f.type == schema::FieldType::kInt ? "bigint" : "text");
      types.push_back("bigint");
      while (static_cast<int>(types.size()) < l.column_count + (l.has_identity_key ? 1 : 0)) types.push_back("text");
      types[static_cast<size_t>(l.echo_device_col)] = "bigint";
      types[static_cast<size_t>(l.history_seq_col)] = "bigint";
      types[static_cast<size_t>(l.digest_key_col)] = "bigint";
      types[static_cast<size_t>(l.digest_values_col)] = "bigint";
      std::string arrays;
      for (size_t i = 0; i < types.size(); ++i) {
        arrays += (i ? ", $" : "$") + std::to_string(i + 1) + "::" + types[i] + "[]";
      }
      const std::string insert = t.put.substr(0, t.put.find(" VALUES"));
      std::string many = insert;
      many.append(" SELECT * FROM unnest(").append(arrays).append(")").append(t.upsert_tail);
      put_many.push_back(std::move(many));
      move.push_back(PostgresDialect().translate(t.move));
      children.push_back(PostgresDialect().translate(t.children));
    }
  }
};

const PgStatements& Statements() {
  static const PgStatements kStatements;
  return kStatements;
}

std::string ArrayOf(const std::vector<std::string>& texts) {
  return pg::ArrayLiteral(std::vector<schema::Value>(texts.begin(), texts.end()));
}

// Rows as one array literal per column, for the unnest statements of PgStatements.
pg::Params ColumnArrays(const std::vector<const pg::Params*>& rows) {
  pg::Params arrays;
  const size_t columns = rows.empty() ? 0 : rows.front()->size();
  std::vector<schema::Value> column;
  for (size_t c = 0; c < columns; ++c) {
    column.clear();
    for (const pg::Params* row : rows) column.push_back((*row)[c]);
    arrays.push_back(pg::ArrayLiteral(column));
  }
  return arrays;
}

void IdsOf(const pg::Rows& rows, std::vector<std::string>& ids) {
  for (int i = 0; i < rows.size(); ++i) ids.push_back(rows[i].Text(0));
}

// CentralTx on one connection, inside a transaction that Start() opens by locking the sequence.
//
// Round trips are what a push costs on PostgreSQL, so PgTx saves them. It holds the sequence lock,
// and every writer takes it first: until it commits, nobody else changes what it reads. So reads
// are answered from what Prefetch() loaded for the whole batch in a few queries (records and their
// parent cases, change outcomes, identity keys) and kept up to date by this transaction's own
// writes; and writes, whose results nobody needs, wait in `pending_` and go in one pipeline
// before the next read that must ask the database, and at Finish().
class PgTx final : public CentralTx {
 public:
  explicit PgTx(pg::Conn& conn) : conn_(conn), puts_(Layouts().size()), records_(Layouts().size()) {}

  Status Start() {
    auto rows = conn_.Exec(kLockSeq);
    if (!rows) return rows.error();
    if (rows->size() != 1) return MakeError(ErrorCode::kInternal, "la base centrale n'a pas de ligne meta");
    last_seq_ = first_seq_ = (*rows)[0].Int(0);
    return OkStatus();
  }

  // Loads what the pushes `requests` (of `devices`, parallel) will read: their records and the cases
  // their follow-ups name, their change ids' outcomes, the identity keys of their new cases and their
  // batch keys. Before any write of this transaction.
  Status Prefetch(const std::vector<const sync::PushRequest*>& requests, const std::vector<int64_t>& devices);

  Status Finish() {
    if (last_seq_ != first_seq_) pending_.emplace_back(st_.write_seq, pg::Params{Num(last_seq_)});
    return Flush();
  }

  Result<std::optional<StoredRecord>> GetRecord(const schema::Table& table, const std::string& id) override {
    auto& cache = records_[TableIndex(table)];
    if (auto found = cache.find(id); found != cache.end()) {
      return found->second;
    }
    auto rows = Query(st_.get[TableIndex(table)], {id});
    if (!rows) return rows.error();
    std::optional<StoredRecord> record;
    if (rows->size() > 0) {
      auto stored = ReadStored(LayoutFor(table), (*rows)[0]);
      if (!stored) return stored.error();
      record = std::move(*stored);
    }
    cache[id] = record;
    return record;
  }

  Status PutRecord(const schema::Table& table, const StoredRecord& r) override {
    const TableLayout& l = LayoutFor(table);
    pg::Params p;
    p.reserve(static_cast<size_t>(l.column_count) + 1);
    p.push_back(r.record.id);
    for (const schema::Value& v : r.record.values) p.push_back(v);
    p.push_back(Num(r.record.version));
    if (l.has_stamps) p.push_back(r.stamps.text());
    if (l.has_territory_column) p.push_back(r.territory);
    p.push_back(r.last_device);
    p.push_back(r.echo_device ? Num(*r.echo_device) : schema::Value());
    p.push_back(r.history_seq ? Num(*r.history_seq) : schema::Value());
    const sync::StoredDigests digests = StoredDigestsOf(r.record);
    p.push_back(Num(digests.key));
    p.push_back(Num(digests.values));
    if (l.has_identity_key) {
      p.push_back(CaseIdentityKey(r.record.values));
      KeepIdentity(r);
    }
    puts_[TableIndex(table)].push_back(std::move(p));
    // Kept to be read back by this transaction: a create's stamps as text are read into a map by
    // GetRecord, only if it is read back.
    records_[TableIndex(table)][r.record.id] = r;
    return OkStatus();
  }

  Result<std::vector<std::string>> FindCasesByIdentity(const std::string& key) override {
    if (auto found = identities_.find(key); found != identities_.end()) {
      std::vector<std::string> ids;
      for (const auto& [opened_on, id] : found->second) ids.push_back(id);
      return ids;
    }
    auto rows = Query(st_.find_identity, {key});
    if (!rows) return rows.error();
    std::vector<std::string> ids;
    IdsOf(*rows, ids);
    return ids;
  }

  Result<int64_t> NextSeq() override { return ++last_seq_; }
  int64_t LastSeq() const override { return last_seq_; }
  void ReturnSeq(int64_t seq) override {
    if (seq == last_seq_) --last_seq_;
  }

  // Answered from the records Prefetch() loaded or this transaction wrote, as GetRecord is.
  Result<bool> InsertRecord(const schema::Table& table, const StoredRecord& r) override {
    auto current = GetRecord(table, r.record.id);
    if (!current) return current.error();
    if (*current) return false;
    RELAIS_TRY(PutRecord(table, r));
    return true;
  }

  Status AppendHistory(const HistoryEntry& h) override {
    histories_.push_back(pg::Params{Num(h.seq), h.table, h.record_id, h.device, h.hlc, h.change_id, h.at, h.snapshot,
                                    h.lost, h.prev_seq ? Num(*h.prev_seq) : schema::Value()});
    return OkStatus();
  }

  Status OpenConflict(const Conflict& c) override {
    pending_.emplace_back(st_.insert_conflict,
                          pg::Params{c.table, c.record_id, c.field, c.territory, c.base_value, c.server_value,
                                     c.server_device, c.server_hlc, c.device_value, c.device, c.device_hlc, c.change_id,
                                     Num(c.opened_seq), c.opened_at, c.kind, c.other_id});
    return OkStatus();
  }

  Result<std::optional<Conflict>> GetConflict(int64_t id) override {
    auto rows = Query(st_.get_conflict, {Num(id)});
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<Conflict>();
    return std::optional<Conflict>(ReadConflict((*rows)[0], 0));
  }

  Status SettleConflict(const Conflict& c) override {
    pending_.emplace_back(st_.settle_conflict, pg::Params{Num(c.id), Num(c.settled_seq.value_or(0)), c.settled_at,
                                                          c.settled_by, c.settled_value, c.settlement});
    return OkStatus();
  }

  Status AddScopeExit(int64_t seq, const std::string& table, const std::string& record_id,
                      const std::string& territory, const std::optional<std::string>& to) override {
    pending_.emplace_back(st_.insert_exit, pg::Params{Num(seq), table, record_id, territory, to});
    return OkStatus();
  }

  Result<std::vector<std::string>> ExitsAfter(const std::string& record_id, int64_t after_seq) override {
    auto rows = Query(st_.exits_of_record, {record_id, Num(after_seq)});
    if (!rows) return rows.error();
    std::vector<std::string> territories;
    IdsOf(*rows, territories);
    return territories;
  }

  Result<std::vector<std::string>> ChildrenOfCase(const schema::Table& table, const std::string& case_id) override {
    if (!LayoutFor(table).has_territory_column) return std::vector<std::string>();
    auto rows = Query(st_.children[TableIndex(table)], {case_id});
    if (!rows) return rows.error();
    std::vector<std::string> ids;
    IdsOf(*rows, ids);
    return ids;
  }

  Result<std::optional<std::string>> ErasedOn(const std::string& record_id) override {
    auto rows = Query(st_.erased_on, {record_id});
    if (!rows) return rows.error();
    std::vector<std::string> days;
    IdsOf(*rows, days);
    if (days.empty()) return std::optional<std::string>();
    return std::optional<std::string>(days.front());
  }

  Status MoveRecord(const schema::Table& table, const std::string& id, const std::string& territory,
                    int64_t version) override {
    if (!LayoutFor(table).has_territory_column) {
      return MakeError(ErrorCode::kInternal, std::string(table.name) + " has no territory column to move");
    }
    records_[TableIndex(table)].erase(id);  // read again, after the move, if asked
    pending_.emplace_back(st_.move[TableIndex(table)], pg::Params{territory, Num(version), id});
    return OkStatus();
  }

  Result<TransferRule> RuleForTransfer(const std::string& code) override {
    auto rows = Query(st_.transfer_rule, {code});
    if (!rows) return rows.error();
    TransferRule rule;
    if (rows->size() > 0) {
      rule.declared = (*rows)[0].Int(0) > 0;
      rule.review = !(*rows)[0].IsNull(1) && (*rows)[0].Text(1) == "review";
    }
    return rule;
  }

  Result<std::vector<std::string>> ReceptionPointsOf(const std::string& code) override {
    auto rows = Query(st_.reception_points_of, {code});
    if (!rows) return rows.error();
    std::vector<std::string> points;
    points.reserve(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) points.push_back((*rows)[i].Text(0));
    return points;
  }

  Result<std::optional<ChangeOutcome>> FindChangeOutcome(int64_t device_id, const std::string& change_id) override {
    if (auto found = outcomes_.find({device_id, change_id}); found != outcomes_.end()) return found->second;
    auto rows = Query(st_.find_change, {Num(device_id), change_id});
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<ChangeOutcome>();
    return std::optional<ChangeOutcome>(ReadOutcome((*rows)[0], 0));
  }

  Status SaveChangeOutcome(int64_t device_id, const sync::ChangeResult& r, std::string_view digest) override {
    ChangeOutcome kept;
    kept.digest = std::string(digest);
    kept.result.status = r.status;
    kept.result.version = r.version;
    kept.result.review_fields = r.review_fields;
    kept.result.lost_fields = r.lost_fields;
    outcomes_[{device_id, r.change_id}] = kept;
    outcomes_rows_.push_back(pg::Params{Num(device_id), r.change_id, std::string(digest), sync::ToString(r.status),
                                        Num(r.version), ReviewColumn(r.review_fields), ReviewColumn(r.lost_fields)});
    return OkStatus();
  }

  Result<RecoveryClaims> RecoveryClaimsOf(const std::string& device) override {
    auto rows = Query(st_.recovery_claims, {device});
    if (!rows) return rows.error();
    RecoveryClaims claims;
    for (int i = 0; i < rows->size(); ++i) AddRecoveryClaimRow((*rows)[i], claims);
    return claims;
  }

  Status UseRecoveryClaim(int64_t claim_id, int64_t seq) override {
    pending_.emplace_back(st_.use_recovery_claim, pg::Params{Num(claim_id), Num(seq)});
    return OkStatus();
  }

  Result<std::optional<HistoryLink>> HistoryAt(int64_t seq) override {
    auto rows = Query(st_.history_at, {Num(seq)});
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<HistoryLink>();
    HistoryLink link;
    if (!(*rows)[0].IsNull(0)) link.prev_seq = (*rows)[0].Int(0);
    link.snapshot = (*rows)[0].Text(1);
    return std::optional<HistoryLink>(std::move(link));
  }

  Result<std::optional<StoredBatch>> FindBatch(int64_t device_id, const std::string& batch_key) override {
    if (auto found = batches_.find({device_id, batch_key}); found != batches_.end()) return found->second;
    auto rows = Query(st_.find_batch, {Num(device_id), batch_key});
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<StoredBatch>();
    return std::optional<StoredBatch>(StoredBatch{(*rows)[0].Text(0), (*rows)[0].Text(1)});
  }

  Status SaveBatch(int64_t device_id, const std::string& batch_key, const StoredBatch& batch,
                   const std::string& created_at) override {
    pending_.emplace_back(st_.save_batch,
                          pg::Params{Num(device_id), batch_key, batch.request_hash, batch.response_json, created_at});
    batches_[{device_id, batch_key}] = batch;
    return OkStatus();
  }

 private:
  // A read the caches cannot answer: the writes before it go first, so that it sees them.
  Result<pg::Rows> Query(const std::string& sql, const pg::Params& params) {
    RELAIS_TRY(Flush());
    return conn_.Exec(sql, params);
  }

  // Sends the waiting writes in one round trip: the history rows in one statement, each table's
  // records in one upsert (a record written twice keeps its last write), then the other writes
  // in their order. Only moves can touch a record also put, and they come after the puts, as
  // they were made (a record is only moved once it exists).
  Status Flush() {
    std::vector<std::pair<std::string, pg::Params>> statements;
    if (!histories_.empty()) {
      std::vector<const pg::Params*> rows;
      for (const pg::Params& h : histories_) rows.push_back(&h);
      statements.emplace_back(st_.insert_histories, ColumnArrays(rows));
    }
    if (!outcomes_rows_.empty()) {
      std::vector<const pg::Params*> rows;
      for (const pg::Params& o : outcomes_rows_) rows.push_back(&o);
      statements.emplace_back(st_.insert_outcomes, ColumnArrays(rows));
    }
    for (size_t t = 0; t < puts_.size(); ++t) {
      if (puts_[t].empty()) continue;
      std::unordered_map<std::string, size_t> last;  // id -> index of its last put
      for (size_t i = 0; i < puts_[t].size(); ++i) last[*puts_[t][i][0]] = i;
      std::vector<const pg::Params*> rows;
      for (size_t i = 0; i < puts_[t].size(); ++i) {
        if (last[*puts_[t][i][0]] == i) rows.push_back(&puts_[t][i]);
      }
      statements.emplace_back(st_.put_many[t], ColumnArrays(rows));
    }
    for (auto& statement : pending_) statements.push_back(std::move(statement));
    histories_.clear();
    outcomes_rows_.clear();
    for (auto& puts : puts_) puts.clear();
    pending_.clear();
    return conn_.ExecPipeline(statements);
  }

  // The cached identity lists follow the case `r` as written: out of any list, into its key's.
  void KeepIdentity(const StoredRecord& r) {
    for (auto& [key, cases] : identities_) {
      std::erase_if(cases, [&](const auto& c) { return c.second == r.record.id; });
    }
    const std::optional<std::string> key = CaseIdentityKey(r.record.values);
    const schema::Table& cases = schema::CasesTable();
    if (!key || r.record.values[static_cast<size_t>(cases.FieldIndex("merged_into"))]) return;
    auto found = identities_.find(*key);
    if (found == identities_.end()) return;
    found->second.emplace_back(r.record.values[static_cast<size_t>(cases.FieldIndex("opened_on"))].value_or(""),
                               r.record.id);
    std::sort(found->second.begin(), found->second.end());
  }

  pg::Conn& conn_;
  const PgStatements& st_ = Statements();
  int64_t first_seq_ = 0;
  int64_t last_seq_ = 0;
  std::vector<pg::Params> histories_;                        // rows of history not yet sent
  std::vector<pg::Params> outcomes_rows_;                    // rows of change_outcomes not yet sent
  std::vector<std::vector<pg::Params>> puts_;                // per table, records not yet sent
  std::vector<std::pair<std::string, pg::Params>> pending_;  // other writes, in order
  // What this transaction knows the database holds (or will, once pending_ is sent).
  std::vector<std::unordered_map<std::string, std::optional<StoredRecord>>> records_;             // per table
  std::map<std::pair<int64_t, std::string>, std::optional<ChangeOutcome>> outcomes_;              // (device, change id)
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> identities_;  // (opened_on, id)
  std::map<std::pair<int64_t, std::string>, std::optional<StoredBatch>> batches_;  // (device id, batch key)
};

Status PgTx::Prefetch(const std::vector<const sync::PushRequest*>& requests, const std::vector<int64_t>& devices) {
  std::vector<std::vector<std::string>> ids(Layouts().size());
  std::vector<std::string> keys;
  std::vector<schema::Value> batch_devices, batch_keys, change_devices, change_ids;
  const schema::Table& cases = schema::CasesTable();
  for (size_t r = 0; r < requests.size(); ++r) {
    batch_devices.push_back(Num(devices[r]));
    batch_keys.push_back(requests[r]->batch_key);
    for (const sync::Change& change : requests[r]->changes) {
      change_devices.push_back(Num(devices[r]));
      change_ids.push_back(change.change_id);
      const schema::Table* table = schema::FindTable(change.table);
      if (!table) continue;
      ids[TableIndex(*table)].push_back(change.record_id);
      std::vector<schema::Value> values(table->fields.size());
      for (const sync::FieldChange& f : change.fields) {
        int index = table->FieldIndex(f.field);
        if (index >= 0)
          values[static_cast<size_t>(index)] = schema::Normalize(table->fields[static_cast<size_t>(index)], f.value);
      }
      if (int parent = table->FieldIndex("case_id"); parent >= 0 && values[static_cast<size_t>(parent)]) {
        ids[TableIndex(cases)].push_back(*values[static_cast<size_t>(parent)]);
      }
      if (table == &cases && change.op == sync::Op::kCreate) {
        if (auto key = CaseIdentityKey(values)) keys.push_back(*key);
      }
    }
  }
  if (!requests.empty()) {
    auto found =
        conn_.ExecCustomPlan(st_.find_batches, {pg::ArrayLiteral(batch_devices), pg::ArrayLiteral(batch_keys)});
    if (!found) return found.error();
    for (size_t r = 0; r < requests.size(); ++r) batches_[{devices[r], requests[r]->batch_key}] = std::nullopt;
    for (int i = 0; i < found->size(); ++i) {
      const pg::Row row = (*found)[i];
      batches_[{row.Int(0), row.Text(1)}] = StoredBatch{row.Text(2), row.Text(3)};
    }
  }
  for (size_t t = 0; t < Layouts().size(); ++t) {
    if (ids[t].empty()) continue;
    auto rows = conn_.ExecCustomPlan(st_.get_many[t], {ArrayOf(ids[t])});
    if (!rows) return rows.error();
    for (const std::string& id : ids[t]) records_[t][id] = std::nullopt;  // absent unless found
    for (int i = 0; i < rows->size(); ++i) {
      auto stored = ReadStored(Layouts()[t], (*rows)[i]);
      if (!stored) return stored.error();
      records_[t][stored->record.id] = std::move(*stored);
    }
  }
  auto outcomes =
      conn_.ExecCustomPlan(st_.find_changes, {pg::ArrayLiteral(change_devices), pg::ArrayLiteral(change_ids)});
  if (!outcomes) return outcomes.error();
  for (size_t r = 0; r < requests.size(); ++r) {
    for (const sync::Change& change : requests[r]->changes) outcomes_[{devices[r], change.change_id}] = std::nullopt;
  }
  for (int i = 0; i < outcomes->size(); ++i) {
    const pg::Row row = (*outcomes)[i];
    outcomes_[{row.Int(0), row.Text(1)}] = ReadOutcome(row, 2);
  }
  if (!keys.empty()) {
    auto matches = conn_.ExecCustomPlan(st_.find_identities, {ArrayOf(keys)});
    if (!matches) return matches.error();
    for (const std::string& key : keys) identities_[key];
    for (int i = 0; i < matches->size(); ++i) {
      identities_[(*matches)[i].Text(0)].emplace_back((*matches)[i].Text(1), (*matches)[i].Text(2));
    }
    for (auto& [key, found] : identities_) std::sort(found.begin(), found.end());
  }
  return OkStatus();
}

}  // namespace

PgStore::PgStore(const std::string& url, const Clock& clock)
    : SqlCentralStore(clock),
      pool_([url]() { return pg::Conn::Open(url); }, kMaxIdleConnections,
            [](const std::unique_ptr<pg::Conn>& conn) { return conn->Healthy() && !conn->InTransaction(); }),
      where_(pg::DescribeUrl(url)) {}

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& url, OpenMode mode, const Clock& clock) {
  std::unique_ptr<PgStore> store(new PgStore(url, clock));
  auto lease = store->pool_.Borrow();
  if (!lease) return lease.error();
  pg::Conn& conn = *lease->conn();
  if (mode == OpenMode::kExisting) {
    auto version = pg::SchemaVersion(conn);
    if (!version) return version.error();
    if (*version == 0) {
      return MakeError(ErrorCode::kNotFound, "aucune base centrale dans " + store->where_ +
                                                 " (la base n'a pas de tables Relais : `relais-central serve "
                                                 "--store URL` ou `device add --store URL` les crée)");
    }
  }
  RELAIS_TRY(pg::Migrate(conn, schema::central_pg_migrations(), store->where_));
  RELAIS_TRY(RewriteTextsToNfc(*SqlConnOver(conn)));
  RELAIS_TRY(FillRecordDigests(*SqlConnOver(conn)));
  return store;
}

Result<SqlLease> PgStore::Reader() {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto kept = std::make_shared<ConnPool::Lease>(std::move(*lease));
  return SqlLease(kept, SqlConnOver(*kept->conn()));
}

Result<std::optional<SqlLease>> PgStore::Writer(bool) {
  auto lease = Reader();  // writers do not wait for one another but on the rows they write
  if (!lease) return lease.error();
  return std::optional<SqlLease>(std::move(*lease));
}

template <class Fn>
auto PgStore::Write(Fn&& write, const std::vector<QueuedPush*>& pushes) {
  using Out = decltype(write(std::declval<CentralTx&>(), int64_t{}));
  auto lease = pool_.Borrow();
  if (!lease) return Out(lease.error());
  auto tx = pg::Transaction::Begin(*lease->conn());
  if (!tx) return Out(tx.error());
  PgTx central_tx(*lease->conn());
  if (auto started = central_tx.Start(); !started) return Out(started.error());
  if (!pushes.empty()) {
    std::vector<const sync::PushRequest*> requests;
    std::vector<int64_t> devices;
    for (const QueuedPush* push : pushes) {
      requests.push_back(&push->request->request());
      devices.push_back(push->device->id);
    }
    if (auto fetched = central_tx.Prefetch(requests, devices); !fetched) return Out(fetched.error());
  }
  Out out = write(central_tx, clock_.NowMs());
  if (!out) return out;  // the transaction rolls back: nothing changed
  if constexpr (std::is_same_v<Out, Result<std::vector<PushReply>>>) {
    if (std::all_of(out->begin(), out->end(), [](const PushReply& r) { return r.replayed; }))
      return out;  // nothing written
  }
  if (auto finished = central_tx.Finish(); !finished) return Out(finished.error());
  if (auto committed = tx->Commit(); !committed) return Out(committed.error());
  return out;
}

Result<Conflict> PgStore::Settle(const Settlement& settle) { return Write(settle); }

Result<PushReply> PgStore::Push(const Device& device, const DecodedPush& request) {
  QueuedPush push{&device, &request};
  std::unique_lock<std::mutex> lock(queue_mutex_);
  queue_.push_back(&push);
  queue_turn_.notify_all();  // for AwaitQueued; the others see nothing new and wait on
  while (true) {
    queue_turn_.wait(lock, [&] { return push.done || !leading_; });
    if (push.done) return std::move(*push.reply);
    // Nobody leads: this thread runs the queue's head, which holds this push unless the pushes
    // before it fill a group.
    std::vector<QueuedPush*> group;
    size_t changes = 0;
    while (!queue_.empty() &&
           (group.empty() || changes + queue_.front()->request->changes().size() <= sync::kMaxChangesPerPush)) {
      changes += queue_.front()->request->changes().size();
      group.push_back(queue_.front());
      queue_.pop_front();
    }
    leading_ = true;
    lock.unlock();
    try {
      RunGroup(group);
    } catch (...) {
      // The group's pushes get an answer and the next thread may lead before the exception goes
      // on to the server's handler.
      for (QueuedPush* p : group) {
        if (!p->reply) p->reply = Result<PushReply>(MakeError(ErrorCode::kInternal, "the push was interrupted"));
      }
      {
        std::lock_guard<std::mutex> relock(queue_mutex_);
        std::erase(queue_, &push);  // when it was not in the group: this thread leaves without it
      }
      EndTurn(group);
      throw;
    }
    EndTurn(group);
    lock.lock();
  }
}

void PgStore::AwaitQueued(size_t n) {
  std::unique_lock<std::mutex> lock(queue_mutex_);
  queue_turn_.wait(lock, [&] { return queue_.size() >= n; });
}

void PgStore::EndTurn(const std::vector<QueuedPush*>& group) {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  for (QueuedPush* p : group) p->done = true;
  leading_ = false;
  queue_turn_.notify_all();
}

void PgStore::RunGroup(const std::vector<QueuedPush*>& group) {
  if (group.size() > 1) {
    auto replies = Write(
        [&](CentralTx& tx, int64_t now) -> Result<std::vector<PushReply>> {
          std::vector<PushReply> out;
          for (const QueuedPush* push : group) {
            auto reply = PushBatch(tx, *push->device, *push->request, now);
            if (!reply) return reply.error();
            out.push_back(std::move(*reply));
          }
          return out;
        },
        group);
    if (replies) {
      for (size_t i = 0; i < group.size(); ++i) group[i]->reply = std::move((*replies)[i]);
      return;
    }
  }
  for (QueuedPush* push : group) {
    auto replies = Write(
        [&](CentralTx& tx, int64_t now) -> Result<std::vector<PushReply>> {
          auto reply = PushBatch(tx, *push->device, *push->request, now);
          if (!reply) return reply.error();
          return std::vector<PushReply>{std::move(*reply)};
        },
        {push});
    push->reply = replies ? Result<PushReply>(std::move(replies->front())) : Result<PushReply>(replies.error());
  }
}

}  // namespace relais::server
