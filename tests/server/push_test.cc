// The push rules, applied by the SQLite central store (server/push.h).
#include <nlohmann/json.hpp>

#include <tuple>
#include <type_traits>

#include "server/push.h"
#include "sync/push_runs.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using sync::ChangeStatus;

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

schema::Value FieldOf(const sync::PulledRecord& r, std::string_view field) {
  const schema::Table* t = schema::FindTable(r.table);
  return r.record.values[static_cast<size_t>(t->FieldIndex(field))];
}

// The record `id` as a device of `who` pulls it now.
std::optional<sync::PulledRecord> Pulled(StoreFixture& f, const Enrolled& who, const std::string& id) {
  sync::PullPage page = f.Pull(who);
  for (const auto& r : page.records) {
    if (r.record.id == id) return r;
  }
  return std::nullopt;
}

TEST_CASE("a created case takes the next sequence number as its version", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::string id = NewId();
  auto response = f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"))});
  REQUIRE(response.results.size() == 1);
  CHECK(response.results[0].status == ChangeStatus::kApplied);
  CHECK(response.results[0].version == 1);
  auto pulled = Pulled(f, a, id);
  REQUIRE(pulled);
  CHECK(pulled->record.version == 1);
  CHECK(FieldOf(*pulled, "last_name") == "Martin");
}

TEST_CASE("an update takes a new version", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::string id = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"))});
  auto response = f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"phone", "0611223344", std::nullopt}})});
  CHECK(response.results[0].status == ChangeStatus::kApplied);
  CHECK(response.results[0].version == 2);
  CHECK(FieldOf(*Pulled(f, a, id), "phone") == "0611223344");
}

TEST_CASE("edits of different fields by two devices merge", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  std::string id = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"))});
  f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"phone", "0611223344", std::nullopt}})});
  auto response =
      f.Push(b, {Update("cases", id, 1, Stamp(kT0 + 2, "b"), {{"email", "e.martin@exemple.fr", std::nullopt}})});
  CHECK(response.results[0].status == ChangeStatus::kMerged);
  CHECK(response.results[0].version == 3);
  auto pulled = Pulled(f, a, id);
  CHECK(FieldOf(*pulled, "phone") == "0611223344");
  CHECK(FieldOf(*pulled, "email") == "e.martin@exemple.fr");
  CHECK(f.store().Conflicts({})->empty());
}

TEST_CASE("a concurrent edit of a review field keeps the server's value and the device's in an open conflict",
          "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  std::string id = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"), {{"status", "demandeur_emploi"}})});
  f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"status", "salarie", "demandeur_emploi"}})});
  sync::Change edit = Update("cases", id, 1, Stamp(kT0 + 2, "b"), {{"status", "etudiant", "demandeur_emploi"}});
  auto response = f.Push(b, {edit});
  CHECK(response.results[0].status == ChangeStatus::kReview);
  CHECK(response.results[0].review_fields == std::vector<std::string>{"status"});
  CHECK(response.results[0].version == 3);
  CHECK(FieldOf(*Pulled(f, b, id), "status") == "salarie");
  auto conflicts = f.store().Conflicts({});
  REQUIRE(conflicts.ok());
  REQUIRE(conflicts->size() == 1);
  const Conflict& c = (*conflicts)[0];
  CHECK(c.status == "open");
  CHECK(c.field == "status");
  CHECK(c.base_value == "demandeur_emploi");
  CHECK(c.server_value == "salarie");
  CHECK(c.server_device == "a");
  CHECK(c.server_hlc == Stamp(kT0 + 1, "a"));
  CHECK(c.device_value == "etudiant");
  CHECK(c.device == "b");
  CHECK(c.device_hlc == Stamp(kT0 + 2, "b"));
  CHECK(c.change_id == edit.change_id);
  CHECK(c.territory == kGap);
  CHECK(c.opened_seq == 3);
}

