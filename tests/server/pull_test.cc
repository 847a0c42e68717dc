// Pull: scope, paging, cursors and scope exits, from the SQLite central store.
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

std::vector<std::string> Removed(const sync::PullPage& page) {
  std::vector<std::string> ids;
  for (const auto& r : page.removed) ids.push_back(r.table + ":" + r.record_id + "@" + std::to_string(r.seq));
  return ids;
}

TEST_CASE("a device pulls the cases of its territories and every contact", "[pull]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled c = f.Enrol("c", {kBastia});
  std::string case_id = NewId(), followup_id = NewId(), contact_id = NewId();
  f.Push(a, {CreateCase(case_id, kGap, Stamp(kT0, "a")), CreateFollowup(followup_id, case_id, Stamp(kT0, "a")),
             CreateContact(contact_id, "0611111111", Stamp(kT0, "a"))});
  CHECK(Ids(f.Pull(a)) == std::vector<std::string>{"cases:" + case_id + "@1", "followups:" + followup_id + "@2",
                                                   "contacts:" + contact_id + "@3"});
  CHECK(Ids(f.Pull(c)) == std::vector<std::string>{"contacts:" + contact_id + "@3"});
}

TEST_CASE("pull pages follow the sequence with the next cursor and whether more remain", "[pull]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::vector<sync::Change> changes;
  changes.reserve(5);
  for (int i = 0; i < 5; ++i) changes.push_back(CreateContact(NewId(), "0611111111", Stamp(kT0, "a")));
  f.Push(a, changes);
  sync::PullPage first = f.Pull(a, 0, 2);
  CHECK(first.records.size() == 2);
  CHECK(first.more);
  CHECK(first.next == 2);
  sync::PullPage second = f.Pull(a, first.next, 2);
  CHECK(second.records[0].record.version == 3);
  CHECK(second.next == 4);
  CHECK(second.more);
  sync::PullPage last = f.Pull(a, second.next, 2);
  CHECK(last.records.size() == 1);
  CHECK_FALSE(last.more);
  CHECK(last.next == 5);
}

TEST_CASE("a device of several territories pulls their records interleaved in sequence order, page by page", "[pull]") {
  // Each territory is read on its own (in version order) and the reads merged: pages must still
  // follow the sequence across territories and tables, and cover every record once.
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap, kBastia});
  std::vector<sync::Change> changes;
  std::vector<int64_t> versions;
  for (int i = 0; i < 9; ++i) {
    if (i % 3 == 2) {
      changes.push_back(CreateContact(NewId(), "0611111111", Stamp(kT0, "a")));
    } else {
      changes.push_back(CreateCase(NewId(), i % 3 == 0 ? kGap : kBastia, Stamp(kT0, "a")));
    }
  }
  f.Push(a, changes);
  std::vector<int64_t> pulled;
  int64_t cursor = 0;
  for (bool more = true; more;) {
    sync::PullPage page = f.Pull(a, cursor, 2);
    CHECK(page.records.size() <= 2);
    std::vector<int64_t> in_page;
    for (const sync::PulledRecord& r : page.records) in_page.push_back(r.record.version);
    std::sort(in_page.begin(), in_page.end());
    for (int64_t v : in_page) {
      CHECK(v > cursor);
      CHECK(v <= page.next);
      pulled.push_back(v);
    }
    cursor = page.next;
    more = page.more;
  }
  CHECK(pulled == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(cursor == 9);
}

TEST_CASE("a cursor beyond the centre's latest sequence gets an empty last page whose next is the centre's", "[pull]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  f.Push(a, {CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))});
  sync::PullPage at_end = f.Pull(a, 1);
  CHECK(at_end.records.empty());
  CHECK(at_end.next == 1);
  // A centre restored from an older backup: the device's cursor is ahead. The page says where the
  // centre is, below the cursor, and the device recovers with a fresh copy.
  auto beyond = f.store().Pull(a.device, 2, 10, false);
  REQUIRE(beyond.ok());
  CHECK_FALSE(beyond->more);
  CHECK(beyond->records.empty());
  CHECK(beyond->next == 1);
}

