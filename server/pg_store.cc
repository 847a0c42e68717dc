#include "server/pg_store.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "base/ids.h"
#include "base/text.h"
#include "server/pg_migrate.h"
#include "server/pull_page.h"
#include "server/push.h"
#include "server/record_json.h"
#include "server/settle.h"
#include "server/store_layout.h"
#include "sync/codec.h"

namespace relais::server {

namespace {

// last_seen_at is kept to the minute: a device is not worth a write on every request.
constexpr int64_t kLastSeenResolutionMs = 60 * 1000;
constexpr const char* kSnapshot = "ISOLATION LEVEL REPEATABLE READ READ ONLY";
// Taken first by every writing transaction; held until it commits or rolls back.
constexpr const char* kLockSeq = "SELECT last_seq FROM meta WHERE id = 1 FOR UPDATE";

std::string Num(int64_t n) { return std::to_string(n); }

// The shared statements in PostgreSQL's syntax, rewritten once.
struct PgStatements {
  std::vector<std::string> get, get_many, move;  // parallel to Layouts()
  // Batch reads of PgTx::Prefetch, each bound with an array of ids and planned for it at each call
  // (pg::Conn::ExecCustomPlan).
  std::string find_changes = "SELECT change_id, seq FROM history WHERE change_id = ANY($1::text[])";
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
  std::string find_change = pg::Dollars(sql::kFindChange);
  std::string insert_conflict = pg::Dollars(sql::kInsertConflict);
  std::string find_identity = pg::Dollars(sql::kFindIdentity);
  std::string settle_conflict = pg::Dollars(sql::kSettleConflict);
  std::string insert_exit = pg::Dollars(sql::kInsertExit);
  std::string followups_of_case = pg::Dollars(sql::kFollowupsOfCase);
  std::string find_batch = pg::Dollars(sql::kFindBatch);
  std::string save_batch = pg::Dollars(sql::kSaveBatch);
  std::string write_seq = pg::Dollars(sql::kWriteSeq);
  std::string get_conflict = "SELECT " + ConflictColumns() + " FROM conflicts c WHERE c.id = $1";

