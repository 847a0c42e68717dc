#include "server/pg_store.h"

#include <algorithm>

#include "base/ids.h"
#include "base/text.h"
#include "server/pg_migrate.h"
#include "server/pull_page.h"
#include "server/push.h"
#include "server/record_json.h"
#include "server/settle.h"
#include "server/store_layout.h"

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
  std::vector<std::string> get, put, move;  // parallel to Layouts()
  std::string find_change = pg::Dollars(sql::kFindChange);
  std::string insert_history = pg::Dollars(sql::kInsertHistory);
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
      put.push_back(pg::Dollars(t.put + t.upsert_tail));
      move.push_back(pg::Dollars(t.move));
    }
  }
};

const PgStatements& Statements() {
  static const PgStatements kStatements;
  return kStatements;
}

void IdsOf(const pg::Rows& rows, std::vector<std::string>& ids) {
  for (int i = 0; i < rows.size(); ++i) ids.push_back(rows[i].Text(0));
}

// StoreTx on one connection, inside a transaction that Start() opens by locking the sequence.
class PgTx final : public StoreTx {
 public:
  explicit PgTx(pg::Conn& conn) : conn_(conn) {}

  Status Start() {
    auto rows = conn_.Exec(kLockSeq);
    if (!rows) return rows.error();
    if (rows->size() != 1) return MakeError(ErrorCode::kInternal, "the central store has no meta row");
    last_seq_ = first_seq_ = (*rows)[0].Int(0);
    return OkStatus();
  }

  Status Finish() {
    if (last_seq_ == first_seq_) return OkStatus();
    return Run(st_.write_seq, {Num(last_seq_)});
  }

  Result<std::optional<StoredRecord>> GetRecord(const schema::Table& table, const std::string& id) override {
    auto rows = conn_.Exec(st_.get[TableIndex(table)], {id});
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<StoredRecord>();
    auto stored = ReadStored(LayoutFor(table), (*rows)[0]);
    if (!stored) return stored.error();
    return std::optional<StoredRecord>(std::move(*stored));
  }

  Status PutRecord(const schema::Table& table, const StoredRecord& r) override {
    const TableLayout& l = LayoutFor(table);
    pg::Params p;
    p.reserve(static_cast<size_t>(l.column_count) + 1);
    p.push_back(r.record.id);
    for (const schema::Value& v : r.record.values) p.push_back(v);
    p.push_back(Num(r.record.version));
    if (l.has_stamps) p.push_back(EncodeStamps(r.stamps));
    if (l.has_territory_column) p.push_back(r.territory);
    p.push_back(r.last_device);
    if (l.has_identity_key) p.push_back(CaseIdentityKey(r.record.values));
    return Run(st_.put[TableIndex(table)], p);
  }

  Result<std::vector<std::string>> FindCasesByIdentity(const std::string& key) override {
    auto rows = conn_.Exec(st_.find_identity, {key});
    if (!rows) return rows.error();
    std::vector<std::string> ids;
    IdsOf(*rows, ids);
    return ids;
  }

  Result<int64_t> NextSeq() override { return ++last_seq_; }

  Status AppendHistory(const HistoryEntry& h) override {
    return Run(st_.insert_history, {Num(h.seq), h.table, h.record_id, h.device, h.hlc, h.change_id, h.at,
                                    h.snapshot, h.lost});
  }

  Status OpenConflict(const Conflict& c) override {
    return Run(st_.insert_conflict, {c.table, c.record_id, c.field, c.territory, c.base_value, c.server_value,
                                     c.server_device, c.server_hlc, c.device_value, c.device, c.device_hlc,
                                     c.change_id, Num(c.opened_seq), c.opened_at, c.kind, c.other_id});
  }

  Result<std::optional<Conflict>> GetConflict(int64_t id) override {
    auto rows = conn_.Exec(st_.get_conflict, {Num(id)});
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<Conflict>();
    return std::optional<Conflict>(ReadConflict((*rows)[0], 0));
  }

  Status SettleConflict(const Conflict& c) override {
    return Run(st_.settle_conflict, {Num(c.id), Num(c.settled_seq.value_or(0)), c.settled_at, c.settled_by,
                                     c.settled_value, c.settlement});
  }

  Status AddScopeExit(int64_t seq, const std::string& table, const std::string& record_id,
                      const std::string& territory) override {
    return Run(st_.insert_exit, {Num(seq), table, record_id, territory});
  }

  Result<std::vector<std::string>> FollowupsOfCase(const std::string& case_id) override {
    auto rows = conn_.Exec(st_.followups_of_case, {case_id});
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
    return Run(st_.move[TableIndex(table)], {territory, Num(version), id});
  }

  Result<std::optional<int64_t>> FindChangeOutcome(const std::string& change_id) override {
    auto rows = conn_.Exec(st_.find_change, {change_id});
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<int64_t>();
    return std::optional<int64_t>((*rows)[0].Int(0));
  }

