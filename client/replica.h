// client/ — the counsellor's side of Relais: the local replica (SQLite), the repositories that write
// it (every write one transaction with its outbox entry), import/export, and the CLI in cli/. It uses
// sync/ and schema/; nothing uses client/.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "schema/model.h"
#include "sqlite/db.h"
#include "sync/hlc.h"

namespace relais::client {

// The device's local replica: one SQLite file holding the synced tables, the outbox of changes not
// yet accepted by the centre, and the sync state (docs/SCHEMA.md).
//
// Not thread-safe: one thread uses a Replica (and its Db) at a time. The Clock must outlive it.
class Replica {
 public:
  // Opens the replica at `path`, creating it (mode 0600: it holds personal data) when absent, and
  // brings it to the last migration. On first open it makes the node id. The HLC is seeded from the
  // largest stamp in the outbox and from sync_state `hlc_last`, so stamps keep growing across restarts
  // even when the wall clock went back.
  // Fails with kTooNew (nothing changed) for a file written by a newer Relais, kIo when the file
  // cannot be opened or is not a database.
  static Result<Replica> Open(const std::string& path, const Clock& clock);

  Replica(Replica&&) = default;
  Replica& operator=(Replica&&) = delete;

  sqlite::Db& db() { return db_; }
  sync::HlcClock& hlc() { return hlc_; }
  const Clock& clock() const { return clock_; }
  const std::string& node_id() const { return node_id_; }
  const std::string& path() const { return path_; }

  // A value of the sync_state table (nullopt when the key was never set).
  Result<std::optional<std::string>> GetState(const std::string& key);
  // Sets a sync_state value. Runs inside the caller's transaction if one is open.
  Status SetState(const std::string& key, const std::string& value);

  // The record `id` of `table` with its version, or nullopt when this replica does not hold it.
  Result<std::optional<schema::Record>> Get(const schema::Table& table, const std::string& id);

  // The statement for `sql`, prepared on first use and kept for the life of the replica (hot paths:
  // import, show). The caller wraps each use in a sqlite::StmtGuard so it is reset afterwards.
  Result<sqlite::Stmt*> Statement(const std::string& sql);

 private:
  Replica(std::string path, sqlite::Db db, const Clock& clock, std::string node_id)
      : path_(std::move(path)), db_(std::move(db)), clock_(clock), node_id_(node_id), hlc_(clock, std::move(node_id)) {}

  std::string path_;
  sqlite::Db db_;
  const Clock& clock_;
  std::string node_id_;
  sync::HlcClock hlc_;
  // Statements are finalized before db_ closes: members are destroyed in reverse order. unique_ptr
  // keeps their addresses stable when the map grows or the replica moves.
  std::map<std::string, std::unique_ptr<sqlite::Stmt>> statements_;
};

// Today's date (YYYY-MM-DD) in the device's local time zone: the day the counsellor sees.
std::string LocalToday(const Clock& clock);

}  // namespace relais::client
