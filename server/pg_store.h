// The central store on PostgreSQL (schema/migrations/central_pg), for a network that outgrows one
// SQLite file: many devices pushing and pulling at once through a pool of connections.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/pool.h"
#include "pg/conn.h"
#include "server/sql_store.h"

namespace relais::server {

// Thread-safe: every call borrows a connection of its own from the pool.
//
// Sequence numbers commit in order. A writing transaction (push, settlement) first locks the one
// row of `meta` (SELECT … FOR UPDATE), takes its numbers from it and writes it back before it
// commits; the next writer waits for that commit. So a transaction that is not yet visible to a
// reader only holds numbers above every number the reader sees, and a pull, which reads its page
// and `meta.last_seq` in one REPEATABLE READ snapshot, never moves a cursor past a change that
// commits later (docs/SERVER.md, "Concurrency"). Pulls, authentication and staff reads never wait
// for a writer.
//
// Pushes that arrive while another is being written wait in a queue, and the next of them to run
// takes the whole queue (up to sync::kMaxChangesPerPush changes) in one transaction: one lock, one commit
// and one write per table for the group, each batch applied in arrival order as if alone. If the
// group fails, each of its pushes runs again in a transaction of its own, so that one batch's
// error (a batch key reused for other changes, a store failure) is its own answer only.
class PgStore final : public SqlCentralStore {
 public:
  // Connects to `url` (postgresql://USER@HOST:PORT/DB), brings the schema up to date and keeps the
  // connection in the pool. kIo (cannot connect: host, port, database and user named, never the
  // password), kNotFound (kExisting and no Relais tables), kTooNew; on failure nothing is changed.
  static Result<std::unique_ptr<PgStore>> Open(const std::string& url, OpenMode mode,
                                               const Clock& clock = SystemClock::Instance());

  // The database for people and logs, without its password.
  const std::string& where() const { return where_; }

  Result<PushReply> Push(const Device& device, const DecodedPush& push) override;

  // Blocks until at least `n` pushes wait in the queue, behind the group that runs (a latch for
  // tests that must know a push has joined the queue).
  void AwaitQueued(size_t n);

 private:
  PgStore(const std::string& url, const Clock& clock);

  Result<SqlLease> Reader() override;
  // Any connection of the pool: PostgreSQL writers wait on the rows they write, not on each other.
  Result<std::optional<SqlLease>> Writer(bool wait) override;
  Result<Conflict> Settle(const Settlement& settle) override;

  // A push waiting in the queue. The thread that runs it sets `reply`, then `done` under
  // queue_mutex_; the thread that queued it reads `reply` once it sees `done`.
  struct QueuedPush {
    const Device* device;
    const DecodedPush* request;
    std::optional<Result<PushReply>> reply = std::nullopt;
    bool done = false;
  };

  // Runs `write(CentralTx&, now_ms)` in one transaction holding the sequence; commits only when it
  // succeeds (and, for pushes, unless every batch was replayed). `pushes`, those `write` applies,
  // lets the transaction read what their batches need in a few queries up front.
  template <class Fn>
  auto Write(Fn&& write, const std::vector<QueuedPush*>& pushes = {});
  // Sets the reply of every push of `group` (see the class comment).
  void RunGroup(const std::vector<QueuedPush*>& group);
  // Marks the pushes of `group` done and lets the next thread lead.
  void EndTurn(const std::vector<QueuedPush*>& group);

  using ConnPool = Pool<std::unique_ptr<pg::Conn>>;
  ConnPool pool_;
  const std::string where_;

  std::mutex queue_mutex_;              // guards queue_, leading_ and QueuedPush::done
  std::condition_variable queue_turn_;  // a group finished (its replies are set, and nobody leads), or a push queued
  std::deque<QueuedPush*> queue_;
  bool leading_ = false;  // a thread is running a group
};

}  // namespace relais::server