TEST_CASE("an idle device's cursor moves to the last sequence", "[pull]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled c = f.Enrol("c", {kBastia});
  f.Push(a, {CreateCase(NewId(), kGap, Stamp(kT0, "a")), CreateCase(NewId(), kGap, Stamp(kT0, "a"))});
  sync::PullPage page = f.Pull(c);
  CHECK(page.records.empty());
  CHECK(page.removed.empty());
  CHECK_FALSE(page.more);
  CHECK(page.next == 2);
  CHECK(f.Pull(c, page.next).next == 2);
}

TEST_CASE("a record appears once, at its latest version", "[pull]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::string id = NewId();
  f.Push(a, {CreateContact(id, "0611111111", Stamp(kT0, "a"))});
  f.Push(a, {Update("contacts", id, 1, Stamp(kT0 + 1, "a"), {{"phone", "0622222222", "0611111111"}})});
  CHECK(Ids(f.Pull(a)) == std::vector<std::string>{"contacts:" + id + "@2"});
}

// A case with one follow-up in Gap (versions 1, 2), then handed over to Bastia by `a`: the case
// takes version 3, its scope exit 4, the follow-up version 5 and its scope exit 6.
struct MovedCase {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled c = f.Enrol("c", {kBastia});
  std::string case_id = NewId();
  std::string followup_id = NewId();
  sync::PushResponse move;

  MovedCase() {
    f.Push(a, {CreateCase(case_id, kGap, Stamp(kT0, "a")), CreateFollowup(followup_id, case_id, Stamp(kT0, "a"))});
    move = f.Push(a, {Update("cases", case_id, 1, Stamp(kT0 + 1, "a"), {{"territory", kBastia, kGap}})});
  }
};

TEST_CASE("a device may hand a case over to a territory outside its scope", "[pull]") {
  MovedCase m;
  CHECK(m.move.results[0].status == sync::ChangeStatus::kApplied);
  CHECK(m.move.results[0].version == 3);
}

TEST_CASE("a case moved to another territory leaves the replicas of the old one with its follow-ups", "[pull]") {
  MovedCase m;
  sync::PullPage page = m.f.Pull(m.a, 2);
  CHECK(page.records.empty());
  CHECK(Removed(page) == std::vector<std::string>{"cases:" + m.case_id + "@4", "followups:" + m.followup_id + "@6"});
  CHECK(page.next == 6);
}

TEST_CASE("a case moved to another territory reaches its devices with its follow-ups re-versioned", "[pull]") {
  MovedCase m;
  sync::PullPage page = m.f.Pull(m.c, 0);
  CHECK(Ids(page) == std::vector<std::string>{"cases:" + m.case_id + "@3", "followups:" + m.followup_id + "@5"});
  CHECK(page.removed.empty());
}

TEST_CASE("a device of both territories keeps a case moved between them", "[pull]") {
  MovedCase m;
  Enrolled both = m.f.Enrol("both", {kGap, kBastia});
  sync::PullPage page = m.f.Pull(both, 2);
  CHECK(Ids(page) == std::vector<std::string>{"cases:" + m.case_id + "@3", "followups:" + m.followup_id + "@5"});
  CHECK(page.removed.empty());
}

TEST_CASE("the old territory can no longer edit a case handed over", "[pull]") {
  MovedCase m;
  // Once it has pulled the move (docs/PROTOCOL.md, "Work on a case that left the device's territories").
  m.f.Pull(m.a, m.f.Pull(m.a, 0).next);
  auto again = m.f.store().Authenticate(m.a.token);
  REQUIRE(again.ok());
  m.a.device = *again;
  auto response =
      m.f.Push(m.a, {Update("cases", m.case_id, 3, Stamp(kT0 + 2, "a"), {{"phone", "0611223344", std::nullopt}})});
  CHECK(response.results[0].status == sync::ChangeStatus::kRejected);
  CHECK(response.results[0].code == "unknown_record");
  // The same reason as for an id nobody holds: the territory it went to is not named.
  CHECK(response.results[0].reason ==
        "la fiche " + m.case_id + " est inconnue ou hors des territoires de cet appareil");
}

}  // namespace
}  // namespace relais::server::testing
