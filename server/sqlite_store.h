// The embedded central store: one SQLite file (schema/migrations/central), WAL, synchronous=FULL.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "base/clock.h"
#include "base/pool.h"
#include "server/sql_store.h"
#include "sqlite/db.h"

namespace relais::server {

// Thread-safe. Writes (push, settlements, enrolment, revocation) go through one connection guarded by a mutex,
// so they are serialised; reads (authentication, pull, history) each borrow a connection of their
// own from a small pool and run in a snapshot, so they never wait for a writer (WAL).
class SqliteStore final : public SqlCentralStore {
 public:
  // Opens the store at `path`, bringing its schema up to date. kNotFound (kExisting and no file),
  // kTooNew (written by a newer Relais) or kIo; on failure nothing is changed.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, OpenMode mode,
                                                   const Clock& clock = SystemClock::Instance());
  ~SqliteStore() override;

  Result<PushReply> Push(const Device& device, const DecodedPush& push) override;

  struct WriterStatements;  // defined in sqlite_store.cc

 private:
  SqliteStore(const std::string& path, sqlite::Db writer, const Clock& clock);

  Result<SqlLease> Reader() override;
  Result<std::optional<SqlLease>> Writer(bool wait) override;
  Result<Conflict> Settle(const Settlement& settle) override;
  bool AfterErasure() override;
  // Runs `write(CentralTx&, now_ms)` in one transaction on the writer connection; commits only
  // when it succeeds and wrote something (a replayed push did not).
  template <class Fn>
  auto Write(Fn&& write) -> decltype(write(std::declval<CentralTx&>(), int64_t{}));

  std::mutex writer_mutex_;  // guards writer_ and writer_statements_
  sqlite::Db writer_;
  std::unique_ptr<WriterStatements> writer_statements_;

  Pool<sqlite::Db> readers_;

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
