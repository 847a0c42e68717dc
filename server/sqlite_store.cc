#include "server/sqlite_store.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "server/erasure.h"
#include "server/push.h"
#include "server/store_layout.h"
#include "server/stored_json.h"
#include "sqlite/migrate.h"

namespace relais::server {

namespace {

constexpr size_t kMaxIdleReaders = 8;
// The writer's page cache. A push writes keys spread over the whole of several B-trees (record
// ids, change ids, identity keys: random UUIDs and names) in one transaction: with SQLite's
// default 2 MiB, a batch of 2,000 changes overflows it, and SQLite writes dirty pages to the WAL
// before the commit and reads them back.
constexpr const char* kWriterCache = "PRAGMA cache_size = -65536";  // 64 MiB at most, used as it fills
constexpr const char* kSecureDelete = "PRAGMA secure_delete = ON";
// Readers (pull pages, digests) read the store through a memory map rather than pread(): a pull
// page of 5,000 records reads a few thousand pages, each copied from the OS page cache into
// SQLite's own otherwise. The map is address space, not memory: its pages are the page cache's.
constexpr const char* kReaderMmap = "PRAGMA mmap_size = 1073741824";  // 1 GiB
// WAL pages after which a commit wakes the checkpointer: 40 MiB. A push of 5,000 new cases dirties
// a few thousand pages scattered over the record-id and identity indexes, mostly the same from one
// batch to the next; at SQLite's default (1,000) each was copied into the store after every batch.
// sync_bench (110,000 creates, three interleaved runs each): push 13,175 → 15,458 records/s (median).
constexpr int kCheckpointPages = 10000;
// The page size of a store this process creates: 16 KiB, where SQLite's default is 4 KiB. A push
// commits a few thousand pages at a time, scattered over several indexes; each page is a frame of
// the WAL, written with its own header, hashed into the WAL index and copied back by the
// checkpointer. In pages four times larger, the same bytes are a quarter of the frames. A store
// created before keeps its page size.
// sync_bench (110,000 creates, three interleaved runs, medians): the centre's CPU per pushed record
// 32.5 → 28.2 µs, push 25,764 → 27,956 records/s.
constexpr int kStorePageSize = 16384;

}  // namespace

// Statements of the writer connection, prepared once. Guarded by SqliteStore::writer_mutex_.
struct SqliteStore::WriterStatements {
  struct PerTable {
    sqlite::Stmt get;
    sqlite::Stmt put;
    sqlite::Stmt insert;  // put's plain insert: nothing when the id is taken
    sqlite::Stmt move;    // only for tables with a territory column
    sqlite::Stmt children;  // the same: ids of a case's records
  };
  std::vector<PerTable> tables;  // parallel to schema::Tables()
  // The outcomes of a push's changes, written together when it finishes (SqliteTx::Finish): one
  // statement of kOutcomeRows rows at a time, in key order, rather than one statement per change
  // (which cost the centre a seventh of its CPU per pushed record). Their texts (change id, then
  // digest) are in `outcome_texts`; both are kept from push to push for their capacity.
  struct PendingOutcome {
    int64_t device_id = 0;
    size_t text_at = 0;
    size_t id_size = 0;
    size_t digest_size = 0;
    const char* status = nullptr;
    int64_t version = 0;
    schema::Value review;
    schema::Value lost;
  };
  static constexpr int kOutcomeRows = 64;
  static constexpr int kOutcomeColumns = 7;  // as sql::kSaveChange
  std::vector<PendingOutcome> outcomes;
  std::string outcome_texts;
  sqlite::Stmt save_changes;  // kOutcomeRows rows
  sqlite::Stmt read_seq, write_seq, find_change, save_change, insert_history, insert_conflict, insert_exit,
      exits_of_record, find_batch, save_batch, find_identity, get_conflict, settle_conflict, transfer_rule,
      reception_points_of, recovery_claims, use_recovery_claim, history_at, erased_on;

