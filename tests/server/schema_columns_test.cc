// The synced tables are declared once (schema/model.cc) but created three times: by the replica's
// migrations (schema/migrations/replica), the central store's on SQLite (central) and on
// PostgreSQL (central_pg). These tests open a fresh database of each kind, read the columns of
// every synced table and check them against the declaration: every declared field present with a
// compatible type, and no other column than the bookkeeping of that side, listed once below.
#include <algorithm>
#include <cctype>
#include <map>

#include "schema/migrations.h"
#include "server/pg_store.h"
#include "server/sqlite_store.h"
#include "sqlite/migrate.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using relais::testing::PgTestDatabase;

enum class Kind { kText, kInteger, kOther };

// Columns of one table: name -> SQL type as the database reports it.
using Columns = std::map<std::string, std::string>;

Kind KindOf(std::string sql_type) {
  std::transform(sql_type.begin(), sql_type.end(), sql_type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (sql_type == "text") return Kind::kText;
  if (sql_type == "integer" || sql_type == "bigint") return Kind::kInteger;
  return Kind::kOther;
}

const char* Name(Kind kind) {
  return kind == Kind::kText ? "text" : kind == Kind::kInteger ? "integer" : "another type";
}

enum class Side { kReplica, kCentral };

// The columns a side keeps beside the declared fields: the replica, the version it holds and the
// record's digests as last pulled; the centre, what its push and pull rules need
// (server/store_layout.h, TableLayout), and the record's digests.
std::map<std::string, Kind> Bookkeeping(const schema::Table& table, Side side) {
  std::map<std::string, Kind> out = {{"id", Kind::kText},
                                     {"version", Kind::kInteger},
                                     {"digest_key", Kind::kInteger},
                                     {"digest_values", Kind::kInteger}};
  if (side == Side::kReplica) {
    out["digest_version"] = Kind::kInteger;
    return out;
  }
  if (table.kind == schema::TableKind::kMutable) out["stamps"] = Kind::kText;
  if (table.scope == schema::Scope::kParentCase) out["territory"] = Kind::kText;
  out["last_device"] = Kind::kText;
  out["echo_device"] = Kind::kInteger;
  out["history_seq"] = Kind::kInteger;
  if (&table == &schema::CasesTable()) out["identity_key"] = Kind::kText;
  return out;
}

// What differs between `columns` of `table` and the declaration, one line per difference.
std::vector<std::string> Disagreements(const schema::Table& table, const Columns& columns, Side side) {
  std::map<std::string, Kind> expected = Bookkeeping(table, side);
  for (const schema::Field& f : table.fields) {
    expected[std::string(f.name)] = f.type == schema::FieldType::kInt ? Kind::kInteger : Kind::kText;
  }
  std::vector<std::string> out;
  const std::string prefix = std::string(table.name) + ".";
  for (const auto& [name, kind] : expected) {
    auto found = columns.find(name);
    if (found == columns.end()) {
      out.push_back(prefix + name + ": declared, missing");
    } else if (KindOf(found->second) != kind) {
      out.push_back(prefix + name + ": " + found->second + ", declared " + Name(kind));
    }
  }
  for (const auto& [name, type] : columns) {
    if (!expected.count(name)) out.push_back(prefix + name + ": " + type + ", not declared");
  }
  return out;
}

Columns SqliteColumns(sqlite::Db& db, std::string_view table) {
  auto s = db.Prepare("SELECT name, type FROM pragma_table_info(?1)");
  REQUIRE(s.ok());
  s->Bind(1, table);
  Columns out;
  while (*s->Step()) out[s->Text(0)] = s->Text(1);
  REQUIRE_FALSE(out.empty());
  return out;
}

std::vector<std::string> SqliteDisagreements(const std::string& path, Side side) {
  auto db = sqlite::Db::Open(path, false);
  REQUIRE(db.ok());
  std::vector<std::string> out;
  for (const schema::Table& t : schema::Tables()) {
    for (std::string& line : Disagreements(t, SqliteColumns(*db, t.name), side)) out.push_back(std::move(line));
  }
  return out;
}

TEST_CASE("the replica's synced tables hold exactly the declared columns", "[schema]") {
  TempDir dir;
  const std::string path = (dir.path() / "replica.db").string();
  {
    auto db = sqlite::Db::Open(path);
    REQUIRE(db.ok());
    REQUIRE(sqlite::Migrate(*db, schema::replica_migrations(), "replica").ok());
  }
  CHECK(SqliteDisagreements(path, Side::kReplica) == std::vector<std::string>());
}

TEST_CASE("the central SQLite store's synced tables hold exactly the declared columns", "[schema]") {
  TempDir dir;
  const std::string path = (dir.path() / "central.db").string();
  REQUIRE(SqliteStore::Open(path, OpenMode::kCreate).ok());
  CHECK(SqliteDisagreements(path, Side::kCentral) == std::vector<std::string>());
}

TEST_CASE("the central PostgreSQL store's synced tables hold exactly the declared columns", "[schema][pg]") {
  PgTestDatabase db;
  REQUIRE(PgStore::Open(db.url(), OpenMode::kCreate).ok());
  std::vector<std::string> disagreements;
  for (const schema::Table& t : schema::Tables()) {
    Columns columns;
    for (const auto& row : db.Admin().Query("SELECT column_name, data_type FROM information_schema.columns "
                                            "WHERE table_schema = 'public' AND table_name = '" +
                                            std::string(t.name) + "'")) {
      columns[row[0]] = row[1];
    }
    REQUIRE_FALSE(columns.empty());
    for (std::string& line : Disagreements(t, columns, Side::kCentral)) disagreements.push_back(std::move(line));
  }
  CHECK(disagreements == std::vector<std::string>());
}

}  // namespace
}  // namespace relais::server::testing
