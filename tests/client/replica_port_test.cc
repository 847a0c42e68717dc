// SqliteReplicaPort: pulled pages and the conflict notices they bring (docs/PROTOCOL.md "Conflict
// notices"), batches formed and resent, and the steps of AcknowledgeBatch ("nothing is lost").
#include <catch2/catch.hpp>

#include "client/records.h"
#include "client/replica_port.h"
#include "sync/codec.h"

#include <cstdio>
#include "tests/client/fixture.h"

using namespace relais;
using namespace relais::client;
using namespace relais::client::testing;

namespace {

const schema::Table& Cases() { return schema::CasesTable(); }

// A case as the centre sends it: `version`, the builder's values, and `status`.
sync::PulledRecord PulledCase(const std::string& id, int64_t version, const std::string& status) {
  schema::Record r;
  r.id = id;
  r.version = version;
  r.values.resize(Cases().fields.size());
  for (const auto& [name, value] : ACase("Girard", "Maël"))
    r.values[static_cast<size_t>(Cases().FieldIndex(name))] = value;
  r.values[static_cast<size_t>(Cases().FieldIndex("status"))] = status;
  return {"cases", r};
}

sync::ConflictNotice StatusConflict(int64_t id, const std::string& record, int64_t seq) {
  sync::ConflictNotice n;
  n.id = id;
  n.kind = "field";
  n.status = "open";
  n.table = "cases";
  n.record_id = record;
  n.field = "status";
  n.base_value = "demandeur_emploi";
  n.server_value = "salarie";
  n.device_value = "independant";
  n.device = "pae-nevache";
  n.server_device = "pae-briancon";
  n.seq = seq;
  return n;
}

sync::ConflictNotice Settled(sync::ConflictNotice n, const std::string& how, const std::string& value, int64_t seq) {
  n.status = "settled";
  n.settlement = how;
  n.settled_value = value;
  n.seq = seq;
  return n;
}

sync::PullPage Page(int64_t since, int64_t next) {
  sync::PullPage page;
  page.since = since;
  page.next = next;
  return page;
}

ConflictQuery Everything() {
  ConflictQuery q;
  q.settled_too = true;
  return q;
}

ConflictQuery About(const std::string& record_id) {
  ConflictQuery q;
  q.record_id = record_id;
  return q;
}

constexpr char kCase[] = "0190a1b2-0000-7000-8000-000000000001";

// Everything an acknowledgement may change: every outbox entry and every case's version, as text.
std::string AcknowledgedState(TestReplica& t) {
  return t.Text(
             "SELECT coalesce(group_concat(line, '|'), '') FROM (SELECT seq || ',' || change_id || ',' || state || ',' "
             "|| coalesce(reject_reason, '') || ',' || coalesce(batch_key, '') || ',' || fields AS line FROM outbox "
             "ORDER BY seq)") +
         "#" +
         t.Text(
             "SELECT coalesce(group_concat(id || ':' || version, '|'), '') FROM (SELECT id, version FROM cases "
             "ORDER BY id)") +
         "#" + t.Text("SELECT coalesce((SELECT value FROM sync_state WHERE key = 'hlc_last'), '')");
}

sync::PushResponse AllApplied(const sync::PushRequest& batch, int64_t version) {
  sync::PushResponse answer{batch.batch_key, {}};
  for (const sync::Change& c : batch.changes)
    answer.results.push_back({c.change_id, sync::ChangeStatus::kApplied, version, "", {}, {}});
  return answer;
}

}  // namespace

TEST_CASE("a pulled conflict notice is stored with its record and the cursor", "[replica_port][conflicts]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::PullPage page = Page(0, 12);
  page.records.push_back(PulledCase(kCase, 12, "salarie"));
  page.conflicts.push_back(StatusConflict(3, kCase, 12));
  REQUIRE(port.ApplyPage(page).ok());

  auto open = StoredConflicts(t.replica(), {});
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);
  const sync::ConflictNotice& n = open->front();
  CHECK(n.id == 3);
  CHECK(n.kind == "field");
  CHECK(n.record_id == kCase);
  CHECK(n.field == "status");
  CHECK(n.server_value == "salarie");
  CHECK(n.device_value == "independant");
  CHECK(n.device == "pae-nevache");
  CHECK(n.server_device == "pae-briancon");
  CHECK_FALSE(n.settled_value.has_value());
  CHECK(*port.PullCursor() == 12);
}

