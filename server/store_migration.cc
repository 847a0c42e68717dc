#include "server/store_migration.h"

#include <iterator>
#include <string>
#include <vector>

#include "pg/conn.h"
#include "schema/model.h"
#include "server/pg_store.h"
#include "server/sqlite_store.h"
#include "sqlite/db.h"

namespace relais::server {

namespace {

// Parents before the rows that refer to them: these, every synced table of the declaration (a new
// record type is copied without a line here), then the tables about records.
constexpr const char* kTablesBefore[] = {"territories", "reception_points", "network_settings", "devices",
                                         "device_territories"};
constexpr const char* kTablesAfter[] = {"history",      "scope_exits", "conflicts",
                                        "push_batches", "recoveries",  "change_outcomes",
                                        "erasures",     "erased_records", "access_log"};

std::vector<std::string> TablesToCopy() {
  std::vector<std::string> tables(std::begin(kTablesBefore), std::end(kTablesBefore));
  for (const schema::Table& t : schema::Tables()) tables.emplace_back(t.name);
  tables.insert(tables.end(), std::begin(kTablesAfter), std::end(kTablesAfter));
  return tables;
}
// Tables whose ids PostgreSQL generates: their identity goes on after the copied ids.
constexpr const char* kIdentities[] = {"devices", "conflicts", "recoveries", "erasures"};

Result<std::vector<std::string>> ColumnsOf(sqlite::Db& db, const std::string& table) {
  auto s = db.Prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid");
  if (!s) return s.error();
  s->Bind(1, table);
  std::vector<std::string> columns;
  while (true) {
    auto row = s->Step();
    if (!row) return row.error();
    if (!*row) return columns;
    columns.push_back(s->Text(0));
  }
}

Result<int64_t> CopyTable(sqlite::Db& from, pg::Conn& to, const std::string& table) {
  auto columns = ColumnsOf(from, table);
  if (!columns) return columns.error();
  std::string list;
  for (const std::string& c : *columns) list += (list.empty() ? "\"" : ", \"") + c + "\"";
  auto rows = from.Prepare("SELECT " + list + " FROM " + table);
  if (!rows) return rows.error();
  RELAIS_TRY(to.Copy("COPY " + table + "(" + list + ") FROM STDIN"));
  std::vector<schema::Value> values(columns->size());
  int64_t count = 0;
  while (true) {
    auto row = rows->Step();
    if (!row) return row.error();
    if (!*row) break;
    for (size_t i = 0; i < values.size(); ++i) values[i] = rows->Val(static_cast<int>(i));
    RELAIS_TRY(to.CopyRow(values));
    ++count;
  }
  RELAIS_TRY(to.EndCopy());
  return count;
}

}  // namespace

Result<MigrationReport> MigrateSqliteToPostgres(const std::string& sqlite_path, const std::string& pg_url) {
  {
    auto current = SqliteStore::Open(sqlite_path, OpenMode::kExisting);  // exists, and at the current schema
    if (!current) return current.error();
  }
  auto created = PgStore::Open(pg_url, OpenMode::kCreate);
  if (!created) return created.error();
  MigrationReport report;
  report.target = pg::DescribeUrl(pg_url);

  auto from = sqlite::Db::Open(sqlite_path, false);
  if (!from) return from.error();
  RELAIS_TRY(from->Exec("BEGIN"));  // one snapshot of the file for the whole copy
  auto to = pg::Conn::Open(pg_url);
  if (!to) return to.error();
  auto tx = pg::Transaction::Begin(**to);
  if (!tx) return tx.error();
  // Taken first, as every writer does: nothing else writes this store during the copy.
  auto held = (*to)->Exec("SELECT last_seq, (SELECT count(*) FROM devices) FROM meta WHERE id = 1 FOR UPDATE");
  if (!held) return held.error();
  if ((*held)[0].Int(0) != 0 || (*held)[0].Int(1) != 0) {
    return MakeError(ErrorCode::kConflict,
                     report.target + " contient déjà une base centrale (" + (*held)[0].Text(1) +
                         " appareil(s), séquence " + (*held)[0].Text(0) +
                         ") : migrez vers une base vide (createdb, puis --to son URL). Rien n'a été modifié.");
  }
  for (const std::string& table : TablesToCopy()) {
    auto copied = CopyTable(*from, **to, table);
    if (!copied) {
      return MakeError(copied.error().code, "copying " + table + ": " + copied.error().message);
    }
    report.rows.emplace_back(table, *copied);
  }
  // The same centre on another database: its sequence, its identity and the epoch of its history.
  auto seq = from->Prepare("SELECT last_seq, store_id, epoch, epoch_seq, epoch_at FROM meta WHERE id = 1");
  if (!seq) return seq.error();
  auto row = seq->Step();
  if (!row) return row.error();
  if (!*row) return MakeError(ErrorCode::kInternal, "la base centrale n'a pas de ligne meta");
  report.last_seq = seq->Int(0);
  auto written = (*to)->Exec(
      "UPDATE meta SET last_seq = $1, store_id = $2, epoch = $3::bigint, epoch_seq = $4::bigint, epoch_at = $5 "
      "WHERE id = 1",
      {std::to_string(report.last_seq), seq->Val(1), std::to_string(seq->Int(2)), std::to_string(seq->Int(3)),
       seq->Val(4)});
  if (!written) return written.error();
  for (const char* table : kIdentities) {
    const std::string t = table;
    std::string restart = "SELECT setval(pg_get_serial_sequence('";
    restart.append(t).append("', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM ").append(t);
    auto restarted = (*to)->Exec(restart);
    if (!restarted) return restarted.error();
  }
  RELAIS_TRY(tx->Commit());
  return report;
}

}  // namespace relais::server
