// Generated records for the statistics tests (stats/, docs/STATISTICS.md) and their counts computed
// here, directly from the generated values, never through the engine: the ground truth the engine's
// tables are checked against on the replica and on both central stores.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace relais::testing {

using Text = std::optional<std::string>;

struct StatsCase {
  std::string id, territory;
  Text point, referent, status, sector, commune, service_level, birth_date;
  std::string opened_on;
  Text closed_on;
};
struct StatsVisit {
  std::string id, territory, date, channel, mode, reasons;
  Text point, case_id, status, sector, age_band, commune, service_level, amends;
};
struct StatsFollowup {
  std::string id, case_id, kind, date;
  Text author;
};

struct StatsData {
  std::vector<StatsCase> cases;
  std::vector<StatsVisit> visits;
  std::vector<StatsFollowup> followups;
};

inline const std::vector<std::string> kStatsTerritories = {"hautes-alpes-gap", "corse-bastia"};
inline const std::map<std::string, std::vector<std::string>> kStatsPoints = {
    {"hautes-alpes-gap", {"PAE Gap", "Mairie de Veynes"}}, {"corse-bastia", {"Guichet Bastia"}}};

// A UUID-shaped id, different for each (kind, n).
inline std::string StatsId(int kind, int n) {
  char id[40];
  std::snprintf(id, sizeof id, "0190a1b2-%04d-7000-8000-%012d", kind, n);
  return id;
}

// Cases opened from September to November 2026, visits and follow-up entries of those months, some
// visits amended by later entries, a few with no reception point: every dimension gets nulls.
inline StatsData GenerateStatsData(unsigned seed, int cases, int visits, int followups) {
  std::mt19937 random(seed);
  auto pick = [&random](const std::vector<std::string>& from) -> std::string {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(random)];
  };
  auto maybe = [&random](const std::string& v, int percent_null) -> Text {
    return std::uniform_int_distribution<int>(0, 99)(random) < percent_null ? Text() : Text(v);
  };
  auto date = [&random](int first_month, int last_month) {
    char d[32];
    std::snprintf(d, sizeof d, "2026-%02d-%02d", std::uniform_int_distribution<int>(first_month, last_month)(random),
                  std::uniform_int_distribution<int>(1, 28)(random));
    return std::string(d);
  };
  const std::vector<std::string> statuses = {"demandeur_emploi", "salarie", "retraite", "etudiant", "independant"};
  const std::vector<std::string> sectors = {"btp", "commerce", "numerique", "tourisme_hotellerie"};
  const std::vector<std::string> communes = {"Gap", "Veynes", "Névache", "Bastia", "Cervières"};
  const std::vector<std::string> levels = {"1", "2", "3"};
  const std::vector<std::string> referents = {"Anne Roux", "Paul Étienne"};
  const std::vector<std::string> bands = {"16-25", "26-44", "45-54", "55+"};
  const std::vector<std::string> channels = {"accueil", "telephone", "courriel", "permanence"};
  const std::vector<std::string> modes = {"flux", "rendez_vous"};
  const std::vector<std::string> reasons = {"emploi", "formation", "mobilite", "logement", "numerique"};
  const std::vector<std::string> kinds = {"accueil", "entretien", "orientation", "formation"};
  StatsData data;
  for (int i = 0; i < cases; ++i) {
    StatsCase c;
    c.id = StatsId(1, i);
    c.territory = pick(kStatsTerritories);
    c.point = maybe(pick(kStatsPoints.at(c.territory)), 15);
    c.referent = maybe(pick(referents), 20);
    c.status = maybe(pick(statuses), 10);
    c.sector = maybe(pick(sectors), 30);
    c.commune = maybe(pick(communes), 10);
    c.service_level = maybe(pick(levels), 20);
    char birth[32];
    std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", std::uniform_int_distribution<int>(1950, 2008)(random),
                  std::uniform_int_distribution<int>(1, 12)(random), std::uniform_int_distribution<int>(1, 28)(random));
    c.birth_date = maybe(birth, 15);
    c.opened_on = date(8, 11);
    if (std::uniform_int_distribution<int>(0, 2)(random) == 0) c.closed_on = date(9, 12);
    if (c.closed_on && *c.closed_on < c.opened_on) c.closed_on = c.opened_on;
    data.cases.push_back(c);
  }
  for (int i = 0; i < visits; ++i) {
    StatsVisit v;
    v.id = StatsId(2, i);
    v.territory = pick(kStatsTerritories);
    v.point = maybe(pick(kStatsPoints.at(v.territory)), 10);
    v.date = date(9, 11);
    v.channel = pick(channels);
    v.mode = pick(modes);
    std::set<std::string> chosen;
    const int n = std::uniform_int_distribution<int>(1, 3)(random);
    while (static_cast<int>(chosen.size()) < n) chosen.insert(pick(reasons));
    for (const std::string& r : chosen) v.reasons += (v.reasons.empty() ? "" : ",") + r;
    std::vector<const StatsCase*> same;
    for (const StatsCase& c : data.cases) {
      if (c.territory == v.territory) same.push_back(&c);
    }
    if (!same.empty() && std::uniform_int_distribution<int>(0, 1)(random) == 0) {
      v.case_id = same[std::uniform_int_distribution<size_t>(0, same.size() - 1)(random)]->id;
    }
    v.status = maybe(pick(statuses), 20);
    v.sector = maybe(pick(sectors), 30);
    v.age_band = maybe(pick(bands), 20);
    v.commune = maybe(pick(communes), 10);
    v.service_level = maybe(pick(levels), 30);
    // One in ten amends an earlier visit of its territory (a correction: the earlier one no longer counts).
    if (i > 10 && std::uniform_int_distribution<int>(0, 9)(random) == 0) {
      const StatsVisit& earlier = data.visits[std::uniform_int_distribution<size_t>(0, data.visits.size() - 1)(random)];
      if (earlier.territory == v.territory) v.amends = earlier.id;
    }
    data.visits.push_back(v);
  }
  for (int i = 0; i < followups; ++i) {
    StatsFollowup f;
    f.id = StatsId(3, i);
    f.case_id = data.cases[std::uniform_int_distribution<size_t>(0, data.cases.size() - 1)(random)].id;
    f.kind = pick(kinds);
    f.date = date(9, 11);
    f.author = maybe(pick(referents), 25);
    data.followups.push_back(f);
  }
  return data;
}