TEST_CASE("a settlement replaces the open notice, and an older notice never brings it back",
          "[replica_port][conflicts]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::PullPage first = Page(0, 12);
  first.records.push_back(PulledCase(kCase, 12, "salarie"));
  first.conflicts.push_back(StatusConflict(3, kCase, 12));
  REQUIRE(port.ApplyPage(first).ok());

  sync::PullPage second = Page(12, 20);
  second.records.push_back(PulledCase(kCase, 20, "independant"));
  second.conflicts.push_back(Settled(StatusConflict(3, kCase, 12), "device", "independant", 20));
  REQUIRE(port.ApplyPage(second).ok());

  CHECK(StoredConflicts(t.replica(), {})->empty());
  auto all = StoredConflicts(t.replica(), Everything());
  REQUIRE(all->size() == 1);
  CHECK(all->front().status == "settled");
  CHECK(all->front().settlement == "device");
  CHECK(all->front().settled_value == "independant");
  CHECK(t.Text("SELECT status FROM cases") == "independant");

  // The first page's notice again (an answer lost and asked again): the conflict stays settled.
  // (Its record, older than the one held, would refuse the page: see the test of that below.)
  sync::PullPage again = first;
  again.records.clear();
  again.since = 20;
  again.next = 20;
  REQUIRE(port.ApplyPage(again).ok());
  CHECK(StoredConflicts(t.replica(), Everything())->front().status == "settled");
}

TEST_CASE("a case that leaves the device's scope takes its conflicts with it", "[replica_port][conflicts]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::PullPage first = Page(0, 12);
  first.records.push_back(PulledCase(kCase, 12, "salarie"));
  first.conflicts.push_back(StatusConflict(3, kCase, 12));
  sync::ConflictNotice other = StatusConflict(4, "0190a1b2-0000-7000-8000-000000000002", 12);
  first.conflicts.push_back(other);
  REQUIRE(port.ApplyPage(first).ok());

  sync::PullPage exit = Page(12, 30);
  exit.removed.push_back({"cases", kCase, 30});
  exit.conflicts.push_back(Settled(StatusConflict(3, kCase, 12), "server", "salarie", 29));
  REQUIRE(port.ApplyPage(exit).ok());

  CHECK(t.Scalar("SELECT count(*) FROM cases") == 0);
  auto left = StoredConflicts(t.replica(), Everything());
  REQUIRE(left->size() == 1);
  CHECK(left->front().id == 4);
}

TEST_CASE("a duplicate notice is found from either of its two cases", "[replica_port][conflicts]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  const std::string existing = "0190a1b2-0000-7000-8000-000000000009";
  sync::ConflictNotice dup;
  dup.id = 7;
  dup.kind = "duplicate";
  dup.status = "open";
  dup.table = "cases";
  dup.record_id = kCase;
  dup.other_id = existing;
  dup.device = "pae-nevache";
  dup.seq = 5;
  sync::PullPage page = Page(0, 5);
  page.conflicts.push_back(dup);
  REQUIRE(port.ApplyPage(page).ok());

  CHECK(StoredConflicts(t.replica(), About(kCase))->size() == 1);
  CHECK(StoredConflicts(t.replica(), About(existing))->size() == 1);
  CHECK(StoredConflicts(t.replica(), About("0190a1b2-0000-7000-8000-000000000003"))->empty());
  CHECK(StoredConflicts(t.replica(), {})->front().field.empty());
}

TEST_CASE("a page that fails to apply stores none of its notices and changes nothing",
          "[replica_port][conflicts][atomicity]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::PullPage page = Page(0, 12);
  page.conflicts.push_back(StatusConflict(3, kCase, 12));
  page.records.push_back({"no_such_table", schema::Record{kCase, 12, {}}});
  const std::string before = t.ContentHash();
  REQUIRE_FALSE(port.ApplyPage(page).ok());
  CHECK(t.ContentHash() == before);
  CHECK(StoredConflicts(t.replica(), Everything())->empty());
  CHECK(*port.PullCursor() == 0);
}

