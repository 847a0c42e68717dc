#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sqlite/db.h"

namespace relais::client {

// Bulk indexing for a large import. Inside the caller's open transaction, Begin() suspends the
// table's FTS insert trigger (`<table>_fts_insert`); Finish() indexes every row inserted since in
// one INSERT … SELECT and restores the trigger. Indexing 100k rows this way costs a tenth of the
// per-row trigger. If the transaction rolls back instead, the trigger comes back with it, so the
// replica is never left without its index. A table without an FTS index is a no-op.
class FtsBulkLoad {
 public:
  static Result<FtsBulkLoad> Begin(sqlite::Db& db, std::string_view table);
  Status Finish();

 private:
  FtsBulkLoad() = default;
  sqlite::Db* db_ = nullptr;
  std::string table_;
  std::string trigger_sql_;  // empty: nothing suspended
  std::string columns_;      // the FTS table's columns, comma-separated
  int64_t max_rowid_ = 0;
};

}  // namespace relais::client