  static Result<std::unique_ptr<WriterStatements>> Prepare(sqlite::Db& db) {
    auto st = std::make_unique<WriterStatements>();
    auto prepare = [&](sqlite::Stmt& into, const std::string& sql) -> Status {
      auto s = db.Prepare(sql);
      if (!s) return s.error();
      into = std::move(*s);
      return OkStatus();
    };
    for (const TableLayout& l : Layouts()) {
      PerTable t;
      const TableStatements& sql = StatementsFor(l);
      RELAIS_TRY(prepare(t.get, sql.get));
      RELAIS_TRY(prepare(t.put, "INSERT OR REPLACE" + sql.put.substr(std::string_view("INSERT").size())));
      RELAIS_TRY(prepare(t.insert, sql.put + " ON CONFLICT(id) DO NOTHING"));
      if (l.has_territory_column) {
        RELAIS_TRY(prepare(t.move, sql.move));
        RELAIS_TRY(prepare(t.children, sql.children));
      }
      st->tables.push_back(std::move(t));
    }
    RELAIS_TRY(prepare(st->read_seq, sql::kReadSeq));
    RELAIS_TRY(prepare(st->write_seq, sql::kWriteSeq));
    RELAIS_TRY(prepare(st->find_change, sql::kFindChange));
    RELAIS_TRY(prepare(st->save_change, sql::kSaveChange));
    {
      const std::string one(sql::kSaveChange);
      std::string many = one.substr(0, one.find(" VALUES")) + " VALUES ";
      for (int row = 0; row < kOutcomeRows; ++row) {
        many += row ? ", (" : "(";
        for (int col = 1; col <= kOutcomeColumns; ++col)
          many += (col > 1 ? ", ?" : "?") + std::to_string(row * kOutcomeColumns + col);
        many += ")";
      }
      RELAIS_TRY(prepare(st->save_changes, many));
    }
    RELAIS_TRY(prepare(st->insert_history, sql::kInsertHistory));
    RELAIS_TRY(prepare(st->insert_conflict, sql::kInsertConflict));
    // kFindIdentity without its ORDER BY, sorted here: SQLite would open a sorter on every create,
    // for the one row there usually is, or none.
    RELAIS_TRY(
        prepare(st->find_identity, "SELECT id, opened_on FROM cases WHERE identity_key = ?1 AND merged_into IS NULL"));
    RELAIS_TRY(prepare(st->get_conflict, "SELECT " + ConflictColumns() + " FROM conflicts c WHERE c.id = ?1"));
    RELAIS_TRY(prepare(st->settle_conflict, sql::kSettleConflict));
    RELAIS_TRY(prepare(st->insert_exit, sql::kInsertExit));
    RELAIS_TRY(prepare(st->exits_of_record, sql::kExitsOfRecord));
    RELAIS_TRY(prepare(st->find_batch, sql::kFindBatch));
    RELAIS_TRY(prepare(st->save_batch, sql::kSaveBatch));
    RELAIS_TRY(prepare(st->transfer_rule, sql::kTransferRule));
    RELAIS_TRY(prepare(st->reception_points_of, sql::kReceptionPointsOf));
    RELAIS_TRY(prepare(st->recovery_claims, sql::kRecoveryClaims));
    RELAIS_TRY(prepare(st->use_recovery_claim, sql::kUseRecoveryClaim));
    RELAIS_TRY(prepare(st->history_at, sql::kHistoryAt));
    RELAIS_TRY(prepare(st->erased_on, kErasedOn));
    return st;
  }
};

namespace {

// The first column of every row of `s` bound with `param`, as text (ids of records).
Result<std::vector<std::string>> FirstColumn(sqlite::Stmt& s, const std::string& param) {
  sqlite::StmtGuard g(s);
  s.Bind(1, param);
  std::vector<std::string> values;
  while (true) {
    auto row = s.Step();
    if (!row) return row.error();
    if (!*row) return values;
    values.push_back(s.Text(0));
  }
}

// CentralTx over the writer connection, inside a transaction the caller opened. The global
// sequence is read once and written back by Finish(), in the same transaction.
class SqliteTx final : public CentralTx {
 public:
  explicit SqliteTx(SqliteStore::WriterStatements& st) : st_(st) {}