// A contact created by `a` with phone 0611111111 (version 1), whose phone `a` then set to
// 0622222222 at kT0 + 10 (version 2), while `c` still saw version 1.
struct ContactRace {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled c = f.Enrol("c", {kBastia});
  std::string id = NewId();

  ContactRace() {
    f.Push(a, {CreateContact(id, "0611111111", Stamp(kT0, "a"))});
    f.Push(a, {Update("contacts", id, 1, Stamp(kT0 + 10, "a"), {{"phone", "0622222222", "0611111111"}})});
  }
  sync::PushResponse PhoneFromC(int64_t at_ms) {
    return f.Push(c, {Update("contacts", id, 1, Stamp(at_ms, "c"), {{"phone", "0633333333", "0611111111"}})});
  }
};

TEST_CASE("the later phone number wins on a contact and the other is kept in the history", "[push]") {
  ContactRace race;
  auto [f, a, c, id] = std::tie(race.f, race.a, race.c, race.id);
  auto response = race.PhoneFromC(kT0 + 20);
  CHECK(response.results[0].status == ChangeStatus::kMerged);
  CHECK(FieldOf(*Pulled(f, a, id), "phone") == "0633333333");
  auto history = f.store().History("contacts", id);
  REQUIRE(history->size() == 3);
  auto lost = nlohmann::json::parse(history->back().lost.value());
  CHECK(lost["phone"]["value"] == "0622222222");
  CHECK(lost["phone"]["device"] == "a");
  CHECK(lost["phone"]["hlc"] == Stamp(kT0 + 10, "a"));
}

TEST_CASE("an earlier phone number loses on a contact and is kept in the history", "[push]") {
  ContactRace race;
  auto [f, a, c, id] = std::tie(race.f, race.a, race.c, race.id);
  auto response = race.PhoneFromC(kT0 + 5);
  CHECK(response.results[0].status == ChangeStatus::kMerged);
  CHECK(response.results[0].version == 3);  // a new version, so that c pulls the winning value back
  CHECK(FieldOf(*Pulled(f, c, id), "phone") == "0622222222");
  auto lost = nlohmann::json::parse(f.store().History("contacts", id)->back().lost.value());
  CHECK(lost["phone"]["value"] == "0633333333");
  CHECK(lost["phone"]["device"] == "c");
}

TEST_CASE("a contact created and edited in one batch keeps the create's stamps for the edit's merge", "[push]") {
  // The edit is stamped before the create and does not start from the create's value: the
  // create's phone wins by its stamp. The store reads the record it has just written back within
  // the same transaction (PostgreSQL: from memory), stamps included.
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  const std::string id = NewId();
  auto response = f.Push(a, {CreateContact(id, "0622222222", Stamp(kT0 + 10, "a")),
                             Update("contacts", id, 0, Stamp(kT0 + 5, "a"), {{"phone", "0633333333", "0611111111"}})});
  REQUIRE(response.results.size() == 2);
  CHECK(response.results[1].status == ChangeStatus::kMerged);
  CHECK(FieldOf(*Pulled(f, a, id), "phone") == "0622222222");
  auto lost = nlohmann::json::parse(f.store().History("contacts", id)->back().lost.value());
  CHECK(lost["phone"]["value"] == "0633333333");
}

TEST_CASE("a create whose values fail the schema is rejected by the store unless the decoder checked them", "[push]") {
  // The centre's decoder refuses such a batch whole (4xx) and marks the creates it checked; a
  // change built otherwise is checked by the store, and refused alone.
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  sync::Change bad = CreateCase(NewId(), kGap, Stamp(kT0, "a"), {{"birth_date", "1990-02-30"}});
  sync::Change good = CreateCase(NewId(), kGap, Stamp(kT0 + 1, "a"));
  DecodedPush unchecked = DecodedPush::Unchecked(Batch({bad, good}));
  CHECK_FALSE(unchecked.facts(0).validated);
  CHECK_FALSE(unchecked.facts(1).validated);
  auto reply = f.store().Push(a.device, unchecked);
  REQUIRE(reply.ok());
  const auto& results = reply->response.results;
  REQUIRE(results.size() == 2);
  CHECK(results[0].status == ChangeStatus::kRejected);
  CHECK(results[0].code == "invalid_value");
  CHECK(results[0].reason.find("birth_date") != std::string::npos);
  CHECK(results[1].status == ChangeStatus::kApplied);

  CHECK(Decoded(Batch({CreateCase(NewId(), kGap, Stamp(kT0 + 2, "a"))})).facts(0).validated);
  CHECK_FALSE(DecodedPush::Decode(sync::EncodePushRequest(Batch({bad}))).ok());
}

