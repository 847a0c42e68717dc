// ReplicaSyncStore::ApplyPage and the conflict notices it keeps (docs/PROTOCOL.md "Conflict notices").
#include <catch2/catch.hpp>

#include "client/records.h"
#include "client/sync_store.h"
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

}  // namespace

TEST_CASE("a pulled conflict notice is stored with its record and the cursor", "[sync_store][conflicts]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  sync::PullPage page = Page(0, 12);
  page.records.push_back(PulledCase(kCase, 12, "salarie"));
  page.conflicts.push_back(StatusConflict(3, kCase, 12));
  REQUIRE(store.ApplyPage(page).ok());

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
  CHECK(*store.PullCursor() == 12);
}

TEST_CASE("a settlement replaces the open notice, and an older notice never brings it back",
          "[sync_store][conflicts]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  sync::PullPage first = Page(0, 12);
  first.records.push_back(PulledCase(kCase, 12, "salarie"));
  first.conflicts.push_back(StatusConflict(3, kCase, 12));
  REQUIRE(store.ApplyPage(first).ok());

  sync::PullPage second = Page(12, 20);
  second.records.push_back(PulledCase(kCase, 20, "independant"));
  second.conflicts.push_back(Settled(StatusConflict(3, kCase, 12), "device", "independant", 20));
  REQUIRE(store.ApplyPage(second).ok());

  CHECK(StoredConflicts(t.replica(), {})->empty());
  auto all = StoredConflicts(t.replica(), Everything());
  REQUIRE(all->size() == 1);
  CHECK(all->front().status == "settled");
  CHECK(all->front().settlement == "device");
  CHECK(all->front().settled_value == "independant");
  CHECK(t.Text("SELECT status FROM cases") == "independant");

  // The first page again (an answer lost and asked again): the conflict stays settled.
  sync::PullPage again = first;
  again.since = 20;
  again.next = 20;
  REQUIRE(store.ApplyPage(again).ok());
  CHECK(StoredConflicts(t.replica(), Everything())->front().status == "settled");
}

TEST_CASE("a case that leaves the device's scope takes its conflicts with it", "[sync_store][conflicts]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  sync::PullPage first = Page(0, 12);
  first.records.push_back(PulledCase(kCase, 12, "salarie"));
  first.conflicts.push_back(StatusConflict(3, kCase, 12));
  sync::ConflictNotice other = StatusConflict(4, "0190a1b2-0000-7000-8000-000000000002", 12);
  first.conflicts.push_back(other);
  REQUIRE(store.ApplyPage(first).ok());

  sync::PullPage exit = Page(12, 30);
  exit.removed.push_back({"cases", kCase, 30});
  exit.conflicts.push_back(Settled(StatusConflict(3, kCase, 12), "server", "salarie", 29));
  REQUIRE(store.ApplyPage(exit).ok());

  CHECK(t.Scalar("SELECT count(*) FROM cases") == 0);
  auto left = StoredConflicts(t.replica(), Everything());
  REQUIRE(left->size() == 1);
  CHECK(left->front().id == 4);
}

TEST_CASE("a duplicate notice is found from either of its two cases", "[sync_store][conflicts]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
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
  REQUIRE(store.ApplyPage(page).ok());

  CHECK(StoredConflicts(t.replica(), About(kCase))->size() == 1);
  CHECK(StoredConflicts(t.replica(), About(existing))->size() == 1);
  CHECK(StoredConflicts(t.replica(), About("0190a1b2-0000-7000-8000-000000000003"))->empty());
  CHECK(StoredConflicts(t.replica(), {})->front().field.empty());
}

TEST_CASE("a page that fails to apply stores none of its notices and changes nothing",
          "[sync_store][conflicts][atomicity]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  sync::PullPage page = Page(0, 12);
  page.conflicts.push_back(StatusConflict(3, kCase, 12));
  page.records.push_back({"no_such_table", schema::Record{kCase, 12, {}}});
  const std::string before = t.ContentHash();
  REQUIRE_FALSE(store.ApplyPage(page).ok());
  CHECK(t.ContentHash() == before);
  CHECK(StoredConflicts(t.replica(), Everything())->empty());
  CHECK(*store.PullCursor() == 0);
}

