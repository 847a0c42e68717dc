// `relais-central migrate`: an SQLite central store copied into PostgreSQL keeps serving every
// device from where it was. Tagged [pg]: runs in test_server_pg only.
#include "server/store_migration.h"
#include "server/pg_store.h"
#include "server/sqlite_store.h"
#include "sync/codec.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using relais::testing::PgTestDatabase;

const std::string kGap = "hautes-alpes-gap";

Device Auth(CentralStore& store, const std::string& token) {
  auto device = store.Authenticate(token);
  REQUIRE(device.ok());
  return *device;
}

sync::PushResponse PushTo(CentralStore& store, const Device& device, const sync::PushRequest& request) {
  auto reply = store.Push(device, Decoded(request));
  if (!reply.ok()) FAIL(reply.error().message);
  return reply->response;
}

std::string PageOf(CentralStore& store, const Device& device, int64_t since) {
  auto page = store.Pull(device, since, 5000, false);
  if (!page.ok()) FAIL(page.error().message);
  return sync::EncodePullPage(*page);
}

std::vector<std::string> HistoryOf(CentralStore& store, const std::string& id) {
  auto history = store.History("", id);
  REQUIRE(history.ok());
  std::vector<std::string> out;
  for (const HistoryEntry& h : *history) {
    out.push_back(std::to_string(h.seq) + " " + h.device + " " + h.hlc + " " + h.at + " " + h.snapshot + " " +
                  h.lost.value_or("-"));
  }
  return out;
}

std::vector<std::string> ConflictsOf(CentralStore& store) {
  ConflictFilter all;
  all.status.reset();
  auto conflicts = store.Conflicts(all);
  REQUIRE(conflicts.ok());
  std::vector<std::string> out;
  for (const Conflict& c : *conflicts) {
    out.push_back(std::to_string(c.id) + " " + c.kind + " " + c.status + " " + c.record_id + " " +
                  c.field.value_or("-") + " " + c.device_value.value_or("-") + " " + c.settlement.value_or("-") + " " +
                  std::to_string(c.settled_seq.value_or(0)));
  }
  return out;
}

std::vector<std::string> DevicesOf(CentralStore& store) {
  auto devices = store.ListDevices();
  REQUIRE(devices.ok());
  std::vector<std::string> out;
  for (const DeviceInfo& d : *devices) {
    std::string line = d.name + " " + ToString(d.role) + " " + d.created_at + " " + d.revoked_at.value_or("-");
    for (const std::string& t : d.territories) line += " " + t;
    out.push_back(line);
  }
  return out;
}

