// Prints the CREATE TABLE statements of one declared table for the three databases — the replica,
// the central store on SQLite, the central store on PostgreSQL — from its declaration in
// schema/model.cc, to paste once into a new record type's migrations and review there
// (docs/SCHEMA.md, "Generating a new record type's tables"). Indexes follow the queries and are
// written by hand.
//
//   table_sql TABLE
#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "schema/model.h"

using namespace relais::schema;

namespace {

enum class Database { kReplica, kCentral, kCentralPg };

// (name, SQL type) of every column, in the order the stores lay them out (server/store_layout.h).
std::vector<std::pair<std::string, std::string>> Columns(const Table& table, Database db) {
  const bool pg = db == Database::kCentralPg;
  const std::string text = pg ? "TEXT COLLATE \"C\"" : "TEXT";
  const std::string integer = pg ? "BIGINT" : "INTEGER";
  std::vector<std::pair<std::string, std::string>> columns = {{"id", text + " PRIMARY KEY"}};
  for (const Field& f : table.fields) {
    columns.emplace_back(f.name, (f.type == FieldType::kInt ? integer : text) + (f.required ? " NOT NULL" : ""));
  }
  if (db == Database::kReplica) {
    columns.emplace_back("version", integer + " NOT NULL DEFAULT 0");
    for (const char* c : {"digest_key", "digest_values", "digest_version"}) columns.emplace_back(c, integer);
    return columns;
  }
  columns.emplace_back("version", integer + " NOT NULL");
  if (table.kind == TableKind::kMutable) columns.emplace_back("stamps", text + " NOT NULL DEFAULT '{}'");
  if (table.scope == Scope::kParentCase) columns.emplace_back("territory", text);
  columns.emplace_back("last_device", text);
  for (const char* c : {"echo_device", "history_seq", "digest_key", "digest_values"}) columns.emplace_back(c, integer);
  return columns;
}

void Print(const Table& table, Database db, const char* title) {
  std::printf("-- %s\nCREATE TABLE %s (\n", title, std::string(table.name).c_str());
  const auto columns = Columns(table, db);
  size_t width = 0;
  for (const auto& [name, type] : columns) width = std::max(width, name.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    std::printf("  %-*s %s%s\n", static_cast<int>(width), columns[i].first.c_str(), columns[i].second.c_str(),
                i + 1 < columns.size() ? "," : "");
  }
  std::printf(");\n\n");
}

}  // namespace

int main(int argc, char** argv) {
  const Table* table = argc == 2 ? FindTable(argv[1]) : nullptr;
  if (!table) {
    std::fprintf(stderr, "usage : table_sql TABLE (une table déclarée dans schema/model.cc)\n");
    return 2;
  }
  Print(*table, Database::kReplica, "schema/migrations/replica/");
  Print(*table, Database::kCentral, "schema/migrations/central/");
  Print(*table, Database::kCentralPg, "schema/migrations/central_pg/");
  return 0;
}
