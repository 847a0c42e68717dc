// Permanences, their sessions and appointments across devices (issue 29): bookings of one slot made
// offline on two laptops are both kept and flagged, a cancelled session gives the other laptop its
// call-back list after a sync, and a device of another territory receives none of it. Real
// `relais-central` and `relais`, on SQLite and, as test_e2e_pg, on PostgreSQL.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";
const std::string kMonday = "2026-12-14";  // a Monday, in ISO week 2026-W51
const std::string kWeek = "2026-W51";

// Two laptops of Gap and one of Bastia; the first Gap laptop has added a partner, two people and a
// Monday permanence, and both Gap laptops hold them.
struct Network {
  Network() : central(dir.path()), gap1(dir, "gap1"), gap2(dir, "gap2"), bastia(dir, "bastia") {
    central.Start();
    gap1.Init(central, central.Enrol("pae-veynes", {kGap}));
    gap2.Init(central, central.Enrol("pae-serres", {kGap}));
    bastia.Init(central, central.Enrol("pae-bastia", {kBastia}));
    const std::string partner = gap1.Json({"contact", "add", "--organisation", "France Travail Gap"})["id"];
    martin = gap1.Json({"case", "add", "--last-name", "Martin", "--first-name", "Élodie", "--phone", "06 11 22 33 44",
                        "--territory", kGap})["id"];
    roux = gap1.Json({"case", "add", "--last-name", "Roux", "--first-name", "Maël", "--phone", "0655667788",
                      "--territory", kGap})["id"];
    permanence = gap1.Json({"permanence", "add", "--organisation", partner, "--reception-point", "Mairie de Veynes",
                            "--weekday", "lundi", "--start", "09:00", "--end", "12:00", "--from", "2026-12-07"})["id"];
    gap1.Sync();
    gap2.Sync();
  }
  json Book(const Device& d, const std::string& case_id, const std::string& time) const {
    return d.Json({"appointment", "add", case_id, "--permanence", permanence, "--date", kMonday, "--time", time});
  }
  TempDir dir;
  Central central;
  Device gap1, gap2, bastia;
  std::string martin, roux, permanence;
};

json Week(const Device& d) { return d.Json({"permanence", "list", "--week", kWeek}); }