TEST_CASE("a pulled record older than the one the replica holds refuses its page whole",
          "[replica_port][hostile][atomicity]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::PullPage first = Page(0, 20);
  first.records.push_back(PulledCase(kCase, 20, "salarie"));
  REQUIRE(port.ApplyPage(first).ok());
  const std::string before = t.ContentHash();

  // Within the page's range, so only the replica can tell it goes back (a centre that lost what
  // this device pushed, or another centre at the same address).
  constexpr char kOther[] = "0190a1b2-0000-7000-8000-000000000002";
  sync::PullPage older = Page(20, 40);
  older.records.push_back(PulledCase(kOther, 25, "salarie"));
  older.records.push_back(PulledCase(kCase, 12, "retraite"));
  Status applied = port.ApplyPage(older);
  REQUIRE_FALSE(applied.ok());
  CHECK(applied.error().code == ErrorCode::kProtocol);
  CHECK_THAT(applied.error().message, Catch::Contains(std::string("cases, fiche ") + kCase) &&
                                          Catch::Contains("version 12") && Catch::Contains("(20)"));
  CHECK(t.ContentHash() == before);
  CHECK(*port.PullCursor() == 20);
}

TEST_CASE("a follow-up written offline on a case that leaves the scope is rejected with its text kept",
          "[replica_port][nothing_lost]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::PullPage first = Page(0, 12);
  first.records.push_back(PulledCase(kCase, 12, "salarie"));
  REQUIRE(port.ApplyPage(first).ok());
  auto written = t.records().Create(
      schema::FollowupsTable(),
      {{"case_id", kCase}, {"kind", "entretien"}, {"date", "2026-11-20"}, {"text", "Entretien écrit hors ligne."}});
  REQUIRE(written.ok());

  sync::PullPage exit = Page(12, 30);
  exit.removed.push_back({"cases", kCase, 30});
  REQUIRE(port.ApplyPage(exit).ok());

  CHECK(t.Scalar("SELECT count(*) FROM followups") == 0);
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE state = 'rejected'") == 1);
  CHECK(t.Text("SELECT fields FROM outbox").find("Entretien écrit hors ligne.") != std::string::npos);
  // It never leaves in a batch, and stays on the device.
  auto batch = port.FormBatch(100);
  REQUIRE(batch.ok());
  CHECK_FALSE(batch->has_value());
}

TEST_CASE("two batches formed and unacknowledged are resent oldest first, each as it was", "[replica_port][push]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  for (const char* name : {"Abel", "Blanc", "Chevalier", "Durand"})
    REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  // A sync formed the second batch while the first was on the wire, then died.
  auto first = port.FormBatch(2);
  auto second = port.FormBatch(2);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(first->has_value());
  REQUIRE(second->has_value());
  auto left = port.UnacknowledgedBatch();
  REQUIRE(left.ok());
  REQUIRE(left->has_value());
  CHECK((*left)->batch_key == (*first)->batch_key);
  CHECK(sync::EncodePushRequest(**left) == sync::EncodePushRequest(**first));  // the very request formed

  sync::PushResponse answer{(*first)->batch_key, {}};
  for (const sync::Change& c : (*first)->changes)
    answer.results.push_back({c.change_id, sync::ChangeStatus::kApplied, 7, "", {}, {}});
  REQUIRE(port.AcknowledgeBatch(**first, answer).ok());
  left = port.UnacknowledgedBatch();
  REQUIRE(left.ok());
  REQUIRE(left->has_value());
  CHECK(sync::EncodePushRequest(**left) == sync::EncodePushRequest(**second));
  CHECK(t.Scalar("SELECT count(*) FROM outbox") == 2);
}