TEST_CASE("a follow-up written offline on a case that leaves the scope is rejected with its text kept",
          "[sync_store][nothing_lost]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  sync::PullPage first = Page(0, 12);
  first.records.push_back(PulledCase(kCase, 12, "salarie"));
  REQUIRE(store.ApplyPage(first).ok());
  auto written = t.records().Create(
      schema::FollowupsTable(),
      {{"case_id", kCase}, {"kind", "entretien"}, {"date", "2026-11-20"}, {"text", "Entretien écrit hors ligne."}});
  REQUIRE(written.ok());

  sync::PullPage exit = Page(12, 30);
  exit.removed.push_back({"cases", kCase, 30});
  REQUIRE(store.ApplyPage(exit).ok());

  CHECK(t.Scalar("SELECT count(*) FROM followups") == 0);
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE state = 'rejected'") == 1);
  CHECK(t.Text("SELECT fields FROM outbox").find("Entretien écrit hors ligne.") != std::string::npos);
  // It never leaves in a batch, and stays on the device.
  auto batch = store.FormBatch(100);
  REQUIRE(batch.ok());
  CHECK_FALSE(batch->has_value());
}

TEST_CASE("two batches formed and unacknowledged are resent oldest first, each as it was", "[sync_store][push]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  for (const char* name : {"Abel", "Blanc", "Chevalier", "Durand"})
    REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  // A sync formed the second batch while the first was on the wire, then died.
  auto first = store.FormBatch(2);
  auto second = store.FormBatch(2);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(first->has_value());
  REQUIRE(second->has_value());
  auto left = store.UnacknowledgedBatch();
  REQUIRE(left.ok());
  REQUIRE(left->has_value());
  CHECK((*left)->batch_key == (*first)->batch_key);
  CHECK(sync::EncodePushRequest(**left) == sync::EncodePushRequest(**first));  // the very request formed

  sync::PushResponse answer{(*first)->batch_key, {}};
  for (const sync::Change& c : (*first)->changes)
    answer.results.push_back({c.change_id, sync::ChangeStatus::kApplied, 7, "", {}});
  REQUIRE(store.AcknowledgeBatch(**first, answer).ok());
  left = store.UnacknowledgedBatch();
  REQUIRE(left.ok());
  REQUIRE(left->has_value());
  CHECK(sync::EncodePushRequest(**left) == sync::EncodePushRequest(**second));
  CHECK(t.Scalar("SELECT count(*) FROM outbox") == 2);
}

TEST_CASE("an answer acknowledges what was accepted, keeps what was refused, releases the rest, and no other batch",
          "[sync_store][push][nothing_lost]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  for (const char* name : {"Abel", "Blanc", "Chevalier", "Durand", "Estève"}) {
    REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  }
  auto first = store.FormBatch(3);
  auto second = store.FormBatch(2);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(first->has_value());
  REQUIRE(second->has_value());
  const std::vector<sync::Change>& sent = (*first)->changes;
  REQUIRE(sent.size() == 3);
  // Accepted, refused, and not mentioned at all.
  sync::PushResponse answer{(*first)->batch_key, {}};
  answer.results.push_back({sent[0].change_id, sync::ChangeStatus::kApplied, 11, "", {}});
  answer.results.push_back({sent[1].change_id, sync::ChangeStatus::kRejected, 0, "hors territoire", {}});
  REQUIRE(store.AcknowledgeBatch(**first, answer).ok());

  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + sent[0].record_id + "'") == 11);
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE record_id = '" + sent[0].record_id + "'") == 0);
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE record_id = '" + sent[1].record_id +
                 "' AND state = 'rejected' AND reject_reason = 'hors territoire' AND batch_key IS NULL") == 1);
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE record_id = '" + sent[2].record_id +
                 "' AND state = 'pending' AND batch_key IS NULL") == 1);
  // The batch formed after it is still on its way, as it was.
  auto left = store.UnacknowledgedBatch();
  REQUIRE(left.ok());
  REQUIRE(left->has_value());
  CHECK(sync::EncodePushRequest(**left) == sync::EncodePushRequest(**second));
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE batch_key = '" + (*second)->batch_key + "'") == 2);

  sync::PushResponse all{(*second)->batch_key, {}};
  for (const sync::Change& c : (*second)->changes)
    all.results.push_back({c.change_id, sync::ChangeStatus::kApplied, 12, "", {}});
  REQUIRE(store.AcknowledgeBatch(**second, all).ok());
  // The change nobody answered goes again, alone; the refused one never does.
  auto again = store.FormBatch(10);
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  REQUIRE((*again)->changes.size() == 1);
  CHECK((*again)->changes[0].change_id == sent[2].change_id);
}