TEST_CASE("an SQLite store copied to PostgreSQL serves every device from where it was", "[pg]") {
  TempDir dir;
  ManualClock clock(kT0);
  const std::string path = (dir.path() / "central.db").string();
  auto opened = SqliteStore::Open(path, OpenMode::kCreate, clock);
  REQUIRE(opened.ok());
  std::unique_ptr<SqliteStore> sqlite = std::move(*opened);
  const std::string token_a = *sqlite->AddDevice("a", {kGap}, Role::kDevice);
  const std::string token_b = *sqlite->AddDevice("b", {kGap}, Role::kDevice);
  const std::string token_old = *sqlite->AddDevice("ancien", {kGap}, Role::kDevice);
  REQUIRE(sqlite->AddDevice("siege", {kGap}, Role::kStaff).ok());
  REQUIRE(sqlite->RevokeDevice("ancien").ok());
  Device a = Auth(*sqlite, token_a), b = Auth(*sqlite, token_b);

  // A case and a contact; concurrent edits (one for review, one last-writer-wins); a duplicate,
  // settled; then b syncs, and a writes once more.
  const std::string case_id = NewId(), contact_id = NewId(), twin_id = NewId();
  FieldValues person = {{"status", "demandeur_emploi"}, {"birth_date", "1990-04-12"}};
  PushTo(*sqlite, a,
         Batch({CreateCase(case_id, kGap, Stamp(kT0, "a"), person),
                CreateContact(contact_id, "0611111111", Stamp(kT0, "a"))}));
  PushTo(*sqlite, a,
         Batch({Update("cases", case_id, 1, Stamp(kT0 + 10, "a"), {{"status", "salarie", "demandeur_emploi"}})}));
  PushTo(*sqlite, b,
         Batch({Update("cases", case_id, 1, Stamp(kT0 + 20, "b"), {{"status", "etudiant", "demandeur_emploi"}}),
                Update("contacts", contact_id, 2, Stamp(kT0 + 20, "b"), {{"phone", "0622222222", "0611111111"}})}));
  PushTo(*sqlite, b, Batch({CreateCase(twin_id, kGap, Stamp(kT0 + 30, "b"), person)}));
  auto open_conflicts = sqlite->Conflicts({});
  REQUIRE(open_conflicts.ok());
  REQUIRE(open_conflicts->size() == 2);
  REQUIRE(sqlite->Resolve((*open_conflicts)[0].id, Decision{Decision::Keep::kDevice, {}}, "chef").ok());
  const int64_t b_cursor = sync::DecodePullPage(PageOf(*sqlite, b, 0))->next;
  const sync::PushRequest last_batch =
      Batch({Update("contacts", contact_id, 3, Stamp(kT0 + 40, "a"), {{"phone", "0633333333", "0622222222"}})});
  PushTo(*sqlite, a, last_batch);

  const std::string a_all = PageOf(*sqlite, a, 0), b_rest = PageOf(*sqlite, b, b_cursor);
  const auto history = HistoryOf(*sqlite, case_id), conflicts = ConflictsOf(*sqlite), devices = DevicesOf(*sqlite);
  sqlite.reset();

  PgTestDatabase db;
  auto report = MigrateSqliteToPostgres(path, db.url());
  if (!report.ok()) FAIL(report.error().message);
  CHECK(report->last_seq == sync::DecodePullPage(a_all)->next);

  auto pg_opened = PgStore::Open(db.url(), OpenMode::kExisting, clock);
  REQUIRE(pg_opened.ok());
  PgStore& pg = **pg_opened;
  // Same tokens, same devices; the revoked one stays revoked.
  Device pg_a = Auth(pg, token_a), pg_b = Auth(pg, token_b);
  CHECK(pg_a.id == a.id);
  CHECK(pg.Authenticate(token_old).error().code == ErrorCode::kAuth);
  CHECK(DevicesOf(pg) == devices);
  // b resumes from its cursor and gets exactly what it would have got; a full pull is identical.
  CHECK(PageOf(pg, pg_b, b_cursor) == b_rest);
  CHECK(PageOf(pg, pg_a, 0) == a_all);
  CHECK(HistoryOf(pg, case_id) == history);
  CHECK(ConflictsOf(pg) == conflicts);
  // A retried batch is still answered from its stored reply; new changes and conflicts go on numbering.
  auto replay = pg.Push(pg_a, Decoded(last_batch));
  REQUIRE(replay.ok());
  CHECK(replay->replayed);
  auto next = PushTo(pg, pg_a, Batch({CreateContact(NewId(), "0644444444", Stamp(kT0 + 50, "a"))}));
  CHECK(next.results.at(0).version == report->last_seq + 1);
  auto third = PushTo(pg, pg_b, Batch({CreateCase(NewId(), kGap, Stamp(kT0 + 60, "b"), person)}));
  CHECK(third.results.at(0).status == sync::ChangeStatus::kApplied);
  ConflictFilter open;
  auto after = pg.Conflicts(open);
  REQUIRE(after.ok());
  REQUIRE_FALSE(after->empty());
  CHECK(after->back().id > (*open_conflicts)[1].id);
  CHECK(pg.AddDevice("c", {kGap}, Role::kDevice).ok());
}

TEST_CASE("migrating into a PostgreSQL store that already holds data is refused and changes nothing", "[pg]") {
  TempDir dir;
  const std::string path = (dir.path() / "central.db").string();
  REQUIRE(SqliteStore::Open(path, OpenMode::kCreate).ok());
  PgTestDatabase db;
  {
    auto pg = PgStore::Open(db.url(), OpenMode::kCreate);
    REQUIRE(pg.ok());
    REQUIRE((*pg)->AddDevice("deja-la", {kGap}, Role::kDevice).ok());
  }
  const std::string before = db.Admin().DumpAll();
  auto report = MigrateSqliteToPostgres(path, db.url());
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().code == ErrorCode::kConflict);
  CHECK_THAT(report.error().message, Catch::Contains("contient déjà une base centrale"));
  CHECK(db.Admin().DumpAll() == before);
}

TEST_CASE("migrating a store file that does not exist is not found", "[pg]") {
  TempDir dir;
  PgTestDatabase db;
  auto report = MigrateSqliteToPostgres((dir.path() / "absent.db").string(), db.url());
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().code == ErrorCode::kNotFound);
}

}  // namespace
}  // namespace relais::server::testing
