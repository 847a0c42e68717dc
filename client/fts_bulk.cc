#include "client/fts_bulk.h"

namespace relais::client {

Result<FtsBulkLoad> FtsBulkLoad::Begin(sqlite::Db& db, std::string_view table) {
  FtsBulkLoad load;
  load.db_ = &db;
  load.table_ = std::string(table);
  auto trigger = db.Prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1");
  if (!trigger) return trigger.error();
  trigger->Bind(1, load.table_ + "_fts_insert");
  auto found = trigger->Step();
  if (!found) return found.error();
  if (!*found) return load;  // no index on this table
  std::string trigger_sql = trigger->Text(0);

  // Table names come from the schema declaration, never from input.
  auto columns = db.Prepare("SELECT name FROM pragma_table_info(?1)");
  if (!columns) return columns.error();
  columns->Bind(1, load.table_ + "_fts");
  while (true) {
    auto row = columns->Step();
    if (!row) return row.error();
    if (!*row) break;
    load.columns_ += (load.columns_.empty() ? "" : ", ") + columns->Text(0);
  }
  auto max = db.Prepare("SELECT coalesce(max(rowid), 0) FROM " + load.table_);
  if (!max) return max.error();
  auto row = max->Step();
  if (!row) return row.error();
  load.max_rowid_ = max->Int(0);
  RELAIS_TRY(db.Exec("DROP TRIGGER " + load.table_ + "_fts_insert"));
  load.trigger_sql_ = std::move(trigger_sql);
  return load;
}

Status FtsBulkLoad::Finish() {
  if (trigger_sql_.empty()) return OkStatus();
  auto index = db_->Prepare("INSERT INTO " + table_ + "_fts(rowid, " + columns_ + ") SELECT rowid, " + columns_ +
                            " FROM " + table_ + " WHERE rowid > ?1");
  if (!index) return index.error();
  index->Bind(1, max_rowid_);
  RELAIS_TRY(index->Run());
  RELAIS_TRY(db_->Exec(trigger_sql_));
  trigger_sql_.clear();
  return OkStatus();
}

}  // namespace relais::client