  PgStatements() {
    for (const TableLayout& l : Layouts()) {
      const TableStatements& t = StatementsFor(l);
      get.push_back(pg::Dollars(t.get));
      get_many.push_back("SELECT " + l.columns + " FROM " + std::string(l.table->name) + " WHERE id = ANY($1::text[])");
      // Every column of the put is text but the integers: the fields of type int, and version.
      std::vector<std::string> types = {"text"};
      for (const schema::Field& f : l.table->fields)
        types.push_back(f.type == schema::FieldType::kInt ? "bigint" : "text");
      types.push_back("bigint");
      while (static_cast<int>(types.size()) < l.column_count + (l.has_identity_key ? 1 : 0)) types.push_back("text");
      types[static_cast<size_t>(l.echo_device_col)] = "bigint";
      types[static_cast<size_t>(l.history_seq_col)] = "bigint";
      std::string arrays;
      for (size_t i = 0; i < types.size(); ++i) {
        arrays += (i ? ", $" : "$") + std::to_string(i + 1) + "::" + types[i] + "[]";
      }
      const std::string insert = t.put.substr(0, t.put.find(" VALUES"));
      put_many.push_back(insert + " SELECT * FROM unnest(" + arrays + ")" + t.upsert_tail);
      move.push_back(pg::Dollars(t.move));
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

// StoreTx on one connection, inside a transaction that Start() opens by locking the sequence.
//
// Round trips are what a push costs on PostgreSQL, so PgTx saves them. It holds the sequence lock,
// and every writer takes it first: until it commits, nobody else changes what it reads. So reads
// are answered from what Prefetch() loaded for the whole batch in a few queries (records and their
// parent cases, change outcomes, identity keys) and kept up to date by this transaction's own
// writes; and writes, whose results nobody needs, wait in `pending_` and go in one pipeline
// before the next read that must ask the database, and at Finish().
class PgTx final : public StoreTx {
 public:
  explicit PgTx(pg::Conn& conn) : conn_(conn), puts_(Layouts().size()), records_(Layouts().size()) {}

  Status Start() {
    auto rows = conn_.Exec(kLockSeq);
    if (!rows) return rows.error();
    if (rows->size() != 1) return MakeError(ErrorCode::kInternal, "the central store has no meta row");
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
    if (h.change_id) outcomes_[*h.change_id] = h.seq;
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
                      const std::string& territory) override {
    pending_.emplace_back(st_.insert_exit, pg::Params{Num(seq), table, record_id, territory});
    return OkStatus();
  }

  Result<std::vector<std::string>> FollowupsOfCase(const std::string& case_id) override {
    auto rows = Query(st_.followups_of_case, {case_id});
    if (!rows) return rows.error();
    std::vector<std::string> ids;
    IdsOf(*rows, ids);
    return ids;
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

  Result<std::optional<int64_t>> FindChangeOutcome(const std::string& change_id) override {
    if (auto found = outcomes_.find(change_id); found != outcomes_.end()) return found->second;
    auto rows = Query(st_.find_change, {change_id});
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<int64_t>();
    return std::optional<int64_t>((*rows)[0].Int(0));
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
  std::vector<std::vector<pg::Params>> puts_;                // per table, records not yet sent
  std::vector<std::pair<std::string, pg::Params>> pending_;  // other writes, in order
  // What this transaction knows the database holds (or will, once pending_ is sent).
  std::vector<std::unordered_map<std::string, std::optional<StoredRecord>>> records_;             // per table
  std::unordered_map<std::string, std::optional<int64_t>> outcomes_;                              // change id -> seq
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> identities_;  // (opened_on, id)
  std::map<std::pair<int64_t, std::string>, std::optional<StoredBatch>> batches_;  // (device id, batch key)
};

Status PgTx::Prefetch(const std::vector<const sync::PushRequest*>& requests, const std::vector<int64_t>& devices) {
  std::vector<std::vector<std::string>> ids(Layouts().size());
  std::vector<std::string> change_ids, keys;
  std::vector<schema::Value> batch_devices, batch_keys;
  const schema::Table& cases = schema::CasesTable();
  for (size_t r = 0; r < requests.size(); ++r) {
    batch_devices.push_back(Num(devices[r]));
    batch_keys.push_back(requests[r]->batch_key);
    for (const sync::Change& change : requests[r]->changes) {
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
  auto outcomes = conn_.ExecCustomPlan(st_.find_changes, {ArrayOf(change_ids)});
  if (!outcomes) return outcomes.error();
  for (const std::string& id : change_ids) outcomes_[id] = std::nullopt;
  for (int i = 0; i < outcomes->size(); ++i) outcomes_[(*outcomes)[i].Text(0)] = (*outcomes)[i].Int(1);
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

// One ordered source of a pull page: the rows of one query of PullQueriesFor(PostgresDialect()).
struct PgPullSource {
  PullSourceKind kind = PullSourceKind::kRecords;
  const TableLayout* layout = nullptr;  // kRecords
  pg::Rows rows{nullptr};
  int next = 0;
  bool has_row = false;
  int64_t seq = 0;

  pg::Row row() const { return rows[next - 1]; }
  Status Advance() {
    has_row = next < rows.size();
    if (has_row) seq = rows[next].Int(kind == PullSourceKind::kRecords ? layout->version_col : 0);
    ++next;
    return OkStatus();
  }
};

Result<std::vector<std::string>> TerritoriesOf(pg::Conn& conn, int64_t device_id) {
  auto rows = conn.Exec(pg::Dollars(sql::kDeviceTerritories), {Num(device_id)});
  if (!rows) return rows.error();
  std::vector<std::string> out;
  IdsOf(*rows, out);
  std::sort(out.begin(), out.end());  // Device::InScope searches them byte-wise
  return out;
}

}  // namespace

PgStore::PgStore(const std::string& url, const Clock& clock)
    : pool_(url), clock_(clock), where_(pg::DescribeUrl(url)) {}

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& url, OpenMode mode, const Clock& clock) {
  std::unique_ptr<PgStore> store(new PgStore(url, clock));
  auto lease = store->pool_.Borrow();
  if (!lease) return lease.error();
  RELAIS_TRY(pg::Migrate(lease->conn(), mode, store->where_));
  return store;
}

template <class Fn>
auto PgStore::Write(Fn&& write, const std::vector<QueuedPush*>& pushes) {
  using Out = decltype(write(std::declval<StoreTx&>(), int64_t{}));
  auto lease = pool_.Borrow();
  if (!lease) return Out(lease.error());
  auto tx = pg::Transaction::Begin(lease->conn());
  if (!tx) return Out(tx.error());
  PgTx store_tx(lease->conn());
  if (auto started = store_tx.Start(); !started) return Out(started.error());
  if (!pushes.empty()) {
    std::vector<const sync::PushRequest*> requests;
    std::vector<int64_t> devices;
    for (const QueuedPush* push : pushes) {
      requests.push_back(&push->request->request());
      devices.push_back(push->device->id);
    }
    if (auto fetched = store_tx.Prefetch(requests, devices); !fetched) return Out(fetched.error());
  }
  Out out = write(store_tx, clock_.NowMs());
  if (!out) return out;  // the transaction rolls back: nothing changed
  if constexpr (std::is_same_v<Out, Result<std::vector<PushReply>>>) {
    if (std::all_of(out->begin(), out->end(), [](const PushReply& r) { return r.replayed; }))
      return out;  // nothing written
  }
  if (auto finished = store_tx.Finish(); !finished) return Out(finished.error());
  if (auto committed = tx->Commit(); !committed) return Out(committed.error());
  return out;
}

Status PgStore::Health() {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto rows = lease->conn().Exec(sql::kReadSeq);
  if (!rows) return rows.error();
  if (rows->size() != 1) return MakeError(ErrorCode::kInternal, "the central store has no meta row");
  return OkStatus();
}

Result<std::string> PgStore::AddDevice(const std::string& name, const std::vector<std::string>& territories,
                                       Role role) {
  RELAIS_TRY(CheckEnrolment(name, territories));

  const std::string token = RandomHex(32);
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  pg::Conn& conn = lease->conn();
  auto tx = pg::Transaction::Begin(conn);
  if (!tx) return tx.error();
  auto exists = conn.Exec(pg::Dollars(sql::kDeviceNamed), {name});
  if (!exists) return exists.error();
  if (exists->size() > 0) return NameTaken(name);
  auto inserted =
      conn.Exec("INSERT INTO devices(name, role, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                {name, std::string(ToString(role)), Sha256Hex(token), IsoTimestamp(clock_.NowMs())});
  if (!inserted) return inserted.error();
  const std::string id = (*inserted)[0].Text(0);
  for (const std::string& t : territories) {
    auto added = conn.Exec(
        "INSERT INTO device_territories(device_id, territory) VALUES ($1, $2) ON CONFLICT DO NOTHING", {id, t});
    if (!added) return added.error();
  }
  RELAIS_TRY(tx->Commit());
  return token;
}

Result<std::vector<DeviceInfo>> PgStore::ListDevices() {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto tx = pg::Transaction::Begin(lease->conn(), kSnapshot);
  if (!tx) return tx.error();
  auto rows = lease->conn().Exec(sql::kListDevices);
  if (!rows) return rows.error();
  std::vector<DeviceInfo> out;
  for (int i = 0; i < rows->size(); ++i) {
    DeviceInfo d = ReadDeviceInfo((*rows)[i]);
    auto territories = TerritoriesOf(lease->conn(), (*rows)[i].Int(0));
    if (!territories) return territories.error();
    d.territories = std::move(*territories);
    out.push_back(std::move(d));
  }
  return out;
}

Status PgStore::RevokeDevice(const std::string& name) {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto rows = lease->conn().Exec(pg::Dollars(sql::kRevokeDevice), {IsoTimestamp(clock_.NowMs()), name});
  if (!rows) return rows.error();
  if (rows->Affected() == 0) {
    return MakeError(ErrorCode::kNotFound, "no device named " + name + " (see `relais-central device list`)");
  }
  return OkStatus();
}

Result<Device> PgStore::Authenticate(std::string_view token) {
  const Error refused = MakeError(ErrorCode::kAuth, "unknown or revoked token");
  if (token.empty() || token.size() > 256) return refused;
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  pg::Conn& conn = lease->conn();
  auto rows = conn.Exec(pg::Dollars(sql::kDeviceByToken), {Sha256Hex(token)});
  if (!rows) return rows.error();
  if (rows->size() == 0 || !(*rows)[0].IsNull(3)) return refused;
  const pg::Row row = (*rows)[0];
  Device d;
  d.id = row.Int(0);
  d.name = row.Text(1);
  d.role = RoleFromText(row.Text(2));
  const std::optional<std::string> last_seen = row.Val(4);
  auto territories = TerritoriesOf(conn, d.id);
  if (!territories) return territories.error();
  d.territories = std::move(*territories);
  if (d.territories.empty()) return refused;
  const int64_t now = clock_.NowMs();
  if (!last_seen || *last_seen < IsoTimestamp(now - kLastSeenResolutionMs)) {
    (void)conn.Exec(pg::Dollars(sql::kTouchDevice), {IsoTimestamp(now), Num(d.id)});  // best effort
  }
  return d;
}

Result<PushReply> PgStore::Push(const Device& device, const DecodedPush& request) {
  QueuedPush push{&device, &request};
  std::unique_lock<std::mutex> lock(queue_mutex_);
  queue_.push_back(&push);
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

void PgStore::EndTurn(const std::vector<QueuedPush*>& group) {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  for (QueuedPush* p : group) p->done = true;
  leading_ = false;
  queue_turn_.notify_all();
}

void PgStore::RunGroup(const std::vector<QueuedPush*>& group) {
  if (group.size() > 1) {
    auto replies = Write(
        [&](StoreTx& tx, int64_t now) -> Result<std::vector<PushReply>> {
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
        [&](StoreTx& tx, int64_t now) -> Result<std::vector<PushReply>> {
          auto reply = PushBatch(tx, *push->device, *push->request, now);
          if (!reply) return reply.error();
          return std::vector<PushReply>{std::move(*reply)};
        },
        {push});
    push->reply = replies ? Result<PushReply>(std::move(replies->front())) : Result<PushReply>(replies.error());
  }
}

Result<sync::PullPage> PgStore::Pull(const Device& device, int64_t since, size_t limit, bool without_echo) {
  if (since < 0) return MakeError(ErrorCode::kUsage, "since must not be negative");
  if (limit == 0) return MakeError(ErrorCode::kUsage, "limit must be at least 1");
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  pg::Conn& conn = lease->conn();
  auto tx = pg::Transaction::Begin(conn, kSnapshot);
  if (!tx) return tx.error();

  const pg::Params params = {Num(since), ArrayOf(device.territories), Num(static_cast<int64_t>(limit) + 1)};
  const PullQueries& queries = PullQueriesFor(PostgresDialect());
  std::vector<PgPullSource> sources;
  auto add_source = [&](PullSourceKind kind, const TableLayout* layout, const std::string& sql,
                        const pg::Params& bound) -> Status {
    auto rows = conn.ExecCustomPlan(sql, bound);
    if (!rows) return rows.error();
    PgPullSource source;
    source.kind = kind;
    source.layout = layout;
    source.rows = std::move(*rows);
    RELAIS_TRY(source.Advance());
    sources.push_back(std::move(source));
    return OkStatus();
  };
  // A scoped table is read territory by territory, each an ordered scan of its (territory, version)
  // index, merged below, as the SQLite store does: `territory = ANY($2)` cannot give the index's
  // order, so the list form fetched and sorted every record after the cursor for each page.
  for (size_t i = 0; i < Layouts().size(); ++i) {
    if (queries.records_in_territory[i].empty()) {
      RELAIS_TRY(add_source(PullSourceKind::kRecords, &Layouts()[i], queries.records[i], params));
      continue;
    }
    for (const std::string& territory : device.territories) {
      RELAIS_TRY(add_source(PullSourceKind::kRecords, &Layouts()[i], queries.records_in_territory[i],
                            {params[0], territory, params[2]}));
    }
  }
  RELAIS_TRY(add_source(PullSourceKind::kExits, nullptr, queries.exits, params));
  RELAIS_TRY(add_source(PullSourceKind::kOpened, nullptr, queries.opened, params));
  RELAIS_TRY(add_source(PullSourceKind::kSettled, nullptr, queries.settled, params));

  // Every source's rows came in one result (limit + 1 each): an echo counts fully (echo_scan 1).
  auto page =
      MergePullSources(since, limit, sources, without_echo ? std::optional<int64_t>(device.id) : std::nullopt, 1);
  if (!page) return page.error();
  if (!page->more) {
    // In the same snapshot: every number up to last_seq is committed and visible here.
    auto rows = conn.Exec(sql::kReadSeq);
    if (!rows) return rows.error();
    if (rows->size() == 1) page->next = (*rows)[0].Int(0);
  }
  return page;
}

Result<std::optional<Store::ScopeDigestAt>> PgStore::Digest(const Device& device) {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  pg::Conn& conn = lease->conn();
  auto tx = pg::Transaction::Begin(conn, kSnapshot);
  if (!tx) return tx.error();
  ScopeDigestAt out;
  auto seq = conn.Exec(sql::kReadSeq);
  if (!seq) return seq.error();
  out.at = seq->size() == 1 ? (*seq)[0].Int(0) : 0;
  const std::vector<std::string> queries = DigestQueries(PostgresDialect());
  const pg::Params params = {ArrayOf(device.territories)};
  for (size_t t = 0; t < Layouts().size(); ++t) {
    auto rows = conn.ExecCustomPlan(queries[t], params);
    if (!rows) return rows.error();
    sync::TableDigest& d = out.digest[Layouts()[t].table->name];
    for (int i = 0; i < rows->size(); ++i) d.Add((*rows)[i].Text(0), (*rows)[i].Int(1));
  }
  return std::optional<ScopeDigestAt>(std::move(out));
}

Result<std::vector<HistoryEntry>> PgStore::History(std::string_view table, std::string_view record_id) {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto rows = lease->conn().Exec(pg::Dollars(HistorySql()), {std::string(record_id), std::string(table)});
  if (!rows) return rows.error();
  std::vector<HistoryEntry> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(ReadHistory((*rows)[i]));
  return out;
}

Result<std::vector<Conflict>> PgStore::Conflicts(const ConflictQuery& query) {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto rows = lease->conn().Exec(
      "SELECT * FROM (SELECT " + ConflictColumns() +
          " FROM conflicts c "
          "WHERE ($1::text IS NULL OR c.status = $1::text) AND ($2::text IS NULL OR c.record_id = $2::text)) AS q "
          "WHERE ($3::text IS NULL OR territory = $3::text) "
          "AND ($4::jsonb IS NULL OR territory IN (SELECT jsonb_array_elements_text($4::jsonb)) OR territory IS NULL) "
          "ORDER BY id LIMIT $5::bigint",
      {query.status, query.record_id, query.territory,
       query.scope ? schema::Value(EncodeTextList(*query.scope)) : schema::Value(),
       Num(static_cast<int64_t>(query.limit))});
  if (!rows) return rows.error();
  std::vector<Conflict> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(ReadConflict((*rows)[i], 0));
  return out;
}

Result<Conflict> PgStore::GetConflict(int64_t id) {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto rows = lease->conn().Exec(Statements().get_conflict, {Num(id)});
  if (!rows) return rows.error();
  if (rows->size() == 0) {
    return MakeError(ErrorCode::kNotFound,
                     "no conflict " + std::to_string(id) + " (see `relais-central conflicts list --status open`)");
  }
  return ReadConflict((*rows)[0], 0);
}

Result<Store::Placement> PgStore::Locate(std::string_view record_id) {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto tx = pg::Transaction::Begin(lease->conn(), kSnapshot);
  if (!tx) return tx.error();
  for (const TableLayout& l : Layouts()) {
    const std::string name(l.table->name);
    auto rows = lease->conn().Exec(
        "SELECT " + std::string(IsScoped(*l.table) ? "territory" : "NULL::text") + " FROM " + name + " WHERE id = $1",
        {std::string(record_id)});
    if (!rows) return rows.error();
    if (rows->size() > 0) return Placement{name, (*rows)[0].Val(0)};
  }
  return MakeError(ErrorCode::kNotFound,
                   "no record " + std::string(record_id) + " (check the id: it is the record's UUID)");
}

Result<Conflict> PgStore::Resolve(int64_t id, const Decision& decision, const std::string& by) {
  return Write([&](StoreTx& tx, int64_t now) { return ResolveConflict(tx, id, decision, by, now); });
}

Result<Conflict> PgStore::Merge(int64_t id, const std::vector<std::string>& take, const std::string& by) {
  return Write([&](StoreTx& tx, int64_t now) { return MergeDuplicate(tx, id, take, by, now); });
}

Result<Conflict> PgStore::Dismiss(int64_t id, const std::string& by) {
  return Write([&](StoreTx& tx, int64_t now) { return DismissDuplicate(tx, id, by, now); });
}

}  // namespace relais::server