// Only the decoder vouches for a push: nothing else can make one that claims checks it did not run.
static_assert(!std::is_default_constructible_v<DecodedPush>);
static_assert(!std::is_constructible_v<DecodedPush, sync::PushRequest>);
static_assert(!std::is_constructible_v<DecodedPush, sync::PushRequest, std::vector<sync::ChangeFacts>>);

TEST_CASE("a decoded push carries the hash of its changes, whichever form carried them", "[push]") {
  auto request = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a")),
                        CreateContact(NewId(), "0622222222", Stamp(kT0 + 1, "a"))});
  auto rows = DecodedPush::Decode(sync::EncodePushRequest(request));
  auto runs = DecodedPush::Decode(sync::EncodePushRequestRuns(request));
  REQUIRE(rows.ok());
  REQUIRE(runs.ok());
  CHECK(rows->hash() == sync::PushRequestHash(request));
  CHECK(runs->hash() == rows->hash());
  CHECK(DecodedPush::Unchecked(request).hash() == rows->hash());
}

TEST_CASE("a case created outside the device's territories is rejected and the rest of the batch applies", "[push]") {
  StoreFixture f;
  Enrolled c = f.Enrol("c", {kBastia});
  std::string case_id = NewId(), contact_id = NewId();
  auto response =
      f.Push(c, {CreateCase(case_id, kGap, Stamp(kT0, "c")), CreateContact(contact_id, "0611111111", Stamp(kT0, "c"))});
  REQUIRE(response.results.size() == 2);
  CHECK(response.results[0].status == ChangeStatus::kRejected);
  CHECK(response.results[0].code == "outside_scope");
  CHECK(response.results[0].reason ==
        "le territoire hautes-alpes-gap est hors des territoires de cet appareil (corse-bastia)");
  CHECK(response.results[0].version == 0);
  CHECK(response.results[1].status == ChangeStatus::kApplied);
  CHECK(response.results[1].version == 1);
  CHECK(f.store().History("", case_id)->empty());
}

TEST_CASE("an update of a case of another territory is rejected and changes nothing", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled c = f.Enrol("c", {kBastia});
  std::string id = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"))});
  auto request = Batch({Update("cases", id, 1, Stamp(kT0 + 1, "c"), {{"territory", kBastia, kGap}})});
  auto reply = f.store().Push(c.device, Decoded(request));
  REQUIRE(reply.ok());
  CHECK(reply->response.results[0].status == ChangeStatus::kRejected);
  CHECK(reply->response.results[0].reason ==
        "la fiche " + id + " est inconnue ou hors des territoires de cet appareil");
  CHECK(FieldOf(*Pulled(f, a, id), "territory") == kGap);
  CHECK(f.store().History("cases", id)->size() == 1);
}

TEST_CASE("an update of an unknown record is rejected", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::string id = NewId();
  // Three records first: base version 3 is one this centre gave (docs/PROTOCOL.md, "Base and base version").
  f.Push(a,
         {CreateContact(NewId(), "0611111111", Stamp(kT0, "a")), CreateContact(NewId(), "0622222222", Stamp(kT0, "a")),
          CreateContact(NewId(), "0633333333", Stamp(kT0, "a"))});
  auto response = f.Push(a, {Update("contacts", id, 3, Stamp(kT0 + 1, "a"), {{"phone", "0611111111", std::nullopt}})});
  CHECK(response.results[0].status == ChangeStatus::kRejected);
  CHECK(response.results[0].code == "unknown_record");
  CHECK(response.results[0].reason == "la fiche " + id + " est inconnue ou hors des territoires de cet appareil");
}