TEST_CASE("an answer in another order, naming a change twice and one of another batch, acknowledges each change once",
          "[sync_store][push][nothing_lost]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  auto known = t.records().Create(Cases(), ACase("Abel", "Zoé"));
  REQUIRE(known.ok());
  auto first = store.FormBatch(10);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  sync::PushResponse accepted{(*first)->batch_key,
                              {{(*first)->changes[0].change_id, sync::ChangeStatus::kApplied, 5, "", {}}}};
  REQUIRE(store.AcknowledgeBatch(**first, accepted).ok());
  // An edit of the accepted case (an outbox entry), then three creates held by their rows alone.
  REQUIRE(t.records().Edit(Cases(), known->id, {{"commune", "Gap"}}).ok());
  for (const char* name : {"Blanc", "Chevalier", "Durand"})
    REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  auto batch = store.FormBatch(10);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  const std::vector<sync::Change>& sent = (*batch)->changes;
  REQUIRE(sent.size() == 4);
  REQUIRE(sent[0].op == sync::Op::kUpdate);
  // Last first; the second create answered twice (the first answer counts); an id of no change of
  // this batch; the edit last.
  sync::PushResponse answer{(*batch)->batch_key, {}};
  answer.results.push_back({sent[3].change_id, sync::ChangeStatus::kApplied, 31, "", {}});
  answer.results.push_back({sent[2].change_id, sync::ChangeStatus::kApplied, 32, "", {}});
  answer.results.push_back({sent[2].change_id, sync::ChangeStatus::kRejected, 0, "hors territoire", {}});
  answer.results.push_back({"01890000-0000-7000-8000-000000000000", sync::ChangeStatus::kRejected, 0, "inconnu", {}});
  answer.results.push_back({sent[1].change_id, sync::ChangeStatus::kRejected, 0, "hors territoire", {}});
  answer.results.push_back({sent[0].change_id, sync::ChangeStatus::kApplied, 34, "", {}});
  REQUIRE(store.AcknowledgeBatch(**batch, answer).ok());
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
  auto next = store.FormBatch(10);
  REQUIRE(next.ok());
  CHECK_FALSE(next->has_value());
}

TEST_CASE("an accepted create takes its version on its own row, even when rows moved since the batch was formed",
          "[sync_store][push]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  for (const char* name : {"Abel", "Blanc", "Chevalier"}) REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  auto batch = store.FormBatch(3);
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
  answer.results.push_back({sent[0].change_id, sync::ChangeStatus::kApplied, 21, "", {}});
  answer.results.push_back({sent[1].change_id, sync::ChangeStatus::kApplied, 22, "", {}});
  answer.results.push_back({sent[2].change_id, sync::ChangeStatus::kRejected, 0, "hors territoire", {}});
  REQUIRE(store.AcknowledgeBatch(**batch, answer).ok());
  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + sent[0].record_id + "'") == 21);
  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + sent[1].record_id + "'") == 22);
  CHECK(t.Scalar("SELECT version FROM cases WHERE id = '" + sent[2].record_id + "'") ==
        0);  // refused: not the first's version
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE state = 'rejected'") == 1);
}

TEST_CASE("a change refused by the centre sends the batches formed after it back to pending, in order",
          "[sync_store][push]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  for (const char* name : {"Abel", "Blanc", "Chevalier", "Durand"})
    REQUIRE(t.records().Create(Cases(), ACase(name, "Zoé")).ok());
  auto first = store.FormBatch(2);
  auto second = store.FormBatch(2);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(store.RejectChange((*first)->batch_key, (*first)->changes[0].change_id, "refused").ok());
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE state = 'rejected'") == 1);
  auto left = store.UnacknowledgedBatch();
  REQUIRE(left.ok());
  CHECK_FALSE(left->has_value());
  // The first batch's other change comes first again, then the second batch's.
  auto again = store.FormBatch(10);
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  REQUIRE((*again)->changes.size() == 3);
  CHECK((*again)->changes[0].change_id == (*first)->changes[1].change_id);
  CHECK((*again)->changes[1].change_id == (*second)->changes[0].change_id);
  CHECK((*again)->changes[2].change_id == (*second)->changes[1].change_id);
}

TEST_CASE("a large pulled page is found by search, inserted rows and updated rows alike", "[sync_store][search]") {
  TestReplica t;
  ReplicaSyncStore store(t.replica());
  sync::PullPage first = Page(0, 1);
  first.records.push_back(PulledCase(kCase, 1, "salarie"));
  REQUIRE(store.ApplyPage(first).ok());
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
  REQUIRE(store.ApplyPage(big).ok());
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'quenouille'") == 1);
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'girard'") == 0);  // the old name is gone
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'zephyrin'") == 1);
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'martin'") == 399);
  CHECK(t.Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'cases_fts_insert'") == 1);
  CHECK(t.replica().db().Exec("INSERT INTO cases_fts(cases_fts) VALUES ('integrity-check')").ok());
}
