// The central store's logic, written once over SqlConn (server/sql_conn.h): devices and
// authentication, pull, the divergence digest, history, conflicts, locate, and the settlement
// shells. A database's store (server/sqlite_store.h, server/pg_store.h) derives from it and keeps
// only what is its own: opening and migrating, its connections, how a write transaction runs
// (CentralTx), and push.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "server/push.h"
#include "server/sql_conn.h"
#include "server/store.h"

namespace relais::server {

// Fills the digests (digest_key, digest_values) of the records that have none: those of a store
// older than these columns, and follow-ups moved with their case. Run by a store as it opens, before
// anyone else writes; batches of 5,000 records, each in its own transaction (a failure keeps the
// batches done, and the next opening goes on). Tells its progress on stderr when there is work.
Status FillRecordDigests(SqlConn& conn);

// Rewrites in Unicode NFC the texts stored before every entry point normalised them (docs/SCHEMA.md,
// "Texts in NFC"): the text fields of every record, the snapshots and lost values of history, the
// values of conflicts. A record rewritten keeps its version (devices rewrite their replicas alike,
// and a device that did not is repaired by the divergence check); its identity key is made again
// and its digests cleared, for FillRecordDigests, run next, to make them from the new values. Runs
// once (meta.texts_nfc), as a store opens, before anyone else writes; batches of 5,000 rows, each
// in its own transaction (a failure keeps the batches done, the next opening goes on). Tells on
// stderr what it rewrote, when it rewrote anything.
Status RewriteTextsToNfc(SqlConn& conn);

// Thread-safe when the derived store's Reader(), Writer() and Settle() are.
class SqlCentralStore : public CentralStore {
 public:
  Status Health() override;
  Result<CentreIdentity> Identity() override;
  Result<CentreIdentity> BeginEpoch(std::optional<EpochEvidence> seen) override;
  Status NoteRecovery(const Device& device, const std::vector<RecoveredRecord>& records) override;
  Result<std::vector<RecoveryNote>> Recoveries(size_t limit) override;
  Result<std::string> AddDevice(const std::string& name, const std::vector<std::string>& territories,
                                Role role) override;
  Result<std::vector<DeviceInfo>> ListDevices() override;
  using CentralStore::Authenticate;
  using CentralStore::RevokeDevice;
  Status RevokeDevice(const std::string& name, bool wipe) override;
  Result<Device> Authenticate(std::string_view token, const DeviceReport& report) override;
  Result<Network> GetNetwork() override;
  Status AddTerritory(const Territory& territory) override;
  Status RenameTerritory(const std::string& code, const std::string& label) override;
  Status EditReceptionPoints(const std::string& code, const std::vector<std::string>& add,
                             const std::vector<std::string>& remove) override;
  Status SetTransferPolicy(TransferPolicy policy) override;
  Result<sync::PullPage> Pull(const Device& device, int64_t since, size_t limit, bool without_echo) override;
  Result<ScopeDigestAt> Digest(const Device& device) override;
  Result<std::vector<HistoryEntry>> History(std::string_view table, std::string_view record_id) override;
  Result<std::vector<schema::Record>> Records(const schema::Table& table, size_t limit) override;
  Result<std::vector<schema::Record>> RecordsWhere(const schema::Table& table, std::string_view field,
                                                   const std::string& value) override;
  Result<stats::StatsTable> Stats(const stats::Query& query) override;
  Status ReadForStats(const std::function<Status(stats::Database&)>& use) override;
  Result<std::vector<Conflict>> Conflicts(const ConflictFilter& filter) override;
  Result<Conflict> GetConflict(int64_t id) override;
  Result<Placement> Locate(std::string_view record_id) override;
  Result<Conflict> Resolve(int64_t id, const Decision& decision, const std::string& by) override;
  Result<Conflict> Merge(int64_t id, const std::vector<std::string>& take, const std::string& by) override;
  Result<Conflict> Dismiss(int64_t id, const std::string& by) override;
  Result<Erasure> ErasePerson(const std::string& case_id, const std::string& reason, const std::string& by,
                              const std::string& source) override;
  Result<std::vector<Erasure>> Erasures() override;
  Result<int64_t> RecordAccess(const std::vector<AccessEntry>& entries) override;
  Result<std::vector<AccessEntry>> AccessLog(const AccessFilter& filter) override;
  Status NoteStaffRead(const std::string& reader, std::string_view action, const std::string& table,
                       const std::string& record_id) override;
  Result<RetentionPolicy> Retention() override;
  Status SetRetention(const RetentionPolicy& policy) override;
  Result<std::vector<ClosedCase>> ClosedBefore(const std::string& day) override;

 protected:
  // Run after an erasure committed, so that no copy of the erased values stays in the database's
  // files where the store can empty them: answers whether the write-ahead log was emptied (SQLite:
  // a checkpoint TRUNCATE; false when a reader still needs it). The default does nothing.
  virtual bool AfterErasure() { return false; }

  explicit SqlCentralStore(const Clock& clock) : clock_(clock) {}

  // A connection to read from, that never waits for a writer (reads that must agree open a
  // snapshot on it: SqlTransaction::kSnapshot).
  virtual Result<SqlLease> Reader() = 0;
  // The connection small writes go through (enrolment, revocation, last seen). With `wait` false,
  // nullopt rather than waiting for a busy writer.
  virtual Result<std::optional<SqlLease>> Writer(bool wait) = 0;
  // A settlement: what runs inside its write transaction, at the server's time `now_ms`.
  using Settlement = std::function<Result<Conflict>(CentralTx& tx, int64_t now_ms)>;
  // Runs `settle` in one write transaction holding the global sequence; commits only when it
  // succeeds (on failure nothing changes).
  virtual Result<Conflict> Settle(const Settlement& settle) = 0;

  const Clock& clock_;

 private:
  Result<std::vector<std::string>> TerritoriesOf(SqlConn& conn, int64_t device_id);
};

}  // namespace relais::server