// `relais-central ARGS… --json` on the centre's store.
json CentralJson(const Central& central, std::vector<std::string> args) {
  args.insert(args.begin(), CentralBinary());
  args.push_back("--json");
  for (const std::string& a : central.StoreArgs()) args.push_back(a);
  RunResult r = Run(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("one slot booked offline on two laptops is kept twice and flagged; another territory sees none of it",
          "[e2e][permanences]") {
  Network net;
  const std::string first = net.Book(net.gap1, net.martin, "09:30")["id"];
  const std::string second = net.Book(net.gap2, net.roux, "09:30")["id"];
  net.gap1.Sync();
  net.gap2.Sync();
  net.gap1.Sync();
  net.bastia.Sync();

  const json week = Week(net.gap1);
  CHECK(Week(net.gap2) == week);
  REQUIRE(week["sessions"].size() == 1);
  const json& session = week["sessions"][0];
  CHECK(session["date"] == kMonday);
  CHECK(session["status"] == "prevue");
  REQUIRE(session["bookings"].size() == 2);
  for (const json& b : session["bookings"]) {
    CHECK(b["overbooked"] == true);
    CHECK(b["time"] == "09:30");
  }
  const json listed = net.gap2.Json({"appointment", "list", "--date", kMonday});
  REQUIRE(listed.size() == 2);
  CHECK(std::set<std::string>{listed[0]["id"], listed[1]["id"]} == std::set<std::string>{first, second});
  CHECK(listed[0]["overbooked"] == true);
  CHECK(listed[1]["overbooked"] == true);

  const json staff = CentralJson(net.central, {"permanences", "list"});
  REQUIRE(staff.size() == 1);
  CHECK(staff[0]["id"] == net.permanence);
  CHECK(staff[0]["appointments"] == 2);
  CHECK(staff[0]["overbooked_slots"] == 1);
  CHECK(staff[0]["organisation_name"] == "France Travail Gap");

  for (const char* table : {"permanences", "permanence_changes", "appointments"}) {
    CHECK(Count(net.bastia.db(), std::string("SELECT count(*) FROM ") + table) == 0);
  }
  CHECK(net.bastia.Json({"permanence", "list", "--week", kWeek})["sessions"].empty());
}

TEST_CASE("a session cancelled on one laptop gives the other laptop the call-back list after its sync",
          "[e2e][permanences]") {
  Network net;
  const std::string booked_here = net.Book(net.gap1, net.martin, "09:00")["id"];
  net.gap1.Sync();
  net.gap2.Sync();
  // Offline on the second laptop: a booking the first one does not know of.
  const std::string booked_there = net.Book(net.gap2, net.roux, "10:00")["id"];

  const json cancelled =
      net.gap1.Json({"permanence", "cancel", net.permanence, "--date", kMonday, "--reason", "Conseillère absente"});
  CHECK(cancelled["change"]["kind"] == "annule");
  REQUIRE(cancelled["call_back"].size() == 1);
  CHECK(cancelled["call_back"][0]["id"] == booked_here);
  CHECK(cancelled["call_back"][0]["phone"] == "0611223344");
  net.gap1.Sync();
  net.gap2.Sync();
  net.gap1.Sync();

  for (const Device* d : {&net.gap1, &net.gap2}) {
    const json week = Week(*d);
    REQUIRE(week["sessions"].size() == 1);
    const json& session = week["sessions"][0];
    CHECK(session["status"] == "annulee");
    CHECK(session["reason"] == "Conseillère absente");
    REQUIRE(session["bookings"].size() == 2);
    CHECK(session["bookings"][0]["id"] == booked_here);
    CHECK(session["bookings"][1]["id"] == booked_there);
    CHECK(session["bookings"][1]["name"] == "Roux Maël");
    CHECK(session["bookings"][1]["phone"] == "0655667788");
    for (const json& b : session["bookings"]) CHECK(b["to_call_back"] == true);
  }
  // A session moved on a cancelled day is refused: the second laptop learnt of the cancellation.
  CHECK(net.gap2.Cmd({"permanence", "move", net.permanence, "--date", kMonday, "--to", "2026-12-15"}).exit_code == 3);
  CHECK(net.central.Count("SELECT count(*) FROM permanence_changes") == 1);
}

TEST_CASE("every refused permanence or appointment command changes nothing", "[e2e][permanences]") {
  Network net;
  const std::string appointment = net.Book(net.gap1, net.martin, "09:00")["id"];
  const std::string partner = net.gap1.Json({"contact", "list"})[0]["id"];
  const std::vector<std::string> add = {"permanence", "add",    "--organisation", partner,  "--reception-point",
                                        "Veynes",     "--from", "2026-12-01",     "--every"};
  auto permanence_add = [&](const std::string& every, const std::string& weekday, const std::string& start,
                            const std::string& end) {
    std::vector<std::string> args = add;
    for (const std::string& a :
         {every, std::string("--weekday"), weekday, std::string("--start"), start, std::string("--end"), end})
      args.push_back(a);
    return args;
  };
  const std::string tuesday = "2026-12-15";
  struct Refusal {
    std::vector<std::string> args;
    int exit_code;
    std::string says;
  };
  const std::vector<Refusal> refusals = {
      {permanence_add("1", "mardi", "12:00", "09:00"), 3, "end_time"},
      {permanence_add("1", "mardi", "9h", "12:00"), 3, "start_time"},
      {permanence_add("1", "samedi", "09:00", "12:00"), 3, "weekday"},
      {permanence_add("3", "mardi", "09:00", "12:00"), 3, "every_weeks"},
      {[&] {
         auto a = permanence_add("1", "mardi", "09:00", "12:00");
         a.insert(a.end(), {"--until", "2026-11-01"});
         return a;
       }(),
       3, "valid_until"},
      {[&] {
         auto a = permanence_add("1", "mardi", "09:00", "12:00");
         a.insert(a.end(), {"--territory", kBastia});
         return a;
       }(),
       3, "territory"},
      {{"permanence", "add", "--organisation", "0190a1b2-0000-7000-8000-000000009999", "--reception-point", "Veynes",
        "--weekday", "mardi", "--start", "09:00", "--end", "12:00", "--from", "2026-12-01"},
       3,
       "annuaire"},
      {{"appointment", "add", net.roux, "--permanence", net.permanence, "--date", tuesday, "--time", "09:30"},
       3,
       "pas de séance"},
      {{"appointment", "add", net.roux, "--permanence", net.permanence, "--date", kMonday, "--time", "12:00"},
       3,
       "hors de la séance"},
      {{"appointment", "add", net.roux, "--permanence", net.permanence, "--date", kMonday, "--time", "09:00"},
       3,
       "déjà réservé"},
      {{"appointment", "add", net.roux, "--permanence", net.permanence, "--date", kMonday, "--time", "09:30", "--place",
        "Mairie"},
       2,
       "soit à une permanence"},
      {{"appointment", "add", "0190a1b2-0000-7000-8000-000000009999", "--date", kMonday, "--time", "09:30", "--place",
        "Mairie"},
       4,
       "aucun dossier"},
      {{"appointment", "add", net.roux, "--date", "2026-02-30", "--time", "09:30", "--place", "Mairie"}, 3, "date"},
      {{"appointment", "outcome", appointment, "peut-etre"}, 3, "outcome"},
      {{"permanence", "cancel", net.permanence, "--date", tuesday, "--reason", "Grève"}, 3, "pas de séance"},
      {{"permanence", "cancel", net.permanence, "--date", kMonday, "--reason", " "}, 3, "reason"},
      {{"permanence", "move", net.permanence, "--date", kMonday, "--to", "2026-13-01"}, 3, "to_date"},
      {{"permanence", "move", net.permanence, "--date", kMonday, "--to", kMonday}, 3, "déjà lieu"},
      {{"permanence", "list", "--week", "2026-W60"}, 2, "semaine ISO"},
  };
  const std::string before = net.gap1.ContentHash();
  for (const Refusal& r : refusals) {
    const RunResult run = net.gap1.Cmd(r.args);
    INFO(r.args[0] << " " << r.args[1] << " " << r.args.back() << ": " << run.err);
    CHECK(run.exit_code == r.exit_code);
    CHECK(run.err.find(r.says) != std::string::npos);
    CHECK(net.gap1.ContentHash() == before);
  }
}
