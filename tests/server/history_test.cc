// A record's history (CentralStore::History): every version, oldest first, read by walking the chain of
// history rows from the record (migration 0004). Runs on both stores.
#include "server/sqlite_store.h"
#include "sqlite/db.h"
#include "sqlite/migrate.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

std::vector<int64_t> SeqsOf(CentralStore& store, const std::string& table, const std::string& id) {
  auto history = store.History(table, id);
  if (!history.ok()) FAIL(history.error().message);
  std::vector<int64_t> seqs;
  for (const HistoryEntry& h : *history) {
    CHECK(h.record_id == id);
    seqs.push_back(h.seq);
  }
  return seqs;
}

TEST_CASE("a record's history lists each of its versions once, oldest first, across moves and merges", "[history]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap, kBastia});
  const std::string kept = NewId(), absorbed = NewId(), entry = NewId(), contact = NewId();
  const FieldValues born = {{"birth_date", "1990-04-02"}};
  // 1 the case, 2 a contact (between the case's versions, of another record), 3 an update.
  f.Push(a, {CreateCase(kept, kGap, Stamp(kT0, "a"), born)});
  f.Push(a, {CreateContact(contact, "0611111111", Stamp(kT0 + 1, "a"))});
  f.Push(a, {Update("cases", kept, 1, Stamp(kT0 + 2, "a"), {{"phone", "0622222222", std::nullopt}})});
  // 4 a lookalike (a duplicate notice), 5 its follow-up; 6 the lookalike moves to Bastia, which
  // gives the follow-up a new version (8) without a row in history.
  f.Push(a,
         {CreateCase(absorbed, kGap, Stamp(kT0 + 3, "a"), born), CreateFollowup(entry, absorbed, Stamp(kT0 + 4, "a"))});
  auto moved = f.Push(a, {Update("cases", absorbed, 4, Stamp(kT0 + 5, "a"), {{"territory", kBastia, kGap}})});
  REQUIRE(moved.results[0].version == 6);
  bool entry_moved = false;
  for (const auto& r : f.Pull(a).records) entry_moved |= r.record.id == entry && r.record.version == 8;
  REQUIRE(entry_moved);

  CHECK(SeqsOf(f.store(), "", kept) == std::vector<int64_t>{1, 3});
  CHECK(SeqsOf(f.store(), "cases", kept) == std::vector<int64_t>{1, 3});
  CHECK(SeqsOf(f.store(), "", absorbed) == std::vector<int64_t>{4, 6});
  CHECK(SeqsOf(f.store(), "followups", entry) == std::vector<int64_t>{5});
  CHECK(SeqsOf(f.store(), "", contact) == std::vector<int64_t>{2});
  // Named with another table, or unknown: no history.
  CHECK(SeqsOf(f.store(), "contacts", kept).empty());
  CHECK(SeqsOf(f.store(), "", NewId()).empty());

  // Merging the lookalike into the first case writes the follow-up anew (after its move) and both
  // cases: each chain goes on from the record's last row.
  auto conflicts = f.store().Conflicts(ConflictFilter{});
  REQUIRE(conflicts.ok());
  REQUIRE(conflicts->size() == 1);
  REQUIRE(conflicts->front().kind == "duplicate");
  REQUIRE(f.store().Merge(conflicts->front().id, {}, "camille").ok());
  const std::vector<int64_t> entry_seqs = SeqsOf(f.store(), "followups", entry);
  REQUIRE(entry_seqs.size() == 2);
  CHECK(entry_seqs[0] == 5);
  CHECK(entry_seqs[1] > 8);
  CHECK(SeqsOf(f.store(), "", absorbed).size() == 3);
  auto history = f.store().History("followups", entry);
  REQUIRE(history.ok());
  CHECK(history->back().snapshot.find(kept) != std::string::npos);  // now on the case that stays
}

TEST_CASE("migration 0004 links the history rows of a store written before it", "[history]") {
  if (relais::testing::OnPostgres()) return;  // the SQLite file is built at schema 3 by hand
  TempDir dir;
  const std::string path = (dir.path() / "central.db").string();
  const std::string id = NewId(), other = NewId();
  {
    auto db = sqlite::Db::Open(path, true);
    REQUIRE(db.ok());
    const auto& all = schema::central_migrations();
    REQUIRE(all.size() >= 4);
    REQUIRE(sqlite::Migrate(*db, std::vector<schema::Migration>(all.begin(), all.begin() + 3), "test").ok());
    std::string sql = "UPDATE meta SET last_seq = 4;";
    sql += "INSERT INTO cases(id, last_name, first_name, opened_on, territory, version) VALUES ('" + id +
           "', 'Martin', 'Élodie', '2026-01-05', 'hautes-alpes-gap', 4);";
    sql += "INSERT INTO contacts(id, organisation, version) VALUES ('" + other + "', 'Mission locale', 2);";
    const std::pair<int, std::string> rows[] = {{1, id}, {2, other}, {3, id}, {4, id}};
    for (const auto& [seq, record] : rows) {
      sql += "INSERT INTO history(seq, tbl, record_id, device, hlc, at, snapshot) VALUES (" + std::to_string(seq) +
             ", '" + (record == id ? "cases" : "contacts") + "', '" + record + "', 'a', '" + Stamp(kT0 + seq, "a") +
             "', '2026-11-20T10:00:00Z', '{}');";
    }
    REQUIRE(db->Exec(sql).ok());
  }
  ManualClock clock(kT0);
  auto store = SqliteStore::Open(path, OpenMode::kExisting, clock);
  REQUIRE(store.ok());
  CHECK(SeqsOf(**store, "", id) == std::vector<int64_t>{1, 3, 4});
  CHECK(SeqsOf(**store, "contacts", other) == std::vector<int64_t>{2});
  auto history = (*store)->History("cases", id);
  REQUIRE(history.ok());
  REQUIRE(history->size() == 3);
  CHECK_FALSE(history->at(0).prev_seq);
  CHECK(history->at(1).prev_seq == 1);
  CHECK(history->at(2).prev_seq == 3);

  auto db = sqlite::Db::Open(path, false);
  REQUIRE(db.ok());
  auto index = db->Prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'history_by_record'");
  REQUIRE(index.ok());
  REQUIRE(*index->Step());
  CHECK(index->Int(0) == 0);
}

}  // namespace
}  // namespace relais::server::testing