TEST_CASE("a create of an id that already exists is rejected", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::string id = NewId();
  f.Push(a, {CreateContact(id, "0611111111", Stamp(kT0, "a"))});
  const std::string case_id = NewId();
  // The refused create, then a new case in the same batch.
  auto response =
      f.Push(a, {CreateContact(id, "0622222222", Stamp(kT0 + 1, "a")), CreateCase(case_id, kGap, Stamp(kT0 + 2, "a"))});
  REQUIRE(response.results.size() == 2);
  CHECK(response.results[0].status == ChangeStatus::kRejected);
  CHECK(response.results[0].code == "record_exists");
  CHECK(response.results[0].reason.find("existe déjà") != std::string::npos);
  CHECK(response.results[0].version == 0);
  // The refusal took no sequence number, and wrote nothing.
  CHECK(response.results[1].version == 2);
  auto contact = Pulled(f, a, id);
  REQUIRE(contact);
  CHECK(contact->table == "contacts");
  CHECK(FieldOf(*contact, "phone") == "0611111111");
  CHECK(f.store().History("", id)->size() == 1);
}

TEST_CASE("a follow-up of a case created earlier in the same batch is applied", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::string case_id = NewId(), followup_id = NewId();
  auto response = f.Push(
      a, {CreateCase(case_id, kGap, Stamp(kT0, "a")), CreateFollowup(followup_id, case_id, Stamp(kT0 + 1, "a"))});
  CHECK(response.results[1].status == ChangeStatus::kApplied);
  CHECK(response.results[1].version == 2);
  CHECK(Pulled(f, a, followup_id).has_value());
}

TEST_CASE("a follow-up of a case of another territory is rejected", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled c = f.Enrol("c", {kBastia});
  std::string case_id = NewId();
  f.Push(a, {CreateCase(case_id, kGap, Stamp(kT0, "a"))});
  auto response = f.Push(c, {CreateFollowup(NewId(), case_id, Stamp(kT0 + 1, "c"))});
  CHECK(response.results[0].status == ChangeStatus::kRejected);
  CHECK(response.results[0].code == "unknown_case");  // as for a case nobody holds
  CHECK(response.results[0].reason == "le dossier " + case_id + " est inconnu ou hors des territoires de cet appareil");
}

TEST_CASE("a follow-up of an unknown case is rejected", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::string case_id = NewId();
  auto response = f.Push(a, {CreateFollowup(NewId(), case_id, Stamp(kT0, "a"))});
  CHECK(response.results[0].status == ChangeStatus::kRejected);
  CHECK(response.results[0].code == "unknown_case");
  CHECK(response.results[0].reason == "le dossier " + case_id + " est inconnu ou hors des territoires de cet appareil");
}

TEST_CASE("a change applied before gets its first outcome again in a new batch", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  sync::Change create = CreateContact(NewId(), "0611111111", Stamp(kT0, "a"));
  f.Push(a, {create});
  auto again = f.Push(a, {create});
  CHECK(again.results[0].status == ChangeStatus::kApplied);
  CHECK(again.results[0].version == 1);
  CHECK(f.Pull(a).next == 1);
}

TEST_CASE("one change id named twice in a batch, for two new records, fails the batch and changes nothing", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  sync::Change first = CreateContact(NewId(), "0611111111", Stamp(kT0, "a"));
  sync::Change second = CreateContact(NewId(), "0622222222", Stamp(kT0 + 1, "a"));
  second.change_id = first.change_id;
  const std::string before = f.Dump();
  // The decoder refuses such a batch whole; the store, given it all the same, refuses it too.
  auto reply = f.store().Push(a.device, DecodedPush::Unchecked(Batch({first, second})));
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code == ErrorCode::kConflict);
  CHECK(ReusedChangeId(reply.error()) == first.change_id);
  CHECK(f.Dump() == before);
}