  Status Start() {
    st_.outcomes.clear();
    st_.outcome_texts.clear();
    sqlite::StmtGuard g(st_.read_seq);
    auto row = st_.read_seq.Step();
    if (!row) return row.error();
    if (!*row) return MakeError(ErrorCode::kInternal, "la base centrale n'a pas de ligne meta");
    last_seq_ = first_seq_ = st_.read_seq.Int(0);
    return OkStatus();
  }

  Status Finish() {
    RELAIS_TRY(WriteOutcomes());
    if (last_seq_ == first_seq_) return OkStatus();
    sqlite::StmtGuard g(st_.write_seq);
    return st_.write_seq.Bind(1, last_seq_).Run();
  }

  Result<std::optional<StoredRecord>> GetRecord(const schema::Table& table, const std::string& id) override {
    sqlite::Stmt& s = st_.tables[TableIndex(table)].get;
    sqlite::StmtGuard g(s);
    s.Bind(1, id);
    auto row = s.Step();
    if (!row) return row.error();
    if (!*row) return std::optional<StoredRecord>();
    auto stored = ReadStored(LayoutFor(table), s);
    if (!stored) return stored.error();
    return std::optional<StoredRecord>(std::move(*stored));
  }

  Status PutRecord(const schema::Table& table, const StoredRecord& r) override {
    sqlite::Stmt& s = st_.tables[TableIndex(table)].put;
    sqlite::StmtGuard g(s);  // `r` outlives the run: its texts are bound without a copy
    BindRecord(s, table, r);
    return s.Run();
  }

  Result<bool> InsertRecord(const schema::Table& table, const StoredRecord& r) override {
    sqlite::Stmt& s = st_.tables[TableIndex(table)].insert;
    sqlite::StmtGuard g(s);
    BindRecord(s, table, r);
    RELAIS_TRY(s.Run());
    return sqlite3_changes64(sqlite3_db_handle(s.handle())) == 1;
  }

  // Binds every column of `r` to a put or an insert, its texts without a copy.
  static void BindRecord(sqlite::Stmt& s, const schema::Table& table, const StoredRecord& r) {
    const TableLayout& l = LayoutFor(table);
    s.BindBorrowed(1, r.record.id);
    for (size_t i = 0; i < table.fields.size(); ++i)
      s.BindBorrowed(static_cast<int>(i) + 2, table.fields[i], r.record.values[i]);
    s.Bind(l.version_col + 1, r.record.version);
    if (l.has_stamps) s.BindBorrowed(l.stamps_col + 1, r.stamps.text());
    if (l.has_territory_column) s.Bind(l.territory_col + 1, r.territory);
    s.BindBorrowed(l.last_device_col + 1, r.last_device);
    if (r.echo_device) s.Bind(l.echo_device_col + 1, *r.echo_device);
    if (r.history_seq) s.Bind(l.history_seq_col + 1, *r.history_seq);
    const sync::StoredDigests digests = StoredDigestsOf(r.record);
    s.Bind(l.digest_key_col + 1, digests.key).Bind(l.digest_values_col + 1, digests.values);
    if (l.has_identity_key) s.Bind(l.column_count + 1, CaseIdentityKey(r.record.values));
  }

