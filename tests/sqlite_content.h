// The content of an SQLite database file as one hash, for the tests' "changes nothing" checks: a
// refused command or request must leave every row of every table as it was, which row counts cannot
// show (an UPDATE keeps them). Shared by the client, server and end-to-end tests.
#pragma once

#include <sqlite3.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "base/ids.h"

namespace relais::testing {

// Every row of every table of the database file `path` (the schema in sqlite_master included), in
// an order that depends on the content only: tables by name, rows sorted on all their columns,
// each value with its type, so that 1 and '1' differ. Read through a read-only connection of its
// own, so it sees what is committed. SQLite's planner statistics (sqlite_stat*) are left out: they
// describe the data, and `PRAGMA optimize` may rewrite them without any change of content; so are
// virtual tables (full-text indexes), whose rows are those of their shadow tables, hashed as tables.
inline std::string SqliteContent(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path + ": " + message);
  }
  auto rows_of = [&](const std::string& sql, const auto& each_row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      std::string message = sqlite3_errmsg(db);
      sqlite3_close(db);
      throw std::runtime_error(sql + ": " + message);
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) each_row(stmt);
    sqlite3_finalize(stmt);
  };
  std::vector<std::string> tables;
  rows_of(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_stat%' "
      "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
      [&](sqlite3_stmt* s) { tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))); });
  tables.insert(tables.begin(), "sqlite_master");
  std::string all;
  for (const std::string& table : tables) {
    all += "#" + table + "\n";
    int columns = 0;
    rows_of("SELECT count(*) FROM pragma_table_info('" + table + "')",
            [&](sqlite3_stmt* s) { columns = sqlite3_column_int(s, 0); });
    if (table == "sqlite_master") columns = 5;
    std::string order;
    for (int i = 1; i <= columns; ++i) order += (i > 1 ? ", " : "") + std::to_string(i);
    rows_of("SELECT * FROM \"" + table + "\"" + (order.empty() ? "" : " ORDER BY " + order), [&](sqlite3_stmt* s) {
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const int type = sqlite3_column_type(s, i);
        all += std::to_string(type) + ":";
        if (type != SQLITE_NULL) {
          const char* bytes =
              static_cast<const char*>(type == SQLITE_BLOB ? sqlite3_column_blob(s, i) : sqlite3_column_text(s, i));
          const int size = sqlite3_column_bytes(s, i);
          all += std::to_string(size) + ":";
          if (bytes) all.append(bytes, static_cast<size_t>(size));
        }
        all += "\t";
      }
      all += "\n";
    });
  }
  sqlite3_close(db);
  return all;
}

// SHA-256 of SqliteContent(path): equal hashes, equal content.
inline std::string SqliteContentHash(const std::string& path) { return Sha256Hex(SqliteContent(path)); }

}  // namespace relais::testing