TEST_CASE("a change id reused by its device for another change in a new batch is refused", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  sync::Change first = CreateContact(NewId(), "0611111111", Stamp(kT0, "a"));
  f.Push(a, {first});
  sync::Change other = CreateContact(NewId(), "0622222222", Stamp(kT0 + 1, "a"));
  other.change_id = first.change_id;
  const std::string before = f.Dump();
  auto reply = f.store().Push(a.device, Decoded(Batch({other})));
  REQUIRE_FALSE(reply.ok());
  CHECK(ReusedChangeId(reply.error()) == first.change_id);
  CHECK(f.Dump() == before);
}

TEST_CASE("another device's change of the same id is another change", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  sync::Change first = CreateContact(NewId(), "0611111111", Stamp(kT0, "a"));
  f.Push(a, {first});
  sync::Change other = CreateContact(NewId(), "0622222222", Stamp(kT0 + 1, "b"));
  other.change_id = first.change_id;
  auto response = f.Push(b, {other});
  CHECK(response.results[0].status == ChangeStatus::kApplied);
  CHECK(response.results[0].version == 2);
  CHECK(f.Pull(b).next == 2);
}

TEST_CASE("a retried batch gets the same answer and is applied once", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto request =
      Batch({CreateCase(NewId(), kGap, Stamp(kT0, "a")), CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))});
  auto first = f.store().Push(a.device, Decoded(request));
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed);
  std::string after_first = f.Dump();
  auto second = f.store().Push(a.device, Decoded(request));
  REQUIRE(second.ok());
  CHECK(second->replayed);
  CHECK(second->json == first->json);
  CHECK(f.Dump() == after_first);
}

TEST_CASE("a batch key reused for other changes is refused as a conflict", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto request = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))}, "batch-1");
  REQUIRE(f.store().Push(a.device, Decoded(request)).ok());
  std::string before = f.Dump();
  auto other = Batch({CreateContact(NewId(), "0622222222", Stamp(kT0, "a"))}, "batch-1");
  auto reply = f.store().Push(a.device, Decoded(other));
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code == ErrorCode::kConflict);
  CHECK(f.Dump() == before);
}

TEST_CASE("a batch stored with the first form of the hash is known again by the current one", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto request = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))}, "batch-v1");
  auto first = f.store().Push(a.device, Decoded(request));
  REQUIRE(first.ok());
  // As a centre before hashes had a version kept it.
  f.ExecuteSql("UPDATE push_batches SET request_hash = '" + sync::PushRequestHashV1(request) +
               "' WHERE batch_key = 'batch-v1'");
  std::string after_first = f.Dump();
  auto again = f.store().Push(a.device, Decoded(request));
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->json == first->json);
  CHECK(f.Dump() == after_first);
  auto other = Batch({CreateContact(NewId(), "0622222222", Stamp(kT0, "a"))}, "batch-v1");
  auto refused = f.store().Push(a.device, Decoded(other));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kConflict);
  CHECK(f.Dump() == after_first);
}

TEST_CASE("the same batch key from two devices is two batches", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  auto from_a = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))}, "batch-1");
  auto from_b = Batch({CreateContact(NewId(), "0622222222", Stamp(kT0, "b"))}, "batch-1");
  REQUIRE(f.store().Push(a.device, Decoded(from_a)).ok());
  auto reply = f.store().Push(b.device, Decoded(from_b));
  REQUIRE(reply.ok());
  CHECK(reply->response.results[0].version == 2);
}

TEST_CASE("an update to the value the server already holds keeps the version", "[push]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::string id = NewId();
  f.Push(a, {CreateContact(id, "0611111111", Stamp(kT0, "a"))});
  auto response = f.Push(a, {Update("contacts", id, 1, Stamp(kT0 + 1, "a"), {{"phone", "0611111111", "0611111111"}})});
  CHECK(response.results[0].status == ChangeStatus::kApplied);
  CHECK(response.results[0].version == 1);
  CHECK(f.store().History("contacts", id)->size() == 1);
}

