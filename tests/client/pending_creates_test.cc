// Creates held by their rows until a push batch takes them (client/pending_creates.h, docs/SCHEMA.md
// "The outbox"): order, counts, acknowledgement, rejection, and what a pull does to them.
#include <catch2/catch.hpp>

#include "client/records.h"
#include "client/replica_port.h"
#include "sync/codec.h"
#include "sync/outbox.h"
#include "tests/client/fixture.h"

using namespace relais;
using namespace relais::client;
using namespace relais::client::testing;

namespace {

const schema::Table& Cases() { return schema::CasesTable(); }
const schema::Table& Followups() { return schema::FollowupsTable(); }

FieldValues AFollowup(const std::string& case_id, const std::string& text = "Entretien.") {
  return {{"case_id", case_id}, {"kind", "entretien"}, {"date", "2026-11-20"}, {"text", text}};
}

// The changes of a batch as "op:record_id" in request order.
std::vector<std::string> Order(const sync::PushRequest& batch) {
  std::vector<std::string> order;
  for (const sync::Change& c : batch.changes) order.push_back(std::string(sync::ToString(c.op)) + ":" + c.record_id);
  return order;
}

// The centre's answer taking every change of `batch`, versions from `first_version` on.
sync::PushResponse AcceptAll(const sync::PushRequest& batch, int64_t first_version) {
  sync::PushResponse response;
  response.batch_key = batch.batch_key;
  for (const sync::Change& c : batch.changes) {
    sync::ChangeResult r;
    r.change_id = c.change_id;
    r.status = sync::ChangeStatus::kApplied;
    r.version = first_version++;
    response.results.push_back(r);
  }
  return response;
}

}  // namespace

TEST_CASE("the first edit of a case never sent puts its create in the outbox first, as it was", "[pending_creates]") {
  TestReplica t;
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  REQUIRE(t.records().Edit(Cases(), c->id, {{"commune", "Gap"}}).ok());
  CHECK(t.Text("SELECT group_concat(op, ',') FROM (SELECT op FROM outbox ORDER BY seq)") == "create,update");
  auto create = sync::DecodeOutboxFields(sync::Op::kCreate, t.Text("SELECT fields FROM outbox WHERE op = 'create'"));
  REQUIRE(create.ok());
  bool commune_before_edit = false;
  for (const sync::FieldChange& f : *create) commune_before_edit |= f.field == "commune" && f.value == "Briançon";
  CHECK(commune_before_edit);
  CHECK(t.records().PendingFor(Cases(), c->id)->pending == 2);
  CHECK(t.records().PendingTotal()->pending == 2);
  REQUIRE(t.records().Edit(Cases(), c->id, {{"commune", "Briançon"}}).ok());
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE op = 'create'") == 1);  // written once

  SqliteReplicaPort port(t.replica());
  auto batch = port.FormBatch(100);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  CHECK(Order(**batch) == std::vector<std::string>{"create:" + c->id, "update:" + c->id, "update:" + c->id});
}

TEST_CASE("an update of a case goes after the creates of the follow-ups written before it", "[pending_creates]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  auto sent = port.FormBatch(100);
  REQUIRE(sent.ok());
  REQUIRE(port.AcknowledgeBatch(**sent, AcceptAll(**sent, 7)).ok());

  auto f = t.records().Create(Followups(), AFollowup(c->id));
  REQUIRE(f.ok());
  auto later = t.records().Create(Cases(), ACase("Roux", "Léa"));
  REQUIRE(later.ok());
  REQUIRE(t.records().Edit(Cases(), c->id, {{"territory", "queyras"}}).ok());  // may take the case out of scope
  auto batch = port.FormBatch(100);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  CHECK(Order(**batch) == std::vector<std::string>{"create:" + f->id, "update:" + c->id, "create:" + later->id});
  CHECK((*batch)->changes[1].base_version == 7);  // the accepted create's version
}