TEST_CASE("an answer acknowledges what was accepted, keeps what was refused, releases the rest, and no other batch",
          "[replica_port][push][nothing_lost]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  for (const char* name : {"Abel", "Blanc", "Chevalier", "Durand", "Estève"}) {
    REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  }
  auto first = port.FormBatch(3);
  auto second = port.FormBatch(2);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(first->has_value());
  REQUIRE(second->has_value());
  const std::vector<sync::Change>& sent = (*first)->changes;
  REQUIRE(sent.size() == 3);
  // Accepted, refused, and not mentioned at all.
  sync::PushResponse answer{(*first)->batch_key, {}};
  answer.results.push_back({sent[0].change_id, sync::ChangeStatus::kApplied, 11, "", {}, {}});
  answer.results.push_back({sent[1].change_id, sync::ChangeStatus::kRejected, 0, "hors territoire", {}, {}});
  REQUIRE(port.AcknowledgeBatch(**first, answer).ok());

  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + sent[0].record_id + "'") == 11);
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE record_id = '" + sent[0].record_id + "'") == 0);
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE record_id = '" + sent[1].record_id +
                 "' AND state = 'rejected' AND reject_reason = 'hors territoire' AND batch_key IS NULL") == 1);
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE record_id = '" + sent[2].record_id +
                 "' AND state = 'pending' AND batch_key IS NULL") == 1);
  // The batch formed after it is still on its way, as it was.
  auto left = port.UnacknowledgedBatch();
  REQUIRE(left.ok());
  REQUIRE(left->has_value());
  CHECK(sync::EncodePushRequest(**left) == sync::EncodePushRequest(**second));
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE batch_key = '" + (*second)->batch_key + "'") == 2);

  sync::PushResponse all{(*second)->batch_key, {}};
  for (const sync::Change& c : (*second)->changes)
    all.results.push_back({c.change_id, sync::ChangeStatus::kApplied, 12, "", {}, {}});
  REQUIRE(port.AcknowledgeBatch(**second, all).ok());
  // The change nobody answered goes again, alone; the refused one never does.
  auto again = port.FormBatch(10);
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  REQUIRE((*again)->changes.size() == 1);
  CHECK((*again)->changes[0].change_id == sent[2].change_id);
}

TEST_CASE("an answer in another order, naming a change twice and one of another batch, acknowledges each change once",
          "[replica_port][push][nothing_lost]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  auto known = t.records().Create(Cases(), ACase("Abel", "Zoé"));
  REQUIRE(known.ok());
  auto first = port.FormBatch(10);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  sync::PushResponse accepted{(*first)->batch_key,
                              {{(*first)->changes[0].change_id, sync::ChangeStatus::kApplied, 5, "", {}, {}}}};
  REQUIRE(port.AcknowledgeBatch(**first, accepted).ok());
  // An edit of the accepted case (an outbox entry), then three creates held by their rows alone.
  REQUIRE(t.records().Edit(Cases(), known->id, {{"commune", "Gap"}}).ok());
  for (const char* name : {"Blanc", "Chevalier", "Durand"})
    REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  auto batch = port.FormBatch(10);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  const std::vector<sync::Change>& sent = (*batch)->changes;
  REQUIRE(sent.size() == 4);
  REQUIRE(sent[0].op == sync::Op::kUpdate);
  // Last first; the second create answered twice (the first answer counts); an id of no change of
  // this batch; the edit last.
  sync::PushResponse answer{(*batch)->batch_key, {}};
  answer.results.push_back({sent[3].change_id, sync::ChangeStatus::kApplied, 31, "", {}, {}});
  answer.results.push_back({sent[2].change_id, sync::ChangeStatus::kApplied, 32, "", {}, {}});
  answer.results.push_back({sent[2].change_id, sync::ChangeStatus::kRejected, 0, "hors territoire", {}, {}});
  answer.results.push_back(
      {"01890000-0000-7000-8000-000000000000", sync::ChangeStatus::kRejected, 0, "inconnu", {}, {}});
  answer.results.push_back({sent[1].change_id, sync::ChangeStatus::kRejected, 0, "hors territoire", {}, {}});
  answer.results.push_back({sent[0].change_id, sync::ChangeStatus::kApplied, 34, "", {}, {}});
  REQUIRE(port.AcknowledgeBatch(**batch, answer).ok());
  auto version = [&](const std::string& id) { return t.Scalar("SELECT version FROM cases WHERE id = '" + id + "'"); };
  CHECK(version(sent[0].record_id) == 34);
  CHECK(version(sent[1].record_id) == 0);  // refused: still on the device, shown
  CHECK(version(sent[2].record_id) == 32);
  CHECK(version(sent[3].record_id) == 31);
  CHECK(t.Scalar("SELECT count(*) FROM outbox") == 1);
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE change_id = '" + sent[1].change_id +
                 "' AND state = 'rejected' AND reject_reason = 'hors territoire' AND batch_key IS NULL") == 1);
  // The refused create kept its values as sent.
  CHECK(t.Text("SELECT fields FROM outbox").find("Blanc") != std::string::npos);
  auto next = port.FormBatch(10);
  REQUIRE(next.ok());
  CHECK_FALSE(next->has_value());
}

