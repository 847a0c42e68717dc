#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sqlite/db.h"

namespace relais::client {

// Bulk upkeep of what the replica derives from a table's rows, for a large import or pull page.
// Inside the caller's open transaction, Begin() suspends the table's insert triggers that keep
// derived data — the search index (`<table>_fts_insert`) and the open next actions
// (`followups_next_insert`, replica migration 0019) — and Finish() does their work for every row
// inserted since, in one set-based pass each, then restores the triggers. Indexing 100k rows this
// way costs a tenth of the per-row trigger. If the transaction rolls back instead, the triggers
// come back with it, so the replica never stays without them. Rows updated meanwhile go through
// the update triggers as always (the caller makes sure no row is inserted then updated within the
// load). A table with no such trigger is a no-op.
class BulkLoad {
 public:
  static Result<BulkLoad> Begin(sqlite::Db& db, std::string_view table);
  Status Finish();

  // What a suspended trigger's work becomes for the rows inserted since: statements run in order,
  // each with ?1 bound to the greatest rowid the table held at Begin.
  struct Suspended {
    std::string trigger_sql;        // to restore it
    std::vector<std::string> bulk;  // its work for rowid > ?1
  };

 private:
  BulkLoad() = default;
  sqlite::Db* db_ = nullptr;
  int64_t max_rowid_ = 0;
  std::vector<Suspended> suspended_;
};

}  // namespace relais::client
