// Moving a central store from its embedded SQLite file to PostgreSQL (`relais-central migrate`).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace relais::server {

struct MigrationReport {
  std::vector<std::pair<std::string, int64_t>> rows;  // table, rows copied, in copy order
  int64_t last_seq = 0;
  std::string target;  // the database, without its password
};

// Copies every table of the SQLite central store at `sqlite_path` (brought up to date first) into
// the PostgreSQL database `pg_url`, whose Relais tables are created if missing, in ONE transaction:
// devices with their token hashes and territories, records with their versions and stamps, history,
// conflicts (same ids), scope exits, push batches (retries are still answered) and the global
// sequence. Sequence numbers are kept, so every device's pull cursor stays valid: devices go on
// syncing from where they were, without a full re-pull. kNotFound (no such file), kConflict (the
// PostgreSQL store already holds devices or changes: only an empty one is filled), kIo; on failure
// the PostgreSQL database is left as it was. The SQLite file is only read (and migrated to the
// current schema when older). Stop `serve` on the file first: changes made during the copy would
// not be copied.
Result<MigrationReport> MigrateSqliteToPostgres(const std::string& sqlite_path, const std::string& pg_url);

}  // namespace relais::server
