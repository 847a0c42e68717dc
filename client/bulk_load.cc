#include "client/bulk_load.h"

namespace relais::client {

namespace {

// The SQL of a trigger of the replica, or nullopt when it has none of that name.
Result<std::optional<std::string>> TriggerSql(sqlite::Db& db, const std::string& name) {
  auto trigger = db.Prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1");
  if (!trigger) return trigger.error();
  trigger->Bind(1, name);
  auto found = trigger->Step();
  if (!found) return found.error();
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>(trigger->Text(0));
}

// The search index of `table`'s new rows (`<table>_fts_insert` for each row).
Result<std::vector<std::string>> FtsBulk(sqlite::Db& db, const std::string& table) {
  // Table names come from the schema declaration, never from input.
  auto columns = db.Prepare("SELECT name FROM pragma_table_info(?1)");
  if (!columns) return columns.error();
  columns->Bind(1, table + "_fts");
  std::string list;
  while (true) {
    auto row = columns->Step();
    if (!row) return row.error();
    if (!*row) break;
    list += (list.empty() ? "" : ", ") + columns->Text(0);
  }
  return std::vector<std::string>{"INSERT INTO " + table + "_fts(rowid, " + list + ") SELECT rowid, " + list +
                                  " FROM " + table + " WHERE rowid > ?1"};
}

// followups_next_insert (replica migration 0019) for every new row, in the same order of effects:
// the new entries close the open lines they follow up or amend, then those of them that nothing
// held follows up are open.
const std::vector<std::string>& NextActionsBulk() {
  static const std::vector<std::string> kBulk = {
      "DELETE FROM open_next_actions WHERE (case_id, date, followup_id) IN (SELECT o.case_id, o.date, o.followup_id "
      "FROM followups n JOIN open_next_actions o ON o.case_id = n.case_id WHERE n.rowid > ?1 AND n.amends IS NULL AND "
      "(o.date < n.date OR (o.date = n.date AND o.followup_id < n.id)))",
      "DELETE FROM open_next_actions WHERE (case_id, followup_id) IN (SELECT case_id, amends FROM followups INDEXED BY "
      "followups_by_amends WHERE amends IS NOT NULL AND rowid > ?1)",
      "INSERT INTO open_next_actions (followup_id, case_id, date, next_date) SELECT id, case_id, date, next_date "
      "FROM open_followups WHERE row > ?1",
  };
  return kBulk;
}

}  // namespace

Result<BulkLoad> BulkLoad::Begin(sqlite::Db& db, std::string_view table_name) {
  const std::string table(table_name);
  BulkLoad load;
  load.db_ = &db;
  std::vector<std::pair<std::string, Suspended>> found;
  auto fts = TriggerSql(db, table + "_fts_insert");
  if (!fts) return fts.error();
  if (*fts) {
    auto bulk = FtsBulk(db, table);
    if (!bulk) return bulk.error();
    found.emplace_back(table + "_fts_insert", Suspended{std::move(**fts), std::move(*bulk)});
  }
  if (table == "followups") {
    auto next = TriggerSql(db, "followups_next_insert");
    if (!next) return next.error();
    if (*next) found.emplace_back("followups_next_insert", Suspended{std::move(**next), NextActionsBulk()});
  }
  if (found.empty()) return load;
  auto max = db.Prepare("SELECT coalesce(max(rowid), 0) FROM " + table);
  if (!max) return max.error();
  auto row = max->Step();
  if (!row) return row.error();
  load.max_rowid_ = max->Int(0);
  for (auto& [name, suspended] : found) {
    RELAIS_TRY(db.Exec("DROP TRIGGER " + name));
    load.suspended_.push_back(std::move(suspended));
  }
  return load;
}

Status BulkLoad::Finish() {
  for (const Suspended& s : suspended_) {
    for (const std::string& sql : s.bulk) {
      auto stmt = db_->Prepare(sql);
      if (!stmt) return stmt.error();
      stmt->Bind(1, max_rowid_);
      RELAIS_TRY(stmt->Run());
    }
    RELAIS_TRY(db_->Exec(s.trigger_sql));
  }
  suspended_.clear();
  return OkStatus();
}

}  // namespace relais::client