// The ISO 8601 week of a date, "2026-S41", by the rule of January 4th: week 1 of a year is the week
// (Monday to Sunday) that holds its January 4th.
inline std::string TruthWeek(const std::string& date) {
  using namespace std::chrono;
  const sys_days d{year_month_day{year{std::stoi(date.substr(0, 4))}, month{unsigned(std::stoi(date.substr(5, 2)))},
                                  day{unsigned(std::stoi(date.substr(8, 2)))}}};
  auto first_monday = [](int y) {
    const sys_days jan4{year{y} / January / 4};
    return jan4 - days{weekday{jan4}.iso_encoding() - 1};
  };
  int y = std::stoi(date.substr(0, 4));
  if (d < first_monday(y)) --y;
  else if (d >= first_monday(y + 1)) ++y;
  char out[32];
  std::snprintf(out, sizeof out, "%04d-S%02d", y, static_cast<int>((d - first_monday(y)).count() / 7 + 1));
  return out;
}

// Whole years from `birth` to `on`, then the register's bands; under 16 or unknown: null.
inline Text TruthAgeBand(const Text& birth, const std::string& on) {
  if (!birth) return {};
  int age = std::stoi(on.substr(0, 4)) - std::stoi(birth->substr(0, 4));
  if (on.substr(5) < birth->substr(5)) --age;
  if (age < 16) return {};
  return age <= 25 ? "16-25" : age <= 44 ? "26-44" : age <= 54 ? "45-54" : "55+";
}

// A cell: the keys of the row (null as ""), the key of the column ("total" without a breakdown).
using TruthCell = std::pair<std::vector<std::string>, std::string>;

