// The embedded central store: one SQLite file (schema/migrations/central), WAL, synchronous=FULL.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "server/store.h"
#include "sqlite/db.h"

namespace relais::server {

// Thread-safe. Writes (push, settlements, enrolment, revocation) go through one connection guarded by a mutex,
// so they are serialised; reads (authentication, pull, history) each borrow a connection of their
// own from a small pool and run in a snapshot, so they never wait for a writer (WAL).
class SqliteStore final : public Store {
 public:
  using OpenMode = server::OpenMode;

  // Opens the store at `path`, bringing its schema up to date. kNotFound (kExisting and no file),
  // kTooNew (written by a newer Relais) or kIo; on failure nothing is changed.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, OpenMode mode,
                                                   const Clock& clock = SystemClock::Instance());
  ~SqliteStore() override;

  Status Health() override;
  Result<std::string> AddDevice(const std::string& name, const std::vector<std::string>& territories,
                                Role role) override;
  Result<std::vector<DeviceInfo>> ListDevices() override;
  Status RevokeDevice(const std::string& name) override;
  Result<Device> Authenticate(std::string_view token) override;
  Result<PushReply> Push(const Device& device, const DecodedPush& push) override;
  Result<sync::PullPage> Pull(const Device& device, int64_t since, size_t limit, bool without_echo) override;
  Result<std::optional<ScopeDigestAt>> Digest(const Device& device) override;
  Result<std::vector<HistoryEntry>> History(std::string_view table, std::string_view record_id) override;
  Result<std::vector<Conflict>> Conflicts(const ConflictQuery& query) override;
  Result<Conflict> GetConflict(int64_t id) override;
  Result<Placement> Locate(std::string_view record_id) override;
  Result<Conflict> Resolve(int64_t id, const Decision& decision, const std::string& by) override;
  Result<Conflict> Merge(int64_t id, const std::vector<std::string>& take, const std::string& by) override;
  Result<Conflict> Dismiss(int64_t id, const std::string& by) override;

  struct WriterStatements;  // defined in sqlite_store.cc

 private:
  SqliteStore(std::string path, sqlite::Db writer, const Clock& clock);

  // A read connection: taken from the pool or opened, given back when the lease ends.
  class ReaderLease;
  Result<ReaderLease> BorrowReader();
  void ReturnReader(sqlite::Db db);

  Result<std::vector<std::string>> TerritoriesOf(sqlite::Db& db, int64_t device_id);
  // Runs `settle(StoreTx&, now_ms)` in one write transaction; commits only when it succeeds.
  template <class Fn>
  Result<Conflict> Settle(Fn&& settle);
  void TouchLastSeen(int64_t device_id, const std::optional<std::string>& last_seen);

  const std::string path_;
  const Clock& clock_;

  std::mutex writer_mutex_;  // guards writer_ and writer_statements_
  sqlite::Db writer_;
  std::unique_ptr<WriterStatements> writer_statements_;

  std::mutex readers_mutex_;  // guards idle_readers_
  std::vector<sqlite::Db> idle_readers_;

  // Checkpoints copy the WAL into the database file on a connection and thread of their own, so
  // that a push never does it under the writer's lock (SQLite's automatic checkpoint runs in the
  // commit that crosses its threshold). The writer's commit hook wakes the thread.
  static int OnWalCommit(void* store, sqlite3* db, const char* name, int wal_pages);
  void RunCheckpoints(sqlite::Db db);
  std::mutex checkpoint_mutex_;  // guards checkpoint_due_ and stopping_
  std::condition_variable checkpoint_wake_;
  bool checkpoint_due_ = false;
  bool stopping_ = false;
  std::thread checkpointer_;
};

}  // namespace relais::server