TEST_CASE("an accepted create takes its version on its own row, even when rows moved since the batch was formed",
          "[replica_port][push]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  for (const char* name : {"Abel", "Blanc", "Chevalier"}) REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  auto batch = port.FormBatch(3);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  const std::vector<sync::Change>& sent = (*batch)->changes;
  REQUIRE(sent.size() == 3);
  auto rowid = [&](const std::string& id) { return t.Scalar("SELECT rowid FROM cases WHERE id = '" + id + "'"); };
  const int64_t first_row = rowid(sent[0].record_id);
  // Meanwhile the first row moved away, and the third took its rowid (what a VACUUM may do).
  REQUIRE(t.replica().db().Exec("UPDATE cases SET rowid = 1000 WHERE id = '" + sent[0].record_id + "'").ok());
  REQUIRE(t.replica()
              .db()
              .Exec("UPDATE cases SET rowid = " + std::to_string(first_row) + " WHERE id = '" + sent[2].record_id + "'")
              .ok());
  sync::PushResponse answer{(*batch)->batch_key, {}};
  answer.results.push_back({sent[0].change_id, sync::ChangeStatus::kApplied, 21, "", {}, {}});
  answer.results.push_back({sent[1].change_id, sync::ChangeStatus::kApplied, 22, "", {}, {}});
  answer.results.push_back({sent[2].change_id, sync::ChangeStatus::kRejected, 0, "hors territoire", {}, {}});
  REQUIRE(port.AcknowledgeBatch(**batch, answer).ok());
  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + sent[0].record_id + "'") == 21);
  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + sent[1].record_id + "'") == 22);
  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + sent[2].record_id + "'") ==
        0);  // refused: not the first's version
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE state = 'rejected'") == 1);
}

TEST_CASE("a change refused by the centre sends the batches formed after it back to pending, in order",
          "[replica_port][push]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  for (const char* name : {"Abel", "Blanc", "Chevalier", "Durand"})
    REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  auto first = port.FormBatch(2);
  auto second = port.FormBatch(2);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(port.RejectChange((*first)->batch_key, (*first)->changes[0].change_id, "refused").ok());
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE state = 'rejected'") == 1);
  auto left = port.UnacknowledgedBatch();
  REQUIRE(left.ok());
  CHECK_FALSE(left->has_value());
  // The first batch's other change comes first again, then the second batch's.
  auto again = port.FormBatch(10);
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  REQUIRE((*again)->changes.size() == 3);
  CHECK((*again)->changes[0].change_id == (*first)->changes[1].change_id);
  CHECK((*again)->changes[1].change_id == (*second)->changes[0].change_id);
  CHECK((*again)->changes[2].change_id == (*second)->changes[1].change_id);
}

TEST_CASE("a large pulled page is found by search, inserted rows and updated rows alike", "[replica_port][search]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::PullPage first = Page(0, 1);
  first.records.push_back(PulledCase(kCase, 1, "salarie"));
  REQUIRE(port.ApplyPage(first).ok());
  sync::PullPage big = Page(1, 1000);
  sync::PulledRecord renamed = PulledCase(kCase, 2, "salarie");
  renamed.record.values[static_cast<size_t>(Cases().FieldIndex("last_name"))] = "Quenouille";
  big.records.push_back(renamed);
  for (int i = 0; i < 400; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "0190a1b2-0000-7000-8000-%012d", 1000 + i);
    sync::PulledRecord r = PulledCase(id, 3 + i, "salarie");
    r.record.values[static_cast<size_t>(Cases().FieldIndex("last_name"))] = i == 399 ? "Zéphyrin" : "Martin";
    big.records.push_back(r);
  }
  REQUIRE(port.ApplyPage(big).ok());
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'quenouille'") == 1);
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'girard'") == 0);  // the old name is gone
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'zephyrin'") == 1);
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'martin'") == 399);
  CHECK(t.Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'cases_fts_insert'") == 1);
  CHECK(t.replica().db().Exec("INSERT INTO cases_fts(cases_fts) VALUES ('integrity-check')").ok());
}