  Result<std::vector<std::string>> FindCasesByIdentity(const std::string& key) override {
    sqlite::Stmt& s = st_.find_identity;
    sqlite::StmtGuard g(s);
    s.Bind(1, key);
    std::vector<std::pair<std::string, std::string>> found;  // (opened_on, id)
    while (true) {
      auto row = s.Step();
      if (!row) return row.error();
      if (!*row) break;
      found.emplace_back(s.Text(1), s.Text(0));
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> ids;
    ids.reserve(found.size());
    for (auto& [opened_on, id] : found) ids.push_back(std::move(id));
    return ids;
  }

  Result<std::optional<Conflict>> GetConflict(int64_t id) override {
    sqlite::Stmt& s = st_.get_conflict;
    sqlite::StmtGuard g(s);
    s.Bind(1, id);
    auto row = s.Step();
    if (!row) return row.error();
    if (!*row) return std::optional<Conflict>();
    return std::optional<Conflict>(ReadConflict(s, 0));
  }

  Status SettleConflict(const Conflict& c) override {
    sqlite::Stmt& s = st_.settle_conflict;
    sqlite::StmtGuard g(s);
    s.Bind(1, c.id).Bind(2, c.settled_seq.value_or(0)).Bind(3, c.settled_at).Bind(4, c.settled_by);
    s.Bind(5, c.settled_value).Bind(6, c.settlement);
    return s.Run();
  }

  Result<int64_t> NextSeq() override { return ++last_seq_; }
  int64_t LastSeq() const override { return last_seq_; }
  void ReturnSeq(int64_t seq) override {
    if (seq == last_seq_) --last_seq_;
  }

  Status AppendHistory(const HistoryEntry& h) override {
    sqlite::Stmt& s = st_.insert_history;
    sqlite::StmtGuard g(s);  // `h` outlives the run: its texts are bound without a copy
    s.Bind(1, h.seq)
        .BindBorrowed(2, h.table)
        .BindBorrowed(3, h.record_id)
        .BindBorrowed(4, h.device)
        .BindBorrowed(5, h.hlc);
    s.Bind(6, h.change_id).BindBorrowed(7, h.at).BindBorrowed(8, h.snapshot).Bind(9, h.lost);
    if (h.prev_seq) s.Bind(10, *h.prev_seq);
    return s.Run();
  }

  Status OpenConflict(const Conflict& c) override {
    sqlite::Stmt& s = st_.insert_conflict;
    sqlite::StmtGuard g(s);
    s.Bind(1, c.table).Bind(2, c.record_id).Bind(3, c.field).Bind(4, c.territory);
    s.Bind(5, c.base_value).Bind(6, c.server_value).Bind(7, c.server_device).Bind(8, c.server_hlc);
    s.Bind(9, c.device_value).Bind(10, c.device).Bind(11, c.device_hlc).Bind(12, c.change_id);
    s.Bind(13, c.opened_seq).Bind(14, c.opened_at).Bind(15, c.kind).Bind(16, c.other_id);
    return s.Run();
  }

  Status AddScopeExit(int64_t seq, const std::string& table, const std::string& record_id,
                      const std::string& territory, const std::optional<std::string>& to) override {
    sqlite::Stmt& s = st_.insert_exit;
    sqlite::StmtGuard g(s);
    s.Bind(1, seq).Bind(2, table).Bind(3, record_id).Bind(4, territory);
    if (to) s.Bind(5, *to);
    return s.Run();
  }

  Result<std::vector<std::string>> ExitsAfter(const std::string& record_id, int64_t after_seq) override {
    sqlite::Stmt& s = st_.exits_of_record;
    sqlite::StmtGuard g(s);
    s.Bind(1, record_id).Bind(2, after_seq);
    std::vector<std::string> territories;
    while (true) {
      auto row = s.Step();
      if (!row) return row.error();
      if (!*row) return territories;
      territories.push_back(s.Text(0));
    }
  }

  Result<std::vector<std::string>> ChildrenOfCase(const schema::Table& table, const std::string& case_id) override {
    if (!LayoutFor(table).has_territory_column) return std::vector<std::string>();
    return FirstColumn(st_.tables[TableIndex(table)].children, case_id);
  }

  Result<std::optional<std::string>> ErasedOn(const std::string& record_id) override {
    auto days = FirstColumn(st_.erased_on, record_id);
    if (!days) return days.error();
    if (days->empty()) return std::optional<std::string>();
    return std::optional<std::string>(days->front());
  }

  Status MoveRecord(const schema::Table& table, const std::string& id, const std::string& territory,
                    int64_t version) override {
    if (!LayoutFor(table).has_territory_column) {
      return MakeError(ErrorCode::kInternal, std::string(table.name) + " has no territory column to move");
    }
    sqlite::Stmt& s = st_.tables[TableIndex(table)].move;
    sqlite::StmtGuard g(s);
    return s.Bind(1, territory).Bind(2, version).Bind(3, id).Run();
  }

  Result<TransferRule> RuleForTransfer(const std::string& code) override {
    sqlite::Stmt& s = st_.transfer_rule;
    sqlite::StmtGuard g(s);
    s.Bind(1, code);
    auto row = s.Step();
    if (!row) return row.error();
    TransferRule rule;
    if (*row) {
      rule.declared = s.Int(0) > 0;
      rule.review = !s.IsNull(1) && s.Text(1) == "review";
    }
    return rule;
  }

  Result<std::vector<std::string>> ReceptionPointsOf(const std::string& code) override {
    sqlite::Stmt& s = st_.reception_points_of;
    sqlite::StmtGuard g(s);
    s.Bind(1, code);
    std::vector<std::string> points;
    while (true) {
      auto row = s.Step();
      if (!row) return row.error();
      if (!*row) return points;
      points.push_back(s.Text(0));
    }
  }

  Result<std::optional<ChangeOutcome>> FindChangeOutcome(int64_t device_id, const std::string& change_id) override {
    sqlite::Stmt& s = st_.find_change;
    sqlite::StmtGuard g(s);
    s.Bind(1, device_id).BindBorrowed(2, change_id);
    auto row = s.Step();
    if (!row) return row.error();
    if (!*row) return std::optional<ChangeOutcome>();
    return std::optional<ChangeOutcome>(ReadOutcome(s, 0));
  }

  // Kept until Finish(): FindChangeOutcome never asks for one of them, as a batch (one per
  // transaction here) names each change id once. The decoder refuses a batch that names one twice;
  // given one all the same, WriteOutcomes refuses it whole.
  Status SaveChangeOutcome(int64_t device_id, const sync::ChangeResult& r, std::string_view digest) override {
    SqliteStore::WriterStatements::PendingOutcome o;
    o.device_id = device_id;
    o.text_at = st_.outcome_texts.size();
    o.id_size = r.change_id.size();
    o.digest_size = digest.size();
    o.status = sync::ToString(r.status);
    o.version = r.version;
    if (!r.review_fields.empty()) o.review = ReviewColumn(r.review_fields);
    if (!r.lost_fields.empty()) o.lost = ReviewColumn(r.lost_fields);
    st_.outcome_texts.append(r.change_id).append(digest);
    st_.outcomes.push_back(std::move(o));
    return OkStatus();
  }

  Result<RecoveryClaims> RecoveryClaimsOf(const std::string& device) override {
    sqlite::Stmt& s = st_.recovery_claims;
    sqlite::StmtGuard g(s);
    s.Bind(1, device);
    RecoveryClaims claims;
    while (true) {
      auto row = s.Step();
      if (!row) return row.error();
      if (!*row) return claims;
      AddRecoveryClaimRow(s, claims);
    }
  }

  Status UseRecoveryClaim(int64_t claim_id, int64_t seq) override {
    sqlite::Stmt& s = st_.use_recovery_claim;
    sqlite::StmtGuard g(s);
    return s.Bind(1, claim_id).Bind(2, seq).Run();
  }

  Result<std::optional<HistoryLink>> HistoryAt(int64_t seq) override {
    sqlite::Stmt& s = st_.history_at;
    sqlite::StmtGuard g(s);
    s.Bind(1, seq);
    auto row = s.Step();
    if (!row) return row.error();
    if (!*row) return std::optional<HistoryLink>();
    HistoryLink link;
    if (!s.IsNull(0)) link.prev_seq = s.Int(0);
    link.snapshot = s.Text(1);
    return std::optional<HistoryLink>(std::move(link));
  }

  Result<std::optional<StoredBatch>> FindBatch(int64_t device_id, const std::string& batch_key) override {
    sqlite::Stmt& s = st_.find_batch;
    sqlite::StmtGuard g(s);
    s.Bind(1, device_id).Bind(2, batch_key);
    auto row = s.Step();
    if (!row) return row.error();
    if (!*row) return std::optional<StoredBatch>();
    return std::optional<StoredBatch>(StoredBatch{s.Text(0), s.Text(1)});
  }

  Status SaveBatch(int64_t device_id, const std::string& batch_key, const StoredBatch& batch,
                   const std::string& created_at) override {
    sqlite::Stmt& s = st_.save_batch;
    sqlite::StmtGuard g(s);
    return s.Bind(1, device_id)
        .Bind(2, batch_key)
        .Bind(3, batch.request_hash)
        .Bind(4, batch.response_json)
        .Bind(5, created_at)
        .Run();
  }

 private:
  // Writes the outcomes SaveChangeOutcome kept, in key order (their pages in turn).
  Status WriteOutcomes() {
    auto& pending = st_.outcomes;
    if (pending.empty()) return OkStatus();
    const std::string& texts = st_.outcome_texts;
    auto id_of = [&](const SqliteStore::WriterStatements::PendingOutcome& o) {
      return std::string_view(texts).substr(o.text_at, o.id_size);
    };
    std::sort(pending.begin(), pending.end(), [&](const auto& a, const auto& b) {
      return a.device_id != b.device_id ? a.device_id < b.device_id : id_of(a) < id_of(b);
    });
    for (size_t i = 1; i < pending.size(); ++i) {
      if (pending[i].device_id == pending[i - 1].device_id && id_of(pending[i]) == id_of(pending[i - 1])) {
        return ChangeIdReused(id_of(pending[i]));
      }
    }
    auto bind = [&](sqlite::Stmt& s, int first, const SqliteStore::WriterStatements::PendingOutcome& o) {
      s.Bind(first, o.device_id).BindBorrowed(first + 1, id_of(o));
      s.BindBorrowed(first + 2, std::string_view(texts).substr(o.text_at + o.id_size, o.digest_size));
      s.BindBorrowed(first + 3, std::string_view(o.status)).Bind(first + 4, o.version).Bind(first + 5, o.review);
      s.Bind(first + 6, o.lost);
    };
    constexpr size_t kRows = SqliteStore::WriterStatements::kOutcomeRows;
    size_t at = 0;
    for (; pending.size() - at >= kRows; at += kRows) {
      sqlite::Stmt& s = st_.save_changes;
      sqlite::StmtGuard g(s);
      for (size_t row = 0; row < kRows; ++row) bind(s, static_cast<int>(row * SqliteStore::WriterStatements::kOutcomeColumns + 1), pending[at + row]);
      RELAIS_TRY(s.Run());
    }
    for (; at < pending.size(); ++at) {
      sqlite::Stmt& s = st_.save_change;
      sqlite::StmtGuard g(s);
      bind(s, 1, pending[at]);
      RELAIS_TRY(s.Run());
    }
    pending.clear();
    st_.outcome_texts.clear();
    return OkStatus();
  }

  SqliteStore::WriterStatements& st_;
  int64_t first_seq_ = 0;
  int64_t last_seq_ = 0;
};

}  // namespace

// ---- opening ------------------------------------------------------------------------------------

SqliteStore::SqliteStore(const std::string& path, sqlite::Db writer, const Clock& clock)
    : SqlCentralStore(clock),
      writer_(std::move(writer)),
      readers_(
          [path]() -> Result<sqlite::Db> {
            auto db = sqlite::Db::Open(path, false);
            if (!db) return db.error();
            RELAIS_TRY(db->Exec(kReaderMmap));
            return db;
          },
          kMaxIdleReaders) {}

SqliteStore::~SqliteStore() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(checkpoint_mutex_);
      stopping_ = true;
    }
    checkpoint_wake_.notify_one();
    checkpointer_.join();
  }
  // The writer's last close checkpoints what is left.
}

