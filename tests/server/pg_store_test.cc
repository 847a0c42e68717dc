// What only the PostgreSQL store has: its schema beside the SQLite one, its version, its connection
// errors. Tagged [pg]: they run in test_server_pg only.
#include "schema/migrations.h"
#include "server/pg_store.h"
#include "server/sqlite_store.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using relais::testing::PgAdmin;
using relais::testing::PgTestDatabase;

// "table: column, column, …" for every table of the store, in column order.
std::vector<std::string> SqliteColumns(const std::string& path) {
  auto db = sqlite::Db::Open(path, false);
  REQUIRE(db.ok());
  std::vector<std::string> out;
  auto tables = db->Prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  REQUIRE(tables.ok());
  while (*tables->Step()) {
    std::string line = tables->Text(0) + ":";
    auto columns = db->Prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid");
    REQUIRE(columns.ok());
    columns->Bind(1, tables->Text(0));
    while (*columns->Step()) line += " " + columns->Text(0);
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> PgColumns(PgAdmin admin) {
  std::vector<std::string> out;
  for (const auto& table : admin.Query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND "
                                       "tablename <> 'relais_schema_version' ORDER BY tablename COLLATE \"C\"")) {
    std::string line = table[0] + ":";
    for (const auto& column : admin.Query("SELECT column_name FROM information_schema.columns WHERE table_name = '" +
                                          table[0] + "' ORDER BY ordinal_position")) {
      line += " " + column[0];
    }
    out.push_back(line);
  }
  return out;
}

TEST_CASE("the PostgreSQL store has the tables and columns of the SQLite store", "[pg]") {
  TempDir dir;
  const std::string path = (dir.path() / "central.db").string();
  REQUIRE(SqliteStore::Open(path, OpenMode::kCreate).ok());
  PgTestDatabase db;
  REQUIRE(PgStore::Open(db.url(), OpenMode::kCreate).ok());
  CHECK(PgColumns(db.Admin()) == SqliteColumns(path));
  CHECK(db.Admin().Count("SELECT max(version) FROM relais_schema_version") ==
        static_cast<int64_t>(schema::central_pg_migrations().size()));
}

TEST_CASE("opening a PostgreSQL store twice migrates it once", "[pg]") {
  PgTestDatabase db;
  REQUIRE(PgStore::Open(db.url(), OpenMode::kCreate).ok());
  REQUIRE(PgStore::Open(db.url(), OpenMode::kExisting).ok());
  CHECK(db.Admin().Count("SELECT count(*) FROM relais_schema_version") ==
        static_cast<int64_t>(schema::central_pg_migrations().size()));
}

TEST_CASE("a PostgreSQL store written by a newer Relais is refused and left as it is", "[pg]") {
  PgTestDatabase db;
  REQUIRE(PgStore::Open(db.url(), OpenMode::kCreate).ok());
  db.Admin().Query("INSERT INTO relais_schema_version(version, name) VALUES (99, '0099_future')");
  std::string before = db.Admin().DumpAll();
  auto store = PgStore::Open(db.url(), OpenMode::kCreate);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ErrorCode::kTooNew);
  CHECK_THAT(store.error().message, Catch::Contains("schema 99"));
  CHECK(db.Admin().DumpAll() == before);
}

TEST_CASE("an unreachable PostgreSQL names host, port, database and user, never the password", "[pg]") {
  auto store = OpenStore("postgresql://relais:s3cr3t-pw@127.0.0.1:1/centrale", OpenMode::kCreate);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ErrorCode::kIo);
  CHECK_THAT(store.error().message, Catch::Contains("127.0.0.1:1"));
  CHECK_THAT(store.error().message, Catch::Contains("\"centrale\""));
  CHECK_THAT(store.error().message, Catch::Contains("\"relais\""));
  CHECK_THAT(store.error().message, !Catch::Contains("s3cr3t-pw"));
  CHECK(DescribeStore("postgresql://relais:s3cr3t-pw@db.exemple.fr:5433/centrale") ==
        "postgresql://relais@db.exemple.fr:5433/centrale");
}

}  // namespace
}  // namespace relais::server::testing
