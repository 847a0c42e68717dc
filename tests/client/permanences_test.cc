// The sessions of a permanence as client/permanences.h computes them from the synced records: the
// recurrence, and the fate of a session that devices cancelled and moved concurrently.
#include <catch2/catch.hpp>

#include "client/permanences.h"
#include "client/replica_port.h"
#include "tests/client/fixture.h"

namespace relais::client::testing {
namespace {

// A replica of territory "t" with a partner and a permanence on Mondays, every `every` weeks from
// Tuesday 2026-12-01 (so from Monday 2026-12-07).
struct WithPermanence {
  explicit WithPermanence(const std::string& every) {
    REQUIRE(r.replica().SetState(kStateTerritories, "[\"t\"]"));
    auto partner = r.records().Create(schema::ContactsTable(), {{"organisation", std::string("Cap emploi")}});
    REQUIRE(partner);
    PermanenceInput in;
    in.organisation = partner->id;
    in.reception_point = "Mairie";
    in.weekday = "lundi";
    in.start = "09:00";
    in.end = "12:00";
    in.every = every;
    in.from = "2026-12-01";
    auto added = AddPermanence(r.records(), in);
    REQUIRE(added);
    id = added->id;
  }
  std::vector<Session> Week(const std::string& week) {
    auto sessions = WeekSessions(r.records(), week, std::nullopt);
    REQUIRE(sessions);
    return *sessions;
  }
  // Appends a change of the session of `date`, as a pull would bring one made on another device.
  void Change(const std::string& id_text, const std::string& date, const std::string& kind, const std::string& to) {
    FieldValues v = {{"permanence_id", id}, {"date", date}, {"kind", kind}, {"territory", std::string("t")}};
    if (!to.empty()) v.emplace_back("to_date", to);
    REQUIRE(r.records().Create(PermanenceChangesTable(), v, id_text));
  }
  TestReplica r;
  std::string id;
};

}  // namespace

TEST_CASE("ISO weeks are read and written as YYYY-Www", "[permanences]") {
  CHECK(*IsoWeekMonday("2026-W50") == "2026-12-07");
  CHECK(*IsoWeekMonday("2026-W01") == "2025-12-29");
  CHECK(*IsoWeekMonday("2026-W53") == "2026-12-28");
  CHECK_FALSE(IsoWeekMonday("2027-W53"));
  CHECK_FALSE(IsoWeekMonday("2026-50"));
  CHECK(IsoWeekOf("2027-01-01") == "2026-W53");
  CHECK(IsoWeekOf("2026-12-14") == "2026-W51");
}

TEST_CASE("a fortnightly permanence has a session every other week from its first day", "[permanences]") {
  WithPermanence p("2");
  REQUIRE(p.Week("2026-W49").empty());  // 2026-12-01 is a Tuesday: the first Monday is the 7th
  REQUIRE(p.Week("2026-W50").size() == 1);
  CHECK(p.Week("2026-W50")[0].date == "2026-12-07");
  CHECK(p.Week("2026-W51").empty());
  REQUIRE(p.Week("2026-W52").size() == 1);
  CHECK(p.Week("2026-W52")[0].start == "09:00");
  CHECK(p.Week("2026-W52")[0].end == "12:00");
}

TEST_CASE("a cancellation wins over a concurrent move of the same session, in whatever order they came",
          "[permanences]") {
  WithPermanence p("1");
  const bool cancel_first = GENERATE(true, false);
  // Ids as two devices would have made them; the move's is the greater either way.
  const std::string cancel = "0190a1b2-0000-7000-8000-000000000001";
  const std::string move = "0190a1b2-0000-7000-8000-000000000002";
  if (cancel_first) p.Change(cancel, "2026-12-14", "annule", "");
  p.Change(move, "2026-12-14", "deplace", "2026-12-16");
  if (!cancel_first) p.Change(cancel, "2026-12-14", "annule", "");
  const std::vector<Session> week = p.Week("2026-W51");
  REQUIRE(week.size() == 1);
  CHECK(week[0].date == "2026-12-14");
  CHECK(week[0].state == SessionState::kCancelled);
}

TEST_CASE("a moved session is held on its new day, with its hours", "[permanences]") {
  WithPermanence p("1");
  auto moved = MoveSession(p.r.records(), p.id, "2026-12-14", "2026-12-16", "14:00");
  REQUIRE(moved);
  CHECK(moved->call_back.empty());
  const std::vector<Session> week = p.Week("2026-W51");
  REQUIRE(week.size() == 2);
  CHECK(week[0].state == SessionState::kMoved);
  CHECK(week[0].moved_to == "2026-12-16");
  CHECK(week[1].date == "2026-12-16");
  CHECK(week[1].state == SessionState::kHeld);
  CHECK(week[1].moved_from == "2026-12-14");
  CHECK(week[1].start == "14:00");
  CHECK(week[1].end == "17:00");
}

}  // namespace relais::client::testing
