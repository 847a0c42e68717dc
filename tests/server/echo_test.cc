// Echo: the centre marks a record as held by the device whose change made it exactly what it is,
// and that device's pulls with `echo=0` leave it out (docs/PROTOCOL.md, "Echo"). On both stores.
#include <random>
#include <set>

#include "server/pull_page.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

bool Holds(const sync::PullPage& page, const std::string& id) {
  for (const auto& r : page.records) {
    if (r.record.id == id) return true;
  }
  return false;
}

// Pushes `change` as a device sends it: encoded, then read by the centre's decoder, which may
// normalise its values. Returns whether it did.
bool PushThroughDecoder(StoreFixture& f, const Enrolled& who, const sync::Change& change) {
  DecodedPush push = Decoded(Batch({change}));
  REQUIRE(f.store().Push(who.device, push).ok());
  return push.facts(0).normalized;
}

}  // namespace

TEST_CASE("a device's own creates are left out of its pull without echo, and reach every other device", "[echo]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  std::string case_id = NewId(), followup_id = NewId(), contact_id = NewId();
  f.Push(a, {CreateCase(case_id, kGap, Stamp(kT0, "a")), CreateFollowup(followup_id, case_id, Stamp(kT0, "a")),
             CreateContact(contact_id, "0611111111", Stamp(kT0, "a"))});
  sync::PullPage own = f.Pull(a, 0, 5000, true);
  CHECK(own.records.empty());
  CHECK(own.next == 3);
  CHECK_FALSE(own.more);
  // Asked with the echo (an older client, or a fresh copy), the same device gets everything.
  CHECK(Ids(f.Pull(a)) == std::vector<std::string>{"cases:" + case_id + "@1", "followups:" + followup_id + "@2",
                                                   "contacts:" + contact_id + "@3"});
  CHECK(Ids(f.Pull(b, 0, 5000, true)) == std::vector<std::string>{"cases:" + case_id + "@1",
                                                                  "followups:" + followup_id + "@2",
                                                                  "contacts:" + contact_id + "@3"});
}

TEST_CASE("left-out records count in the page's limit and the cursor passes them", "[echo]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  std::vector<sync::Change> mine;
  for (int i = 0; i < 4; ++i) mine.push_back(CreateContact(NewId(), "0611111111", Stamp(kT0, "a")));
  f.Push(a, mine);  // versions 1-4
  std::string theirs = NewId();
  f.Push(b, {CreateContact(theirs, "0622222222", Stamp(kT0, "b"))});  // version 5
  if (f.on_postgres()) {
    // Every source's rows are fetched up front: an echo counts as a whole item.
    sync::PullPage first = f.Pull(a, 0, 3, true);
    CHECK(first.records.empty());
    CHECK(first.next == 3);
    CHECK(first.more);
    sync::PullPage second = f.Pull(a, first.next, 3, true);
    CHECK(Ids(second) == std::vector<std::string>{"contacts:" + theirs + "@5"});
    CHECK(second.next == 5);
    CHECK_FALSE(second.more);
  } else {
    // Rows read as they are taken: an echo counts as 1/kEchoScan of one, so the first page of 3
    // passes the 4 echoes and still holds 3 items' worth of room.
    sync::PullPage first = f.Pull(a, 0, 3, true);
    CHECK(Ids(first) == std::vector<std::string>{"contacts:" + theirs + "@5"});
    CHECK(first.next == 5);
    CHECK_FALSE(first.more);
  }
}

TEST_CASE("a page passes at most kEchoScan times its limit of echoes, and loses nothing after them", "[echo]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  const size_t scan = f.on_postgres() ? 1 : kEchoScan;
  const size_t limit = 2;
  std::vector<sync::Change> mine;
  for (size_t i = 0; i < limit * scan + 3; ++i) mine.push_back(CreateContact(NewId(), "0611111111", Stamp(kT0, "a")));
  f.Push(a, mine);
  const int64_t echoes = static_cast<int64_t>(mine.size());
  std::vector<std::string> theirs;
  std::vector<sync::Change> other;
  for (int i = 0; i < 3; ++i) {
    theirs.push_back(NewId());
    other.push_back(CreateContact(theirs.back(), "0622222222", Stamp(kT0, "b")));
  }
  f.Push(b, other);
  // Page by page, A gets exactly B's three records, each once, whatever the pages' sizes.
  std::vector<std::string> got;
  int64_t cursor = 0;
  sync::PullPage page = f.Pull(a, cursor, limit, true);
  CHECK(page.records.empty());
  CHECK(page.next == static_cast<int64_t>(limit * scan));  // bounded: limit × kEchoScan echoes
  CHECK(page.more);
  for (int pages = 0; pages < 100; ++pages) {
    for (const auto& r : page.records) got.push_back(r.record.id);
    cursor = page.next;
    if (!page.more) break;
    page = f.Pull(a, cursor, limit, true);
  }
  CHECK(got == theirs);
  CHECK(cursor == echoes + 3);
}

