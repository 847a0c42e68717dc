#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/ids.h"
#include "client/records.h"
#include "client/replica.h"
#include "client/replica_port.h"
#include "schema/migrations.h"
#include "sqlite/migrate.h"
#include "tests/client/fixture.h"

using namespace relais;
using namespace relais::client;
using relais::client::testing::TestReplica;

namespace {

// The first column of the first row of `sql`, as text.
std::string FirstValue(sqlite::Db& db, const std::string& sql) {
  auto stmt = db.Prepare(sql);
  REQUIRE(stmt.ok());
  auto row = stmt->Step();
  REQUIRE(row.ok());
  REQUIRE(*row);
  return stmt->Text(0);
}

}  // namespace

TEST_CASE("a new replica is created readable by its owner only, at the latest schema", "[replica]") {
  TestReplica t;
  struct stat st {};
  REQUIRE(::stat(t.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(t.Scalar("PRAGMA user_version") == schema::replica_migrations().back().number);
  CHECK(t.Text("PRAGMA journal_mode") == "wal");
}

TEST_CASE("a replica keeps its node id across opens", "[replica]") {
  TestReplica t;
  std::string node = t.replica().node_id();
  CHECK(node.size() >= 8);
  CHECK(node.size() <= 12);
  auto again = Replica::Open(t.path(), t.clock());
  REQUIRE(again.ok());
  CHECK(again->node_id() == node);
  auto stored = again->GetState("node_id");
  REQUIRE(stored.ok());
  CHECK(**stored == node);
}

TEST_CASE("a replica written by a newer Relais is refused and left unchanged", "[replica]") {
  TestReplica t;
  REQUIRE(t.replica().db().Exec("PRAGMA user_version = 999").ok());
  auto before = t.ContentHash();
  auto opened = Replica::Open(t.path(), t.clock());
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().code == ErrorCode::kTooNew);
  CHECK(opened.error().message.find("version plus récente") != std::string::npos);
  CHECK(t.Scalar("PRAGMA user_version") == 999);
  CHECK(t.ContentHash() == before);
}

TEST_CASE("a file that is not a database is refused with an error", "[replica]") {
  TestReplica t;
  std::string path = (t.dir() / "notes.txt").string();
  FILE* f = fopen(path.c_str(), "w");
  fputs("ceci n'est pas une base de données, mais un texte assez long pour en avoir l'air\n", f);
  fclose(f);
  ManualClock clock(0);
  auto opened = Replica::Open(path, clock);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().code == ErrorCode::kIo);
}

TEST_CASE("the clock resumes after the last stamp of the outbox when the wall clock went back", "[replica]") {
  TestReplica t;
  auto created = t.records().Create(schema::CasesTable(), client::testing::ACase());
  REQUIRE(created.ok());
  std::string last = t.Text("SELECT max(hlc) FROM outbox");
  ManualClock earlier(t.clock().NowMs() - 86400000);
  auto reopened = Replica::Open(t.path(), earlier);
  REQUIRE(reopened.ok());
  CHECK(reopened->hlc().Tick().ToString() > last);
}

TEST_CASE("sync state values are stored and read back", "[replica]") {
  TestReplica t;
  auto missing = t.replica().GetState("server_url");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  REQUIRE(t.replica().SetState("server_url", "https://centre.example").ok());
  REQUIRE(t.replica().SetState("server_url", "https://autre.example").ok());
  CHECK(**t.replica().GetState("server_url") == "https://autre.example");
}

TEST_CASE("migration 0004 rebuilds the outbox keeping its entries and its sequence counter", "[replica]") {
  auto dir = std::filesystem::temp_directory_path() / ("relais-mig-" + NewUuidV7(0).substr(24));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "old.db").string();
  {
    // A replica as Relais wrote it before 0004: three entries, the last two already acknowledged.
    auto db = sqlite::Db::Open(path);
    REQUIRE(db.ok());
    std::vector<schema::Migration> up_to_3(schema::replica_migrations().begin(),
                                           schema::replica_migrations().begin() + 3);
    REQUIRE(up_to_3.back().number == 3);
    REQUIRE(sqlite::Migrate(*db, up_to_3, "replica").ok());
    for (int i = 1; i <= 3; ++i) {
      REQUIRE(db->Exec("INSERT INTO outbox(change_id, tbl, record_id, op, fields, base_version, hlc) VALUES ('c" +
                       std::to_string(i) + "', 'cases', 'r" + std::to_string(i) +
                       "', 'update', '{}', 1, '1763900000000-00000" + std::to_string(i) + "-a1b2c3d4e5')")
                  .ok());
    }
    REQUIRE(db->Exec("DELETE FROM outbox WHERE seq > 1").ok());
  }
  ManualClock clock(1'800'000'000'000);
  auto replica = Replica::Open(path, clock);
  REQUIRE(replica.ok());
  auto one = [&](const std::string& sql) { return FirstValue(replica->db(), sql); };
  CHECK(one("PRAGMA user_version") == std::to_string(schema::replica_migrations().back().number));
  CHECK(one("SELECT group_concat(seq || ':' || change_id || ':' || record_id) FROM outbox") == "1:c1:r1");
  REQUIRE(replica->db()
              .Exec("INSERT INTO outbox(change_id, tbl, record_id, op, fields, base_version, hlc) "
                    "VALUES ('c4', 'cases', 'r4', 'update', '{}', 1, 'h4')")
              .ok());
  CHECK(one("SELECT max(seq) FROM outbox") == "4");
  CHECK(
      one("SELECT count(*) FROM sqlite_master WHERE name IN ('outbox_by_record', 'outbox_by_batch', 'outbox_lean')") ==
      "2");
  CHECK(one("PRAGMA integrity_check") == "ok");
  std::filesystem::remove_all(dir);
}