  Result<std::optional<StoredBatch>> FindBatch(int64_t device_id, const std::string& batch_key) override {
    auto rows = conn_.Exec(st_.find_batch, {Num(device_id), batch_key});
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<StoredBatch>();
    return std::optional<StoredBatch>(StoredBatch{(*rows)[0].Text(0), (*rows)[0].Text(1)});
  }

  Status SaveBatch(int64_t device_id, const std::string& batch_key, const StoredBatch& batch,
                   const std::string& created_at) override {
    return Run(st_.save_batch, {Num(device_id), batch_key, batch.request_hash, batch.response_json, created_at});
  }

 private:
  Status Run(const std::string& sql, const pg::Params& params) {
    auto rows = conn_.Exec(sql, params);
    if (!rows) return rows.error();
    return OkStatus();
  }

  pg::Conn& conn_;
  const PgStatements& st_ = Statements();
  int64_t first_seq_ = 0;
  int64_t last_seq_ = 0;
};

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
auto PgStore::Write(Fn&& write) {
  using Out = decltype(write(std::declval<StoreTx&>(), int64_t{}));
  auto lease = pool_.Borrow();
  if (!lease) return Out(lease.error());
  auto tx = pg::Transaction::Begin(lease->conn());
  if (!tx) return Out(tx.error());
  PgTx store_tx(lease->conn());
  if (auto started = store_tx.Start(); !started) return Out(started.error());
  Out out = write(store_tx, clock_.NowMs());
  if (!out) return out;  // the transaction rolls back: nothing changed
  if constexpr (std::is_same_v<Out, Result<PushReply>>) {
    if (out->replayed) return out;  // nothing written
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
  auto inserted = conn.Exec(
      "INSERT INTO devices(name, role, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
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

Result<PushReply> PgStore::Push(const Device& device, const sync::PushRequest& request,
                                const std::string& request_hash) {
  return Write([&](StoreTx& tx, int64_t now) { return PushBatch(tx, device, request, request_hash, now); });
}

Result<sync::PullPage> PgStore::Pull(const Device& device, int64_t since, size_t limit) {
  if (since < 0) return MakeError(ErrorCode::kUsage, "since must not be negative");
  if (limit == 0) return MakeError(ErrorCode::kUsage, "limit must be at least 1");
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  pg::Conn& conn = lease->conn();
  auto tx = pg::Transaction::Begin(conn, kSnapshot);
  if (!tx) return tx.error();

  const pg::Params params = {Num(since), EncodeTextList(device.territories), Num(static_cast<int64_t>(limit) + 1)};
  const PullQueries& queries = PullQueriesFor(PostgresDialect());
  std::vector<PgPullSource> sources;
  auto add_source = [&](PullSourceKind kind, const TableLayout* layout, const std::string& sql) -> Status {
    auto rows = conn.Exec(sql, params);
    if (!rows) return rows.error();
    PgPullSource source;
    source.kind = kind;
    source.layout = layout;
    source.rows = std::move(*rows);
    RELAIS_TRY(source.Advance());
    sources.push_back(std::move(source));
    return OkStatus();
  };
  for (size_t i = 0; i < Layouts().size(); ++i) {
    RELAIS_TRY(add_source(PullSourceKind::kRecords, &Layouts()[i], queries.records[i]));
  }
  RELAIS_TRY(add_source(PullSourceKind::kExits, nullptr, queries.exits));
  RELAIS_TRY(add_source(PullSourceKind::kOpened, nullptr, queries.opened));
  RELAIS_TRY(add_source(PullSourceKind::kSettled, nullptr, queries.settled));

  auto page = MergePullSources(since, limit, sources);
  if (!page) return page.error();
  if (!page->more) {
    // In the same snapshot: every number up to last_seq is committed and visible here.
    auto rows = conn.Exec(sql::kReadSeq);
    if (!rows) return rows.error();
    if (rows->size() == 1) page->next = (*rows)[0].Int(0);
  }
  return page;
}

Result<std::vector<HistoryEntry>> PgStore::History(std::string_view table, std::string_view record_id) {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto rows = lease->conn().Exec(pg::Dollars(sql::kHistory), {std::string(record_id), std::string(table)});
  if (!rows) return rows.error();
  std::vector<HistoryEntry> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(ReadHistory((*rows)[i]));
  return out;
}

Result<std::vector<Conflict>> PgStore::Conflicts(const ConflictQuery& query) {
  auto lease = pool_.Borrow();
  if (!lease) return lease.error();
  auto rows = lease->conn().Exec(
      "SELECT * FROM (SELECT " + ConflictColumns() + " FROM conflicts c "
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
  return MakeError(ErrorCode::kNotFound, "no record " + std::string(record_id) + " (check the id: it is the record's UUID)");
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