int SqliteStore::OnWalCommit(void* store, sqlite3*, const char*, int wal_pages) {
  if (wal_pages < kCheckpointPages) return SQLITE_OK;
  auto* self = static_cast<SqliteStore*>(store);
  {
    std::lock_guard<std::mutex> lock(self->checkpoint_mutex_);
    self->checkpoint_due_ = true;
  }
  self->checkpoint_wake_.notify_one();
  return SQLITE_OK;
}

void SqliteStore::RunCheckpoints(sqlite::Db db) {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(checkpoint_mutex_);
      checkpoint_wake_.wait(lock, [&] { return checkpoint_due_ || stopping_; });
      if (stopping_) return;
      checkpoint_due_ = false;
    }
    // PASSIVE: copies what no reader still needs, never waits for the writer or a reader. What it
    // leaves, the next one takes; a failure (a busy file) is retried at the next wake-up.
    (void)sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, OpenMode mode, const Clock& clock) {
  std::error_code ec;
  if (mode == OpenMode::kExisting && !std::filesystem::exists(path, ec)) {
    return MakeError(ErrorCode::kNotFound, "aucune base centrale à " + path +
                                               " (vérifiez --db ; `relais-central serve` ou `device add` la crée)");
  }
  auto db = sqlite::Db::Open(path, mode == OpenMode::kCreate, kStorePageSize);
  if (!db) return db.error();
  RELAIS_TRY(db->Exec(kWriterCache));
  // What a write frees is overwritten with zeros, so that an erased person's values, and those an
  // edit replaced, do not stay readable in free space (docs/PRIVACY.md, "Erasure").
  RELAIS_TRY(db->Exec(kSecureDelete));
  RELAIS_TRY(sqlite::Migrate(*db, schema::central_migrations(), "cette base centrale"));
  RELAIS_TRY(RewriteTextsToNfc(*SqlConnOver(*db)));
  RELAIS_TRY(FillRecordDigests(*SqlConnOver(*db)));
  auto statements = WriterStatements::Prepare(*db);
  if (!statements) return statements.error();
  auto checkpoint_db = sqlite::Db::Open(path, false);
  if (!checkpoint_db) return checkpoint_db.error();
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, std::move(*db), clock));
  store->writer_statements_ = std::move(*statements);
  // Replaces SQLite's automatic checkpoint on the writer (sqlite3_wal_hook overrides it).
  sqlite3_wal_hook(store->writer_.handle(), &SqliteStore::OnWalCommit, store.get());
  store->checkpointer_ = std::thread(&SqliteStore::RunCheckpoints, store.get(), std::move(*checkpoint_db));
  return store;
}