TEST_CASE("creates held by their rows go a batch at a time, cases before follow-ups, after the outbox",
          "[pending_creates]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  std::vector<std::string> cases;
  for (const char* name : {"Arnaud", "Blanc", "Chabert"}) cases.push_back(t.records().Create(Cases(), ACase(name))->id);
  auto f = t.records().Create(Followups(), AFollowup(cases[0]));
  REQUIRE(f.ok());
  CHECK(*port.PendingCount() == 4);

  auto first = port.FormBatch(2);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK(Order(**first) == std::vector<std::string>{"create:" + cases[0], "create:" + cases[1]});
  // Not acknowledged: a retry is the same request, byte for byte.
  auto again = port.UnacknowledgedBatch();
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  CHECK(sync::EncodePushRequest(**again) == sync::EncodePushRequest(**first));
  CHECK(*port.PendingCount() == 4);
  REQUIRE(port.AcknowledgeBatch(**first, AcceptAll(**first, 10)).ok());
  CHECK(*port.PendingCount() == 2);

  auto second = port.FormBatch(2);
  REQUIRE(second.ok());
  REQUIRE(second->has_value());
  CHECK(Order(**second) == std::vector<std::string>{"create:" + cases[2], "create:" + f->id});
  REQUIRE(port.AcknowledgeBatch(**second, AcceptAll(**second, 12)).ok());
  CHECK(*port.PendingCount() == 0);
  CHECK(t.records().PendingTotal()->pending == 0);
  CHECK(t.Scalar("SELECT count(*) FROM outbox") == 0);
  auto none = port.FormBatch(2);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  // A new port (the next sync) finds nothing more either.
  SqliteReplicaPort next(t.replica());
  CHECK_FALSE(next.FormBatch(2)->has_value());
}

TEST_CASE("an accepted create keeps the centre's version on its row and is pending no more", "[pending_creates]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  auto batch = port.FormBatch(100);
  REQUIRE(port.AcknowledgeBatch(**batch, AcceptAll(**batch, 41)).ok());
  CHECK(t.Scalar("SELECT version FROM cases") == 41);
  CHECK(t.records().PendingFor(Cases(), c->id)->pending == 0);
  CHECK(t.Counts() == "1/0/0/0/0");
  // The centre's view now holds it (the divergence check counts it).
  auto digest = port.LocalDigest();
  REQUIRE(digest.ok());
  CHECK((*digest)["cases"].count == 1);
}

TEST_CASE("a rejected create stays on the device, counted and shown, and is not sent again",
          "[pending_creates][nothing_lost]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  auto batch = port.FormBatch(100);
  REQUIRE(batch.ok());
  sync::PushResponse refused;
  refused.batch_key = (*batch)->batch_key;
  sync::ChangeResult r;
  r.change_id = (*batch)->changes[0].change_id;
  r.status = sync::ChangeStatus::kRejected;
  r.reason = "le territoire queyras est hors des territoires de cet appareil (briancon)";
  refused.results.push_back(r);
  REQUIRE(port.AcknowledgeBatch(**batch, refused).ok());

  CHECK(t.Scalar("SELECT version FROM cases") == 0);
  CHECK(t.Text("SELECT state FROM outbox") == "rejected");
  CHECK(t.Text("SELECT reject_reason FROM outbox") == r.reason);
  CHECK(t.Text("SELECT fields FROM outbox").find("Lefèvre") != std::string::npos);  // its values kept
  auto pending = t.records().PendingFor(Cases(), c->id);
  CHECK(pending->pending == 0);
  CHECK(pending->rejected == 1);
  CHECK(t.records().PendingTotal()->rejected == 1);
  CHECK(*port.PendingCount() == 0);
  CHECK_FALSE(port.FormBatch(100)->has_value());
  SqliteReplicaPort next(t.replica());
  CHECK_FALSE(next.FormBatch(100)->has_value());
  auto digest = port.LocalDigest();
  REQUIRE(digest.ok());
  CHECK((*digest)["cases"].count == 0);  // not the centre's
}

TEST_CASE("a pulled record with the id of a pending create keeps the create and the device's values",
          "[pending_creates][nothing_lost]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  sync::PullPage page;
  page.since = 0;
  page.next = 5;
  schema::Record pulled;
  pulled.id = c->id;
  pulled.version = 5;
  pulled.values.resize(Cases().fields.size());
  for (const auto& [name, value] : ACase("Autre", "Personne"))
    pulled.values[static_cast<size_t>(Cases().FieldIndex(name))] = value;
  page.records.push_back({"cases", pulled});
  REQUIRE(port.ApplyPage(page).ok());
  CHECK(t.Text("SELECT last_name FROM cases") == "Lefèvre");
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE op = 'create' AND state = 'pending'") == 1);
  CHECK(t.records().PendingTotal()->pending == 1);
}

TEST_CASE("a case created offline that leaves the scope keeps its follow-ups' creates, rejected",
          "[pending_creates][nothing_lost]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  auto batch = port.FormBatch(100);
  REQUIRE(port.AcknowledgeBatch(**batch, AcceptAll(**batch, 3)).ok());
  REQUIRE(t.records().Create(Followups(), AFollowup(c->id, "Écrit avant le départ.")).ok());
  sync::PullPage exit;
  exit.since = 0;
  exit.next = 9;
  exit.removed.push_back({"cases", c->id, 9});
  REQUIRE(port.ApplyPage(exit).ok());
  CHECK(t.Counts().rfind("0/0/0/1/", 0) == 0);
  CHECK(t.Text("SELECT state FROM outbox") == "rejected");
  CHECK(t.Text("SELECT fields FROM outbox").find("Écrit avant le départ.") != std::string::npos);
  CHECK(t.records().PendingTotal()->rejected == 1);
}