TEST_CASE("paged without echo at any limit, a device gets every other record and notice once, in order", "[echo]") {
  // Seeded interleavings of both devices' creates. Every case is a "Martin Élodie", so each one after
  // the first opens a duplicate conflict at its own sequence number: a notice beside a record left
  // out, in another source of the same sequence.
  for (unsigned seed = 1; seed <= 6; ++seed) {
    CAPTURE(seed);
    StoreFixture f;
    Enrolled a = f.Enrol("a", {kGap});
    Enrolled b = f.Enrol("b", {kGap});
    std::mt19937 random(seed);
    std::set<std::string> made_by_a;
    int64_t changes = 0;
    for (int i = 0; i < 40; ++i) {
      const bool by_a = random() % 3 != 0;
      const Enrolled& who = by_a ? a : b;
      std::vector<sync::Change> batch;
      for (unsigned n = 1 + random() % 3; n > 0; --n) {
        std::string id = NewId();
        if (by_a) made_by_a.insert(id);
        const std::string stamp = Stamp(kT0 + i, by_a ? "a" : "b");
        batch.push_back(random() % 2 ? CreateCase(id, kGap, stamp, {{"birth_date", "1990-04-12"}})
                                     : CreateContact(id, "0611111111", stamp));
      }
      changes += static_cast<int64_t>(batch.size());
      f.Push(who, batch);
    }
    // What a device asking with its echo gets in one page, less its own records.
    sync::PullPage everything = f.Pull(a, 0, 5000, false);
    REQUIRE_FALSE(everything.more);
    std::vector<std::string> expected_records;
    for (const auto& r : everything.records) {
      if (!made_by_a.count(r.record.id))
        expected_records.push_back(r.table + ":" + r.record.id + "@" + std::to_string(r.record.version));
    }
    std::vector<int64_t> expected_notices;
    for (const auto& n : everything.conflicts) expected_notices.push_back(n.id);
    REQUIRE(expected_notices.size() > 3);

    std::vector<std::string> records;
    std::vector<int64_t> notices;
    int64_t cursor = 0;
    for (int pages = 0;; ++pages) {
      REQUIRE(pages < 1000);
      const size_t limit = 1 + random() % 4;
      sync::PullPage page = f.Pull(a, cursor, limit, true);
      CHECK(page.next >= cursor);
      CHECK(page.records.size() + page.conflicts.size() <= limit + 4);  // a sequence is never split
      for (const std::string& id : Ids(page)) records.push_back(id);
      for (const auto& n : page.conflicts) notices.push_back(n.id);
      cursor = page.next;
      if (!page.more) break;
    }
    CHECK(records == expected_records);
    CHECK(notices == expected_notices);
    CHECK(cursor == changes);
  }
}

TEST_CASE("an update applied on the version the device holds is its echo; a merged one is not", "[echo]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  std::string id = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"))});  // version 1

  SECTION("applied on the current version: left out for its author only") {
    auto r = f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"phone", "0611111111", std::nullopt}})});
    REQUIRE(r.results[0].status == sync::ChangeStatus::kApplied);
    CHECK(f.Pull(a, 1, 5000, true).records.empty());
    CHECK(Ids(f.Pull(b, 1, 5000, true)) == std::vector<std::string>{"cases:" + id + "@2"});
  }
  SECTION("another device wrote in between: merged, and sent back to its author") {
    f.Push(b, {Update("cases", id, 1, Stamp(kT0 + 1, "b"), {{"email", "b@exemple.fr", std::nullopt}})});  // v2
    auto r = f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 2, "a"), {{"phone", "0611111111", std::nullopt}})});
    REQUIRE(r.results[0].status == sync::ChangeStatus::kMerged);
    CHECK(Ids(f.Pull(a, 1, 5000, true)) == std::vector<std::string>{"cases:" + id + "@3"});
    CHECK(Ids(f.Pull(b, 2, 5000, true)) == std::vector<std::string>{"cases:" + id + "@3"});
  }
  SECTION("a same-field edit held for review is sent back to its author") {
    f.Push(b, {Update("cases", id, 1, Stamp(kT0 + 1, "b"), {{"status", "salarie", std::nullopt}})});  // v2, b's own
    CHECK(f.Pull(b, 1, 5000, true).records.empty());
    auto r = f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 2, "a"), {{"status", "etudiant", std::nullopt}})});
    REQUIRE(r.results[0].status == sync::ChangeStatus::kReview);
    CHECK(Ids(f.Pull(a, 1, 5000, true)) == std::vector<std::string>{"cases:" + id + "@3"});
    CHECK(Ids(f.Pull(b, 2, 5000, true)) == std::vector<std::string>{"cases:" + id + "@3"});
  }
  SECTION("another device's later write takes the mark away") {
    f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"phone", "0611111111", std::nullopt}})});    // v2, a's
    f.Push(b, {Update("cases", id, 2, Stamp(kT0 + 2, "b"), {{"email", "b@exemple.fr", std::nullopt}})});  // v3, b's
    CHECK(Ids(f.Pull(a, 1, 5000, true)) == std::vector<std::string>{"cases:" + id + "@3"});
    CHECK(f.Pull(b, 2, 5000, true).records.empty());
  }
}