TEST_CASE("an update applied as sent gives its row the centre's version; a merged one is left to the pull",
          "[replica_port][push]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::PullPage first = Page(0, 12);
  first.records.push_back(PulledCase(kCase, 12, "salarie"));
  const std::string other = "0190a1b2-0000-7000-8000-000000000002";
  first.records.push_back(PulledCase(other, 12, "salarie"));
  REQUIRE(port.ApplyPage(first).ok());
  REQUIRE(t.records().Edit(Cases(), kCase, {{"commune", "Gap"}}).ok());
  REQUIRE(t.records().Edit(Cases(), other, {{"commune", "Embrun"}}).ok());
  auto batch = port.FormBatch(10);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  REQUIRE((*batch)->changes.size() == 2);
  sync::PushResponse answer{(*batch)->batch_key, {}};
  answer.results.push_back({(*batch)->changes[0].change_id, sync::ChangeStatus::kApplied, 20, "", {}, {}});
  answer.results.push_back({(*batch)->changes[1].change_id, sync::ChangeStatus::kMerged, 21, "", {}, {}});
  REQUIRE(port.AcknowledgeBatch(**batch, answer).ok());
  CHECK(t.Scalar(std::string("SELECT version FROM cases WHERE id = '") + kCase + "'") == 20);
  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + other + "'") == 12);
  CHECK(t.Scalar("SELECT count(*) FROM outbox") == 0);
}

TEST_CASE("acknowledging records the batch's last stamp as the clock's, in the same transaction",
          "[replica_port][push]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  for (const char* name : {"Abel", "Blanc"}) REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  auto batch = port.FormBatch(10);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  REQUIRE(port.AcknowledgeBatch(**batch, AllApplied(**batch, 5)).ok());
  CHECK(t.Text("SELECT value FROM sync_state WHERE key = 'hlc_last'") == (*batch)->changes.back().hlc);
}

TEST_CASE("an answer acknowledged a second time, or for a batch of no entry, changes nothing",
          "[replica_port][push][nothing_lost]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  for (const char* name : {"Abel", "Blanc", "Chevalier"}) REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  auto batch = port.FormBatch(2);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  sync::PushResponse answer = AllApplied(**batch, 5);
  answer.results[1].status = sync::ChangeStatus::kRejected;
  answer.results[1].reason = "hors territoire";
  REQUIRE(port.AcknowledgeBatch(**batch, answer).ok());
  const std::string after_first = AcknowledgedState(t);
  SECTION("the same answer again") { REQUIRE(port.AcknowledgeBatch(**batch, answer).ok()); }
  SECTION("the same answer, to a new port") {
    SqliteReplicaPort next(t.replica());
    REQUIRE(next.AcknowledgeBatch(**batch, answer).ok());
  }
  SECTION("an answer naming a batch key no entry holds") {
    sync::PushResponse stray = answer;
    stray.batch_key = "no-such-batch";
    sync::PushRequest request = **batch;
    request.batch_key = "no-such-batch";
    REQUIRE(port.AcknowledgeBatch(request, stray).ok());
  }
  CHECK(AcknowledgedState(t) == after_first);
}

TEST_CASE("after a restore, what the centre lost is pushed back and what it vouches for is taken from it",
          "[replica_port][restore]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  constexpr char kOld[] = "0190a1b2-0000-7000-8000-000000000002";    // before the backup: vouched for
  constexpr char kLost[] = "0190a1b2-0000-7000-8000-000000000003";   // created after it: lost
  constexpr char kNewer[] = "0190a1b2-0000-7000-8000-000000000004";  // edited after it: a version lost
  constexpr char kGone[] = "0190a1b2-0000-7000-8000-000000000005";   // left the scope before it
  sync::PullPage page = Page(0, 30);
  page.records.push_back(PulledCase(kOld, 8, "salarie"));
  page.records.push_back(PulledCase(kGone, 9, "salarie"));
  page.records.push_back(PulledCase(kLost, 25, "salarie"));
  page.records.push_back(PulledCase(kNewer, 28, "etudiant"));
  REQUIRE(port.ApplyPage(page).ok());

  // The centre restored at sequence 20: it holds kOld and kNewer (at its version 12), nothing else.
  REQUIRE(port.BeginFreshCopy().ok());
  sync::PullPage fresh = Page(0, 20);
  fresh.records.push_back(PulledCase(kOld, 8, "salarie"));
  fresh.records.push_back(PulledCase(kNewer, 12, "salarie"));
  REQUIRE(port.StageFreshPage(fresh).ok());
  sync::CentreIdentity centre{"5c0f", 2, 20, 20};
  auto pushed_back = port.SwapInPushingBack(20, 20, centre);
  REQUIRE(pushed_back.ok());
  CHECK(*pushed_back == 2);

  CHECK(t.Scalar("SELECT count(*) FROM cases WHERE id = '" + std::string(kGone) + "'") == 0);
  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + std::string(kOld) + "'") == 8);
  // The lost record is a pending create again, its values as held.
  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + std::string(kLost) + "'") == 0);
  // The lost version is a pending update of what differs, based on the centre's version and values.
  CHECK(t.Text("SELECT status || ',' || version FROM cases WHERE id = '" + std::string(kNewer) + "'") == "etudiant,12");
  CHECK(t.Text("SELECT op || ',' || base_version FROM outbox WHERE record_id = '" + std::string(kNewer) + "'") ==
        "update,12");
  auto pending = port.PendingCount();
  REQUIRE(pending.ok());
  CHECK(*pending == 2);
  CHECK(*port.PullCursor() == 20);
  auto known = port.KnownCentre();
  REQUIRE(known.ok());
  CHECK(known->store_id == "5c0f");
  CHECK(known->epoch == 2);
  auto note = port.RecoveryNote();
  REQUIRE(note.ok());
  REQUIRE(note->has_value());
  // Each with the version held, which the centre lost: the device's claim to it.
  CHECK(**note == std::string(R"({"records":[{"op":"create","table":"cases","id":")") + kLost +
                      R"(","version":25},{"op":"update","table":"cases","id":")" + kNewer + R"(","version":28}]})");
  REQUIRE(port.ClearRecoveryNote().ok());
  CHECK_FALSE(port.RecoveryNote()->has_value());
}

