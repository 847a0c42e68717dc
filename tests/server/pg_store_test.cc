// What only the PostgreSQL store has: its schema beside the SQLite one, its version, its connection
// errors, the grouping of queued pushes in one transaction. Tagged [pg]: they run in test_server_pg only.
#include <chrono>
#include <optional>
#include <thread>

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
  // The last step's number: parallel branches take numbers ahead, so a branch may lack one between.
  CHECK(db.Admin().Count("SELECT max(version) FROM relais_schema_version") ==
        schema::central_pg_migrations().back().number);
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
  CHECK_THAT(store.error().message, Catch::Contains("schéma 99"));
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

const std::string kGap = "hautes-alpes-gap";

// Holds the store's sequence lock (its row of `meta`) from a connection of its own, as a writer in
// the middle of its transaction does, until Release().
class SequenceHeld {
 public:
  explicit SequenceHeld(const std::string& url) : admin_(url) {
    admin_.Query("BEGIN");
    admin_.Query("SELECT last_seq FROM meta WHERE id = 1 FOR UPDATE");
  }
  void Release() { admin_.Query("ROLLBACK"); }

 private:
  PgAdmin admin_;
};

// Pushes from threads of their own, as the HTTP server's workers do: the first is started once the
// sequence is held and waits for it; the others, one by one, queue behind it in the store.
class QueuedPushes {
 public:
  QueuedPushes(StoreFixture& f, SequenceHeld& held) : f_(f), held_(held) {}

  void Add(const Enrolled& who, sync::PushRequest request) { pushes_.push_back({who.device, std::move(request)}); }

  // Runs them, releases the sequence and waits for every answer.
  std::vector<Result<PushReply>> Run() {
    std::vector<std::optional<Result<PushReply>>> replies(pushes_.size());
    std::vector<std::thread> threads;
    PgAdmin watcher(f_.spec());
    for (size_t i = 0; i < pushes_.size(); ++i) {
      threads.emplace_back([&, i] { replies[i] = f_.store().Push(pushes_[i].device, Decoded(pushes_[i].request)); });
      if (i == 0) {
        // The first holds the lead of the store's queue once it waits for the lock.
        for (int tries = 0;
             tries < 1000 && watcher.Count("SELECT count(*) FROM pg_stat_activity WHERE "
                                           "wait_event_type = 'Lock' AND datname = current_database()") == 0;
             ++tries) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      // In the queue, in this order: the first leads (out of the queue), the others wait in it.
      if (i > 0) dynamic_cast<PgStore&>(f_.store()).AwaitQueued(i);
    }
    held_.Release();
    for (std::thread& t : threads) t.join();
    std::vector<Result<PushReply>> out;
    out.reserve(replies.size());
    for (auto& reply : replies) out.push_back(std::move(*reply));
    return out;
  }

 private:
  struct Pending {
    Device device;
    sync::PushRequest request;
  };
  StoreFixture& f_;
  SequenceHeld& held_;
  std::vector<Pending> pushes_;
};

void RequireApplied(const Result<PushReply>& reply) {
  REQUIRE(reply.ok());
  for (const sync::ChangeResult& r : reply->response.results) CHECK(r.status == sync::ChangeStatus::kApplied);
}

TEST_CASE("pushes queued behind a writer are written in one transaction, each as if alone", "[pg]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap}), b = f.Enrol("b", {kGap}), c = f.Enrol("c", {kGap});
  const std::string contact = NewId(), first = NewId(), followup = NewId(), twin = NewId();
  const FieldValues born = {{"birth_date", "1990-04-12"}};
  SequenceHeld held(f.spec());
  QueuedPushes pushes(f, held);
  pushes.Add(a, Batch({CreateContact(contact, "0611111111", Stamp(kT0, "a"))}));
  pushes.Add(b, Batch({CreateCase(first, kGap, Stamp(kT0, "b"), born)}));
  // Written in the same transaction as the case it names, and as the case it duplicates.
  pushes.Add(c,
             Batch({CreateFollowup(followup, first, Stamp(kT0, "c")), CreateCase(twin, kGap, Stamp(kT0, "c"), born)}));
  std::vector<Result<PushReply>> replies = pushes.Run();
  for (const auto& reply : replies) RequireApplied(reply);

  // The first alone, the two queued behind it in one transaction, in their order.
  PgAdmin admin(f.spec());
  CHECK(admin.Count("SELECT count(DISTINCT xmin::text) FROM history") == 2);
  CHECK(admin.Count("SELECT count(DISTINCT xmin::text) FROM history WHERE record_id IN ('" + first + "', '" + followup +
                    "', '" + twin + "')") == 1);
  CHECK(replies[1]->response.results[0].version == 2);
  CHECK(replies[2]->response.results[0].version == 3);
  CHECK(replies[2]->response.results[1].version == 4);
  auto duplicates = f.store().Conflicts(ConflictFilter{});
  REQUIRE(duplicates.ok());
  REQUIRE(duplicates->size() == 1);
  CHECK((*duplicates)[0].kind == "duplicate");
  CHECK((*duplicates)[0].record_id == twin);
  CHECK((*duplicates)[0].other_id == first);
  CHECK(f.Pull(c).next == 4);
}

TEST_CASE("a push that fails in a group gets its error alone, and the others of the group are applied", "[pg]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap}), b = f.Enrol("b", {kGap}), c = f.Enrol("c", {kGap});
  REQUIRE(
      f.store().Push(c.device, Decoded(Batch({CreateContact(NewId(), "0600000000", Stamp(kT0, "c"))}, "k-used"))).ok());
  const std::string by_b = NewId(), by_c = NewId(), by_a = NewId();
  SequenceHeld held(f.spec());
  QueuedPushes pushes(f, held);
  pushes.Add(a, Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))}));
  pushes.Add(b, Batch({CreateCase(by_b, kGap, Stamp(kT0, "b"))}));
  pushes.Add(c, Batch({CreateCase(by_c, kGap, Stamp(kT0, "c"))}, "k-used"));  // the key of other changes
  pushes.Add(a, Batch({CreateCase(by_a, kGap, Stamp(kT0, "a"))}));
  std::vector<Result<PushReply>> replies = pushes.Run();

  RequireApplied(replies[0]);
  RequireApplied(replies[1]);
  REQUIRE_FALSE(replies[2].ok());
  CHECK(replies[2].error().code == ErrorCode::kConflict);
  RequireApplied(replies[3]);
  auto history = f.store().History("cases", by_c);
  REQUIRE(history.ok());
  CHECK(history->empty());
  CHECK(f.store().History("cases", by_b)->size() == 1);
  CHECK(f.store().History("cases", by_a)->size() == 1);
}

}  // namespace
}  // namespace relais::server::testing
