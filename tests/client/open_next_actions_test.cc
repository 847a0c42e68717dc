// The open next actions the agenda reads (replica migration 0019, client/bulk_load.h): whatever
// order and page size a pull brings follow-ups in, whatever a device writes or a removal takes, the
// table holds exactly the entries whose next action nothing has followed up — computed here again
// from the rule itself (docs/CLI.md, "Agenda"), not from the SQL that keeps it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "base/ids.h"
#include "client/replica_port.h"
#include "tests/client/fixture.h"

using namespace relais;
using namespace relais::client;
using namespace relais::client::testing;

namespace {

const schema::Table& Followups() { return schema::FollowupsTable(); }

struct Entry {
  std::string id, case_id, date, next_date, amends;
};

// A territory's follow-ups: `cases` cases, a few entries each at random dates (some on the same
// day), one in three calling for a next action, one in ten correcting or withdrawing an earlier
// entry of its case. Ids in the order they were made, as UUIDv7 are.
std::vector<Entry> MakeEntries(int cases, std::mt19937& rng) {
  std::vector<Entry> out;
  int64_t ms = 1772409600000;
  for (int c = 0; c < cases; ++c) {
    const std::string case_id = NewUuidV7(ms++);
    const int n = 1 + static_cast<int>(rng() % 6);
    std::vector<size_t> mine;
    for (int k = 0; k < n; ++k) {
      Entry e;
      e.id = NewUuidV7(ms++);
      e.case_id = case_id;
      e.date = "2026-0" + std::to_string(1 + rng() % 3) + "-1" + std::to_string(rng() % 3);
      if (rng() % 3 == 0) e.next_date = "2026-04-2" + std::to_string(rng() % 10);
      if (!mine.empty() && rng() % 10 == 0) e.amends = out[mine[rng() % mine.size()]].id;
      mine.push_back(out.size());
      out.push_back(std::move(e));
    }
  }
  // Entries of different cases interleave in the centre's version order.
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

// The rule, from the entries held: an entry with a next action is open while no entry of its case
// that amends nothing comes after it (a later date, or the same date and a later id) and no entry
// amends it. Sorted ids.
std::vector<std::string> OpenByTheRule(const std::vector<Entry>& held) {
  std::set<std::string> amended;
  for (const Entry& e : held)
    if (!e.amends.empty()) amended.insert(e.amends);
  std::vector<std::string> open;
  for (const Entry& e : held) {
    if (e.next_date.empty() || amended.count(e.id) > 0) continue;
    const bool followed = std::any_of(held.begin(), held.end(), [&](const Entry& later) {
      return later.case_id == e.case_id && later.amends.empty() &&
             std::tie(later.date, later.id) > std::tie(e.date, e.id);
    });
    if (!followed) open.push_back(e.id);
  }
  std::sort(open.begin(), open.end());
  return open;
}

sync::PulledRecord Pulled(const Entry& e, int64_t version) {
  schema::Record r;
  r.id = e.id;
  r.version = version;
  r.values.resize(Followups().fields.size());
  auto set = [&](std::string_view field, const std::string& value) {
    if (!value.empty()) r.values[static_cast<size_t>(Followups().FieldIndex(field))] = value;
  };
  set("case_id", e.case_id);
  set("kind", "entretien");
  set("date", e.date);
  set("text", "Point d'étape.");
  set("next_date", e.next_date);
  set("amends", e.amends);
  if (!e.amends.empty()) set("amendment", "correction");
  return {"followups", r};
}

// Applies `entries` as pulled pages of `page_size` records.
void Pull(SqliteReplicaPort& port, const std::vector<Entry>& entries, size_t page_size, int64_t& version) {
  for (size_t from = 0; from < entries.size(); from += page_size) {
    sync::PullPage page;
    page.since = version;
    for (size_t i = from; i < std::min(entries.size(), from + page_size); ++i)
      page.records.push_back(Pulled(entries[i], ++version));
    page.next = version;
    page.more = from + page_size < entries.size();
    REQUIRE(port.ApplyPage(page).ok());
  }
}

std::vector<std::string> Ids(TestReplica& t, const std::string& sql) {
  auto stmt = t.replica().db().Prepare(sql);
  REQUIRE(stmt.ok());
  std::vector<std::string> out;
  while (true) {
    auto row = stmt->Step();
    REQUIRE(row.ok());
    if (!*row) break;
    out.push_back(stmt->Text(0));
  }
  return out;
}

std::vector<std::string> Lines(TestReplica& t) {
  return Ids(t, "SELECT followup_id FROM open_next_actions ORDER BY followup_id");
}

}  // namespace

TEST_CASE("the open next actions follow the rule whatever the pages a pull brings", "[replica_port][agenda]") {
  std::mt19937 rng(29);
  const std::vector<Entry> entries = MakeEntries(400, rng);
  const std::vector<std::string> expected = OpenByTheRule(entries);
  REQUIRE(expected.size() >= 20);  // the rule has something to say, and not everything is open
  REQUIRE(expected.size() < static_cast<size_t>(std::count_if(entries.begin(), entries.end(),
                                                               [](const Entry& e) { return !e.next_date.empty(); })));

  // In pages of 300 (each kept in bulk at its end), of 7 (entry by entry, by the triggers), and in
  // pages of 300 again after half the entries came in small pages.
  for (size_t first_pages : {size_t{0}, entries.size(), entries.size() / 2}) {
    TestReplica t;
    SqliteReplicaPort port(t.replica());
    int64_t version = 0;
    const std::vector<Entry> head(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(first_pages));
    const std::vector<Entry> tail(entries.begin() + static_cast<std::ptrdiff_t>(first_pages), entries.end());
    Pull(port, head, 7, version);
    Pull(port, tail, 300, version);
    INFO("entries pulled in small pages first: " << first_pages);
    CHECK(Lines(t) == expected);
    // The lines are the view's (what open is, said once in SQL) and say what it says.
    CHECK(Lines(t) == Ids(t, "SELECT id FROM open_followups ORDER BY id"));
    CHECK(t.Scalar("SELECT count(*) FROM open_next_actions o JOIN followups f ON f.id = o.followup_id WHERE "
                   "o.case_id = f.case_id AND o.date = f.date AND o.next_date = f.next_date") ==
          static_cast<int64_t>(expected.size()));
  }
}

TEST_CASE("a case removed takes its open next actions; an entry removed opens the one it followed",
          "[replica_port][agenda]") {
  std::mt19937 rng(31);
  std::vector<Entry> entries = MakeEntries(60, rng);
  TestReplica t;
  SqliteReplicaPort port(t.replica());
  int64_t version = 0;
  Pull(port, entries, 300, version);
  REQUIRE(Lines(t) == OpenByTheRule(entries));

  // A case leaves the device's scope: its follow-ups go, and their lines with them.
  const std::vector<std::string> before = Lines(t);
  REQUIRE_FALSE(before.empty());
  const std::string gone =
      std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.id == before.front(); })->case_id;
  REQUIRE_FALSE(gone.empty());
  sync::PullPage page;
  page.since = version;
  page.next = ++version;
  page.removed.push_back({"cases", gone, version});
  REQUIRE(port.ApplyPage(page).ok());
  entries.erase(std::remove_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.case_id == gone; }),
                entries.end());
  CHECK(t.Scalar("SELECT count(*) FROM open_next_actions WHERE case_id = '" + gone + "'") == 0);
  CHECK(Lines(t) == OpenByTheRule(entries));

  // One entry deleted on its own (the last entry of a case that followed up an earlier one with a
  // next action): the earlier one is open again.
  std::set<std::string> amended;
  for (const Entry& e : entries) amended.insert(e.amends);
  const auto lines_now = Lines(t);
  const auto followed = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) {
    return !e.next_date.empty() && e.amends.empty() && amended.count(e.id) == 0 &&
           std::find(lines_now.begin(), lines_now.end(), e.id) == lines_now.end();
  });
  REQUIRE(followed != entries.end());
  std::vector<Entry> rest = entries;
  bool opened = false;
  while (!opened) {
    // The latest entry of that case goes, until the earlier one is open again.
    auto last = std::max_element(rest.begin(), rest.end(), [&](const Entry& a, const Entry& b) {
      const bool a_mine = a.case_id == followed->case_id, b_mine = b.case_id == followed->case_id;
      if (a_mine != b_mine) return !a_mine;
      return std::tie(a.date, a.id) < std::tie(b.date, b.id);
    });
    REQUIRE(last->case_id == followed->case_id);
    REQUIRE(last->id != followed->id);
    REQUIRE(t.replica().db().Exec("DELETE FROM followups WHERE id = '" + last->id + "'").ok());
    rest.erase(last);
    CHECK(Lines(t) == OpenByTheRule(rest));
    const auto lines = Lines(t);
    opened = std::find(lines.begin(), lines.end(), followed->id) != lines.end();
  }
}