TEST_CASE("migration 0005 leaves waiting creates to their rows, keeping those a later entry depends on",
          "[replica][nothing_lost]") {
  auto dir = std::filesystem::temp_directory_path() / ("relais-mig-" + NewUuidV7(0).substr(24));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "old.db").string();
  const std::string a = "0190a1b2-0000-7000-8000-00000000000a", b = "0190a1b2-0000-7000-8000-00000000000b";
  const std::string p = "0190a1b2-0000-7000-8000-00000000000c", k = "0190a1b2-0000-7000-8000-00000000000d";
  const std::string fa = "0190a1b2-0000-7000-8000-0000000000fa", fp = "0190a1b2-0000-7000-8000-0000000000fc";
  const std::string gone = "0190a1b2-0000-7000-8000-0000000000ee";
  {
    // A replica as Relais wrote it before 0005: every create an entry with fields '' (the row holds
    // the values).
    auto db = sqlite::Db::Open(path);
    REQUIRE(db.ok());
    std::vector<schema::Migration> up_to_4(schema::replica_migrations().begin(),
                                           schema::replica_migrations().begin() + 4);
    REQUIRE(up_to_4.back().number == 4);
    REQUIRE(sqlite::Migrate(*db, up_to_4, "replica").ok());
    auto a_case = [&](const std::string& id, const std::string& name, int version) {
      REQUIRE(db->Exec("INSERT INTO cases(id, last_name, first_name, opened_on, territory, version) VALUES ('" + id +
                       "', '" + name + "', 'Jo', '2026-01-02', 'briancon', " + std::to_string(version) + ")")
                  .ok());
    };
    auto a_followup = [&](const std::string& id, const std::string& case_id) {
      REQUIRE(db->Exec("INSERT INTO followups(id, case_id, kind, date, text) VALUES ('" + id + "', '" + case_id +
                       "', 'entretien', '2026-01-03', 'Texte de " + id + "')")
                  .ok());
    };
    int n = 0;
    auto entry = [&](const std::string& tbl, const std::string& id, const std::string& op, const std::string& fields,
                     const std::string& state = "pending") {
      ++n;
      REQUIRE(
          db->Exec("INSERT INTO outbox(change_id, tbl, record_id, op, fields, base_version, hlc, state) VALUES ('c" +
                   std::to_string(n) + "', '" + tbl + "', '" + id + "', '" + op + "', '" + fields +
                   "', 0, '17000000000" + std::to_string(10 + n) + "-000000-oldnode', '" + state + "')")
              .ok());
    };
    a_case(a, "Arnaud", 0);
    a_case(b, "Blanc", 0);
    a_case(p, "Pulled", 5);
    a_followup(fa, a);
    a_followup(fp, p);
    REQUIRE(db->Exec("INSERT INTO contacts(id, organisation) VALUES ('" + k + "', 'Mission locale')").ok());
    entry("cases", a, "create", "");       // goes: the row is the create
    entry("cases", b, "create", "");       // stays: B's update depends on it
    entry("followups", fp, "create", "");  // stays: written before P's update
    entry("cases", b, "update", R"({"commune":["Gap",null]})");
    entry("cases", p, "update", R"({"territory":["queyras","briancon"]})");
    entry("followups", fa, "create", "");            // goes
    entry("contacts", k, "create", "");              // goes
    entry("cases", gone, "create", "", "rejected");  // stays: its row is gone
  }
  ManualClock clock(1'600'000'000'000);  // behind the old stamps: the clock must still not go back
  {
    auto replica = Replica::Open(path, clock);
    REQUIRE(replica.ok());
    Records records(*replica);
    auto one = [&](const std::string& sql) { return FirstValue(replica->db(), sql); };
    CHECK(one("SELECT group_concat(change_id, ',') FROM (SELECT change_id FROM outbox ORDER BY seq)") ==
          "c2,c3,c4,c5,c8");
    CHECK(records.PendingTotal()->pending == 7);  // nothing lost: 4 entries + the creates of A, FA, K
    CHECK(records.PendingTotal()->rejected == 1);
    CHECK(records.PendingFor(schema::CasesTable(), a)->pending == 1);
    CHECK(one("SELECT value FROM sync_state WHERE key = 'hlc_last'") >= "1700000000017-000000-oldnode");
    CHECK(replica->hlc().Tick().ToString() > "1700000000017-000000-oldnode");

    // Everything is sent, each once: the entries in their order, then the creates of the rows.
    SqliteReplicaPort port(*replica);
    auto batch = port.FormBatch(100);
    REQUIRE(batch.ok());
    REQUIRE(batch->has_value());
    std::vector<std::string> order;
    for (const sync::Change& c : (*batch)->changes) {
      order.push_back(std::string(sync::ToString(c.op)) + ":" + c.record_id);
      if (c.op == sync::Op::kCreate) CHECK_FALSE(c.fields.empty());  // frozen with the row's values
    }
    CHECK(order == std::vector<std::string>{"create:" + b, "create:" + fp, "update:" + b, "update:" + p, "create:" + a,
                                            "create:" + fa, "create:" + k});
    CHECK(one("SELECT count(*) FROM sqlite_master WHERE name = 'cases_by_territory'") == "0");  // 0006
    CHECK(one("PRAGMA integrity_check") == "ok");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("SQLite keeps no memory statistics: no shared lock on each of its allocations", "[replica][sqlite]") {
  TestReplica t;
  REQUIRE(t.replica().db().Exec("CREATE TEMP TABLE scratch(x); INSERT INTO scratch VALUES (randomblob(100000));").ok());
  // With statistics kept, the open connection's cache and that blob would be counted here.
  CHECK(sqlite3_memory_used() == 0);
}