// The counts of `measure` (visits, people, cases_opened, cases_closed, followups) over [from, to],
// by `by`, broken down by `breakdown` ("" for none), over `territory` when given.
inline std::map<TruthCell, int64_t> StatsTruth(const StatsData& data, const std::string& measure,
                                               const std::vector<std::string>& by, const std::string& breakdown,
                                               const std::string& from, const std::string& to,
                                               const Text& territory = {}) {
  std::map<TruthCell, int64_t> counts;
  std::map<TruthCell, std::set<std::string>> people;
  auto key = [](const Text& v) { return v.value_or(""); };
  auto add = [&](const std::map<std::string, Text>& values, const std::string& date, const std::string& at,
                 const Text& person) {
    if (date < from || date > to) return;
    if (territory && at != *territory) return;
    std::vector<std::string> row;
    for (const std::string& d : by) {
      if (d == "month") row.push_back(date.substr(0, 7));
      else if (d == "week") row.push_back(TruthWeek(date));
      else row.push_back(key(values.at(d)));
    }
    std::vector<std::string> columns;
    if (breakdown.empty()) {
      columns.push_back("total");
    } else if (breakdown == "reason") {
      const std::string list = *values.at("reason");
      for (size_t a = 0; a <= list.size();) {
        const size_t comma = std::min(list.find(',', a), list.size());
        columns.push_back(list.substr(a, comma - a));
        a = comma + 1;
      }
    } else {
      columns.push_back(key(values.at(breakdown)));
    }
    for (const std::string& c : columns) {
      if (measure == "people") {
        if (person) people[{row, c}].insert(*person);
      } else {
        ++counts[{row, c}];
      }
    }
  };
  if (measure == "visits" || measure == "people") {
    std::set<std::string> amended;
    for (const StatsVisit& v : data.visits) {
      if (v.amends) amended.insert(*v.amends);
    }
    for (const StatsVisit& v : data.visits) {
      if (amended.count(v.id)) continue;
      add({{"reception_point", v.point}, {"territory", v.territory}, {"status", v.status}, {"sector", v.sector},
           {"age_band", v.age_band}, {"commune", v.commune}, {"reason", v.reasons}, {"channel", v.channel},
           {"mode", v.mode}, {"service_level", v.service_level}},
          v.date, v.territory, v.case_id);
    }
  }
  if (measure == "cases_opened" || measure == "cases_closed") {
    for (const StatsCase& c : data.cases) {
      const Text date = measure == "cases_opened" ? Text(c.opened_on) : c.closed_on;
      if (!date) continue;
      add({{"reception_point", c.point}, {"territory", c.territory}, {"counsellor", c.referent},
           {"status", c.status}, {"sector", c.sector}, {"age_band", TruthAgeBand(c.birth_date, c.opened_on)},
           {"commune", c.commune}, {"service_level", c.service_level}},
          *date, c.territory, {});
    }
  }
  if (measure == "followups") {
    std::map<std::string, const StatsCase*> by_id;
    for (const StatsCase& c : data.cases) by_id[c.id] = &c;
    for (const StatsFollowup& f : data.followups) {
      const StatsCase& c = *by_id.at(f.case_id);
      add({{"reception_point", c.point}, {"territory", c.territory}, {"counsellor", f.author},
           {"followup_kind", f.kind}, {"status", c.status}, {"sector", c.sector},
           {"service_level", c.service_level}},
          f.date, c.territory, {});
    }
  }
  for (const auto& [cell, who] : people) counts[cell] = static_cast<int64_t>(who.size());
  return counts;
}

// The queries the tests compare: every measure, one and two row dimensions, each kind of breakdown.
struct TruthQuery {
  std::string measure;
  std::vector<std::string> by;
  std::string breakdown;
};
inline const std::vector<TruthQuery> kTruthQueries = {
    {"visits", {"month", "reception_point"}, "reason"},
    {"visits", {"territory"}, "age_band"},
    {"visits", {"week"}, ""},
    {"people", {"month"}, "status"},
    {"people", {"reception_point"}, "reason"},
    {"cases_opened", {"territory", "counsellor"}, "age_band"},
    {"cases_closed", {"month"}, "service_level"},
    {"followups", {"counsellor"}, "followup_kind"},
    {"followups", {"reception_point", "month"}, "status"},
};

}  // namespace relais::testing