TEST_CASE("a create the centre normalises or redirects is sent back to its author", "[echo]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  SECTION("a value normalised by the decoder") {
    // What a device sends reaches the store through the decoder: "06 11 22 33 44" is stored as
    // 0611223344, which the device's row does not hold.
    std::string id = NewId();
    CHECK(PushThroughDecoder(f, a, CreateCase(id, kGap, Stamp(kT0, "a"), {{"phone", "06 11 22 33 44"}})));
    sync::PullPage page = f.Pull(a, 0, 5000, true);
    REQUIRE(Holds(page, id));
    CHECK(page.records[0].record.values[static_cast<size_t>(schema::CasesTable().FieldIndex("phone"))] == "0611223344");
  }
  SECTION("values already in canonical form are the device's own") {
    CHECK_FALSE(PushThroughDecoder(f, a, CreateCase(NewId(), kGap, Stamp(kT0, "a"), {{"phone", "0611223344"}})));
    CHECK(f.Pull(a, 0, 5000, true).records.empty());
  }
  SECTION("a follow-up written on a case merged since goes to the survivor, and back to its author") {
    Enrolled b = f.Enrol("b", {kGap});
    std::string first = NewId(), second = NewId();
    f.Push(b, {CreateCase(first, kGap, Stamp(kT0, "b"), {{"birth_date", "1990-04-12"}})});
    f.Push(a, {CreateCase(second, kGap, Stamp(kT0 + 1, "a"), {{"birth_date", "1990-04-12"}})});
    // A duplicate is a conflict about the new case; the case itself is a's as sent.
    CHECK_FALSE(Holds(f.Pull(a, 0, 5000, true), second));
    auto open = f.store().Conflicts(ConflictFilter{});
    REQUIRE(open.ok());
    REQUIRE(open->size() == 1);
    REQUIRE(f.store().Merge(open->front().id, {}, "camille").ok());
    const int64_t after_merge = f.Pull(a).next;
    std::string followup = NewId();
    f.Push(a, {CreateFollowup(followup, second, Stamp(kT0 + 2, "a"))});
    sync::PullPage page = f.Pull(a, after_merge, 5000, true);
    REQUIRE(Holds(page, followup));
    for (const auto& r : page.records) {
      if (r.record.id == followup) {
        CHECK(r.record.values[static_cast<size_t>(schema::FollowupsTable().FieldIndex("case_id"))] == first);
      }
    }
  }
}

TEST_CASE("central staff's settlement and a case's move are pulled by the device that wrote the record", "[echo]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap, kBastia});
  Enrolled b = f.Enrol("b", {kGap});
  std::string id = NewId(), followup = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a")), CreateFollowup(followup, id, Stamp(kT0, "a"))});  // v1, v2
  SECTION("a settlement") {
    f.Push(b, {Update("cases", id, 1, Stamp(kT0 + 1, "b"), {{"status", "salarie", std::nullopt}})});   // v3
    f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 2, "a"), {{"status", "etudiant", std::nullopt}})});  // v4, review
    auto open = f.store().Conflicts(ConflictFilter{});
    REQUIRE(open.ok());
    REQUIRE(open->size() == 1);
    const int64_t before = f.Pull(a).next;
    REQUIRE(f.store().Resolve(open->front().id, Decision{Decision::Keep::kDevice, {}}, "camille").ok());
    CHECK(Ids(f.Pull(a, before, 5000, true)) ==
          std::vector<std::string>{"cases:" + id + "@" + std::to_string(before + 1)});
  }
  SECTION("a move by the device itself: its follow-ups take a new version, which it pulls") {
    auto r = f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"territory", kBastia, kGap}})});
    REQUIRE(r.results[0].status == sync::ChangeStatus::kApplied);
    sync::PullPage page = f.Pull(a, 2, 5000, true);
    CHECK_FALSE(Holds(page, id));
    CHECK(Holds(page, followup));
  }
}

}  // namespace relais::server::testing
