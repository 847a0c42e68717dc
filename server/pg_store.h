// The central store on PostgreSQL (schema/migrations/central_pg), for a network that outgrows one
// SQLite file: many devices pushing and pulling at once through a pool of connections.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "server/pg_conn.h"
#include "server/store.h"

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
class PgStore final : public Store {
 public:
  // Connects to `url` (postgresql://USER@HOST:PORT/DB), brings the schema up to date and keeps the
  // connection in the pool. kIo (cannot connect: host, port, database and user named, never the
  // password), kNotFound (kExisting and no Relais tables), kTooNew; on failure nothing is changed.
  static Result<std::unique_ptr<PgStore>> Open(const std::string& url, OpenMode mode,
                                               const Clock& clock = SystemClock::Instance());

  // The database for people and logs, without its password.
  const std::string& where() const { return where_; }

  Status Health() override;
  Result<std::string> AddDevice(const std::string& name, const std::vector<std::string>& territories,
                                Role role) override;
  Result<std::vector<DeviceInfo>> ListDevices() override;
  Status RevokeDevice(const std::string& name) override;
  Result<Device> Authenticate(std::string_view token) override;
  Result<PushReply> Push(const Device& device, const sync::PushRequest& request,
                         const std::string& request_hash) override;
  Result<sync::PullPage> Pull(const Device& device, int64_t since, size_t limit) override;
  Result<std::optional<ScopeDigestAt>> Digest(const Device& device) override;
  Result<std::vector<HistoryEntry>> History(std::string_view table, std::string_view record_id) override;
  Result<std::vector<Conflict>> Conflicts(const ConflictQuery& query) override;
  Result<Conflict> GetConflict(int64_t id) override;
  Result<Placement> Locate(std::string_view record_id) override;
  Result<Conflict> Resolve(int64_t id, const Decision& decision, const std::string& by) override;
  Result<Conflict> Merge(int64_t id, const std::vector<std::string>& take, const std::string& by) override;
  Result<Conflict> Dismiss(int64_t id, const std::string& by) override;

 private:
  PgStore(const std::string& url, const Clock& clock);

  // Runs `write(StoreTx&, now_ms)` in one transaction holding the sequence; commits only when it
  // succeeds (and, for a push, unless the batch was replayed). `request`, for a push, lets the
  // transaction read what the batch needs in a few queries up front.
  template <class Fn>
  auto Write(Fn&& write, const sync::PushRequest* request = nullptr);

  pg::Pool pool_;
  const Clock& clock_;
  const std::string where_;
};

}  // namespace relais::server