TEST_CASE("a batch stops at its byte budget, whatever its count allows, and the rest follows in order",
          "[pending_creates]") {
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  // Follow-ups of 19,000 bytes (the text allows 20,000): 5,000 of them would be 95 MB in one batch.
  auto c = t.records().Create(Cases(), ACase("Arnaud"));
  REQUIRE(c.ok());
  const std::string text(19000, 'x');
  std::vector<std::string> written = {"create:" + c->id};
  for (int i = 0; i < 500; ++i) {
    auto f = t.records().Create(Followups(), AFollowup(c->id, text));
    REQUIRE(f.ok());
    written.push_back("create:" + f->id);
  }
  // Held by their rows alone, or in the outbox: the first edit of a case puts the creates under it
  // there, then itself.
  const bool edited = GENERATE(false, true);
  if (edited) {
    REQUIRE(t.records().Edit(Cases(), c->id, {{"notes", std::string(9000, 'n')}}).ok());
    written.push_back("update:" + c->id);
  }
  std::vector<std::string> sent;
  int64_t version = 1;
  size_t batches = 0;
  while (true) {
    auto batch = port.FormBatch(5000);
    REQUIRE(batch.ok());
    if (!batch->has_value()) break;
    ++batches;
    size_t bytes = 0;
    for (const sync::Change& ch : (*batch)->changes) {
      for (const sync::FieldChange& fc : ch.fields)
        bytes += fc.field.size() + (fc.value ? fc.value->size() : 0) + (fc.base ? fc.base->size() : 0);
    }
    CHECK(bytes <= SqliteReplicaPort::kMaxBatchValueBytes);
    for (const std::string& o : Order(**batch)) sent.push_back(o);
    REQUIRE(port.AcknowledgeBatch(**batch, AcceptAll(**batch, version)).ok());
    version += static_cast<int64_t>((*batch)->changes.size());
  }
  CHECK(batches >= 3);  // 9.5 MB of text over batches of at most 4 MiB
  // Everything went, once, in the replica's order.
  CHECK(sent == written);
  CHECK(*port.PendingCount() == 0);
}

TEST_CASE("a create a batch took from its row is resent as it was sent when the row is edited before the answer",
          "[pending_creates][nothing_lost]") {
  TestReplica t;
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  SqliteReplicaPort port(t.replica());
  auto batch = port.FormBatch(100);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  const std::string sent = sync::EncodePushRequest(**batch);
  // Taken with its values in the row: the entry holds none of them.
  CHECK(t.Text("SELECT fields FROM outbox WHERE op = 'create'") == std::string(sync::kFieldsFromRow));

  // Edited while the batch is at the centre: the create is frozen as sent, the edit goes after it.
  REQUIRE(t.records().Edit(Cases(), c->id, {{"commune", "Gap"}}).ok());
  CHECK(t.Text("SELECT group_concat(op, ',') FROM (SELECT op FROM outbox ORDER BY seq)") == "create,update");
  auto frozen = sync::DecodeOutboxFields(sync::Op::kCreate, t.Text("SELECT fields FROM outbox WHERE op = 'create'"));
  REQUIRE(frozen.ok());
  bool commune_as_sent = false;
  for (const sync::FieldChange& f : *frozen) commune_as_sent |= f.field == "commune" && f.value == "Briançon";
  CHECK(commune_as_sent);

  // The answer was lost: the batch is resent byte for byte as first sent, not with the edit.
  auto left = port.UnacknowledgedBatch();
  REQUIRE(left.ok());
  REQUIRE(left->has_value());
  CHECK(sync::EncodePushRequest(**left) == sent);
  // And a batch resent before any edit reads the same values from the row.
  TestReplica u;
  auto d = u.records().Create(Cases(), ACase());
  REQUIRE(d.ok());
  SqliteReplicaPort other(u.replica());
  auto formed = other.FormBatch(100);
  REQUIRE(formed.ok());
  REQUIRE(formed->has_value());
  auto resent = other.UnacknowledgedBatch();
  REQUIRE(resent.ok());
  REQUIRE(resent->has_value());
  CHECK(sync::EncodePushRequest(**resent) == sync::EncodePushRequest(**formed));
}