// ---- the divergence check covers values ---------------------------------------------------------

TEST_CASE("a record with local edits counts in the local digest as the centre holds it", "[replica_port][digest]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::RecordDigester digester;
  sync::PullPage first = Page(0, 12);
  first.records.push_back(PulledCase(kCase, 12, "salarie"));
  REQUIRE(port.ApplyPage(first).ok());
  const sync::PulledRecord& v12 = first.records[0];
  const uint64_t at_12 = sync::RecordDigest(digester, kCase, 12, v12.record.values);
  CHECK(port.LocalDigest()->tables.at("cases").values == at_12);
  // A value altered on disk shows; the page applied again puts it back.
  REQUIRE(t.replica().db().Exec("UPDATE cases SET commune = 'Nulle part'").ok());
  CHECK(port.LocalDigest()->tables.at("cases").values != at_12);
  REQUIRE(port.ApplyPage(first).ok());
  CHECK(port.LocalDigest()->tables.at("cases").values == at_12);

  // A local edit (pending, then rejected and kept): the centre still holds version 12's values.
  REQUIRE(t.records().Edit(Cases(), kCase, {{"phone", "0611223344"}}).ok());
  CHECK(port.LocalDigest()->tables.at("cases").values == at_12);

  // The centre moves on under the edit: the digest follows the centre's values, the edit stays on top.
  sync::PullPage second = Page(12, 20);
  second.records.push_back(PulledCase(kCase, 20, "independant"));
  REQUIRE(port.ApplyPage(second).ok());
  CHECK(t.Text("SELECT phone FROM cases") == "0611223344");
  CHECK(port.LocalDigest()->tables.at("cases").values ==
        sync::RecordDigest(digester, kCase, 20, second.records[0].record.values));
}

TEST_CASE("the values an answer says the centre stored replace those the device sent, not later edits",
          "[replica_port][digest]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  sync::PullPage first = Page(0, 12);
  first.records.push_back(PulledCase(kCase, 12, "salarie"));
  REQUIRE(port.ApplyPage(first).ok());
  REQUIRE(t.records().Edit(Cases(), kCase, {{"phone", "0611223344"}, {"email", "mael@exemple.fr"}}).ok());
  auto batch = port.FormBatch(100);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  REQUIRE(t.records().Edit(Cases(), kCase, {{"email", "autre@exemple.fr"}}).ok());  // after the batch was formed
  sync::PushResponse answer = AllApplied(**batch, 12);
  // As if the device had sent "06 11 22 33 44": the centre's value, normalised, and no new version.
  answer.results[0].stored = {{"email", "mael@exemple.fr"}, {"phone", "0611223344"}};
  REQUIRE(t.replica().db().Exec("UPDATE cases SET phone = '06 11 22 33 44'").ok());
  REQUIRE(port.AcknowledgeBatch(**batch, answer).ok());
  CHECK(t.Text("SELECT phone FROM cases") == "0611223344");
  CHECK(t.Text("SELECT email FROM cases") == "autre@exemple.fr");
}