// ---- connections and write transactions ---------------------------------------------------------

Result<SqlLease> SqliteStore::Reader() {
  auto lease = readers_.Borrow();
  if (!lease) return lease.error();
  auto kept = std::make_shared<Pool<sqlite::Db>::Lease>(std::move(*lease));
  return SqlLease(kept, SqlConnOver(kept->conn()));
}

Result<std::optional<SqlLease>> SqliteStore::Writer(bool wait) {
  auto lock = std::make_shared<std::unique_lock<std::mutex>>(writer_mutex_, std::defer_lock);
  if (wait) {
    lock->lock();
  } else if (!lock->try_lock()) {
    return std::optional<SqlLease>();
  }
  return std::optional<SqlLease>(SqlLease(lock, SqlConnOver(writer_)));
}

namespace {

// Whether a write transaction has anything to commit: a replayed push wrote nothing.
bool Wrote(const PushReply& reply) { return !reply.replayed; }
bool Wrote(const Conflict&) { return true; }

}  // namespace

template <class Fn>
auto SqliteStore::Write(Fn&& write) -> decltype(write(std::declval<CentralTx&>(), int64_t{})) {
  std::lock_guard<std::mutex> lock(writer_mutex_);
  auto tx = sqlite::Transaction::Begin(writer_);
  if (!tx) return tx.error();
  SqliteTx central_tx(*writer_statements_);
  RELAIS_TRY(central_tx.Start());
  auto out = write(central_tx, clock_.NowMs());
  if (!out || !Wrote(*out)) return out;  // the transaction rolls back: nothing changed
  RELAIS_TRY(central_tx.Finish());
  RELAIS_TRY(tx->Commit());
  return out;
}

Result<PushReply> SqliteStore::Push(const Device& device, const DecodedPush& push) {
  return Write([&](CentralTx& tx, int64_t now) { return PushBatch(tx, device, push, now); });
}

Result<Conflict> SqliteStore::Settle(const Settlement& settle) { return Write(settle); }

bool SqliteStore::AfterErasure() {
  // The log holds the pages as they were before the erasure: copied into the database and cut to
  // nothing. It waits for readers (the busy timeout); one that still holds it leaves it for later.
  std::lock_guard<std::mutex> lock(writer_mutex_);
  return sqlite3_wal_checkpoint_v2(writer_.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) ==
         SQLITE_OK;
}

}  // namespace relais::server