TEST_CASE("the history keeps every version of a record with its author", "[history]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  std::string id = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"))});
  f.Push(b, {Update("cases", id, 1, Stamp(kT0 + 1, "b"), {{"phone", "0611223344", std::nullopt}})});
  f.clock().Advance(3600LL * 1000);
  f.Push(a, {Update("cases", id, 2, Stamp(kT0 + 2, "a"), {{"phone", "0699887766", "0611223344"}})});
  auto history = f.store().History("cases", id);
  REQUIRE(history.ok());
  REQUIRE(history->size() == 3);
  CHECK((*history)[0].seq == 1);
  CHECK((*history)[1].device == "b");
  CHECK((*history)[2].seq == 3);
  CHECK((*history)[2].at == "2027-01-01T01:00:00Z");
  CHECK(nlohmann::json::parse((*history)[1].snapshot)["phone"] == "0611223344");
  CHECK(nlohmann::json::parse((*history)[2].snapshot)["phone"] == "0699887766");
  CHECK_FALSE((*history)[2].lost.has_value());
}

TEST_CASE("a stamp a month in the future is clamped to the centre's time and keeps the batch's order",
          "[push][clock]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {"hautes-alpes-gap"});
  Enrolled c = f.Enrol("c", {"hautes-alpes-gap"});
  const std::string id = NewId();
  const int64_t month = 30LL * 24 * 3600 * 1000;
  f.clock().Set(kT0 + 1000);
  // a's clock is a month ahead: a creates a contact then changes its phone twice, in one batch.
  sync::PushRequest request;
  request.batch_key = "future";
  request.changes = {CreateContact(id, "0611111111", Stamp(kT0 + month, "a")),
                     Update("contacts", id, 1, Stamp(kT0 + month + 5, "a"), {{"phone", "0622222222", "0611111111"}}),
                     Update("contacts", id, 1, Stamp(kT0 + month + 9, "a"), {{"phone", "0633333333", "0622222222"}})};
  auto reply = f.store().Push(a.device, Decoded(request));
  REQUIRE(reply.ok());
  CHECK(reply->clamped == 3);
  auto history = f.store().History("contacts", id);
  REQUIRE(history->size() == 3);
  CHECK(history->at(0).hlc == sync::Hlc{kT0 + 1000, 0, "a"}.ToString());
  CHECK(history->at(1).hlc == sync::Hlc{kT0 + 1000, 1, "a"}.ToString());
  CHECK(history->at(2).hlc == sync::Hlc{kT0 + 1000, 2, "a"}.ToString());
  CHECK(FieldOf(*Pulled(f, c, id), "phone") == "0633333333");  // the order within the batch held

  // c, on time, changes the phone a minute later: c wins, as it would have without a's wrong date.
  f.clock().Set(kT0 + 61000);
  auto later = f.Push(c, {Update("contacts", id, 3, Stamp(kT0 + 60000, "c"), {{"phone", "0644444444", "0633333333"}})});
  CHECK(later.results[0].status == ChangeStatus::kApplied);
  CHECK(FieldOf(*Pulled(f, a, id), "phone") == "0644444444");
}

TEST_CASE("a stamp a few minutes ahead is taken as it is", "[push][clock]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {"hautes-alpes-gap"});
  const std::string id = NewId();
  sync::PushRequest request;
  request.batch_key = "near";
  request.changes = {CreateContact(id, "0611111111", Stamp(kT0 + 4LL * 60 * 1000, "a"))};
  auto reply = f.store().Push(a.device, Decoded(request));
  REQUIRE(reply.ok());
  CHECK(reply->clamped == 0);
  CHECK(f.store().History("contacts", id)->at(0).hlc == Stamp(kT0 + 4LL * 60 * 1000, "a"));
}

}  // namespace
}  // namespace relais::server::testing
