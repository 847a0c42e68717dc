// A territory's work in a replica, for the benches: the partner directory, cases, follow-ups (some
// with a next action date), the register of visits, partners' permanences with a few disrupted
// sessions, and appointments, in the proportions of a busy territory (below). Every record is
// written through the ordinary write path (Records::CreateInTransaction, validated) in one
// transaction, then given a version as if pulled from the centre. Header-only: each bench is one
// program (bench/CMakeLists.txt).
//
// Proportions, for N cases ending "today":
//  - 30 partner organisations; 4 reception points; 5 permanences per point (weekly, fortnightly or
//    monthly, from a year ago), one session in twenty cancelled and one in forty moved;
//  - 3 N follow-ups over the cases' three years, in date order per case; one in ten carries a next
//    action date 1 to 6 weeks after it, followed up by the case's next entry; the last entry of a
//    case still followed (one in a hundred, its last entry within the last two months) calls, one
//    time in two, for a next action from a week ago to four weeks ahead;
//  - N / 2 visits over the last year (7 in 10 anonymous, mostly walk-ins at the desk);
//  - N / 10 appointments from a year ago to four weeks ahead, 6 in 10 at a permanence session, 4 in
//    10 at a place; past ones have an outcome (seen 7 in 10, absent 2, excused 1) but one in twenty.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "client/permanences.h"
#include "client/records.h"
#include "client/replica.h"

namespace relais::bench {

inline constexpr const char* kSampleTerritory = "hautes-alpes-gap";
inline constexpr const char* kSamplePoints[] = {"PAE Gap", "Mairie de Veynes", "Maison France services Laragne",
                                                "PAE Serres"};

struct SampleSizes {
  int cases = 100000;
  int followups = 300000;
  int visits = 50000;
  int appointments = 10000;
};

struct SampleData {
  std::vector<std::string> case_ids, contact_ids, permanence_ids;
};

namespace sample_detail {

inline schema::Record Create(client::Records& records, const schema::Table& table, const client::FieldValues& named) {
  std::vector<schema::Value> values(table.fields.size());
  for (const auto& [name, value] : named) values[static_cast<size_t>(table.FieldIndex(name))] = value;
  auto created = records.CreateInTransaction(table, std::move(values), std::nullopt);
  if (!created) Fail(std::string(table.name) + ": " + created.error().message);
  return std::move(*created);
}

template <size_t N>
const char* Pick(std::mt19937& rng, const char* const (&values)[N], const int (&weights)[N]) {
  std::discrete_distribution<int> d(std::begin(weights), std::end(weights));
  return values[d(rng)];
}

inline std::string Day(int64_t day) { return client::DateOfDay(day); }
inline std::string ClockTime(int minutes) {
  char text[24];
  std::snprintf(text, sizeof text, "%02d:%02d", minutes / 60, minutes % 60);
  return text;
}

}  // namespace sample_detail

// Fills `replica` (empty) as above, `today` an ISO date; fails the program on an error.
inline SampleData FillSample(client::Replica& replica, const SampleSizes& sizes, const std::string& today) {
  using namespace sample_detail;
  static const char* const kLast[] = {"Martin", "Lefèvre", "Névache", "Girard", "Dubois", "Roux", "Garcia", "Blanc"};
  static const char* const kFirst[] = {"Élodie", "Maël", "Zoé", "Inès", "Raphaël", "Aïcha", "Jean", "Lucie"};
  static const char* const kStatuses[] = {"demandeur_emploi", "salarie", "etudiant", "sans_activite"};
  static const char* const kKinds[] = {"accueil", "entretien", "orientation", "formation", "autre"};
  static const int kKindWeights[] = {20, 50, 15, 10, 5};
  static const char* const kChannels[] = {"accueil", "telephone", "courriel", "permanence"};
  static const int kChannelWeights[] = {55, 28, 10, 7};
  static const char* const kModes[] = {"flux", "rendez_vous"};
  static const int kModeWeights[] = {75, 25};
  static const char* const kReasons[] = {"emploi",           "formation", "orientation",
                                         "droits_demarches", "numerique", "mobilite"};
  static const int kReasonWeights[] = {45, 15, 12, 12, 9, 7};
  static const char* const kBands[] = {"16-25", "26-44", "45-54", "55+"};
  static const int kBandWeights[] = {30, 40, 18, 12};
  static const char* const kOutcomes[] = {"vu", "absent", "excuse"};
  static const int kOutcomeWeights[] = {70, 20, 10};
  static const char* const kWeekdays[] = {"lundi", "mardi", "mercredi", "jeudi", "vendredi"};
  static const char* const kEvery[] = {"1", "1", "2", "4"};

  std::mt19937 rng(29);
  client::Records records(replica);
  SampleData out;
  const int64_t now = client::DayNumber(today);
  if (!replica.db().Exec("BEGIN IMMEDIATE").ok()) Fail("begin");
  for (int i = 0; i < 30; ++i) {
    out.contact_ids.push_back(Create(records, schema::ContactsTable(),
                                     {{"organisation", "Partenaire " + std::to_string(i + 1)},
                                      {"phone", "049200" + std::to_string(1000 + i)}})
                                  .id);
  }
  // Cases: three years of openings; a case's entries follow its opening.
  std::vector<int64_t> opened;
  for (int i = 0; i < sizes.cases; ++i) {
    const int64_t day = now - int64_t{3} * 365 + static_cast<int64_t>(rng() % (3 * 365 - 30));
    opened.push_back(day);
    out.case_ids.push_back(Create(records, schema::CasesTable(),
                                  {{"last_name", kLast[i % 8]},
                                   {"first_name", kFirst[(i / 8) % 8]},
                                   {"birth_date", std::to_string(1960 + i % 45) + "-0" + std::to_string(1 + i % 9) +
                                                      "-1" + std::to_string(i % 10)},
                                   {"phone", "06" + std::to_string(10000000 + i)},
                                   {"status", kStatuses[i % 4]},
                                   {"service_level", std::to_string(1 + i % 3)},
                                   {"reception_point", kSamplePoints[i % 4]},
                                   {"territory", kSampleTerritory},
                                   {"opened_on", Day(day)}})
                               .id);
  }
  // Follow-ups, case by case in date order. A case in a hundred is still followed: its entries
  // reach the last two months, and its last one, one time in two, calls for a next action from a
  // week ago (late) to four weeks ahead. Every other next action was followed up by the case's next
  // entry, as counsellors do (a case's last entry calls for none unless it is still followed).
  const int per_case = sizes.cases > 0 ? sizes.followups / sizes.cases : 0;
  for (int i = 0; i < sizes.cases && per_case > 0; ++i) {
    const bool active = rng() % 100 == 0;
    const int64_t last = active ? now - static_cast<int64_t>(rng() % 60) : opened[static_cast<size_t>(i)] + 120;
    const int64_t first = std::min(opened[static_cast<size_t>(i)], last);
    for (int k = 0; k < per_case; ++k) {
      const int64_t day = std::min(first + (last - first) * k / std::max(1, per_case - 1), now);
      client::FieldValues v = {{"case_id", out.case_ids[static_cast<size_t>(i)]},
                               {"kind", Pick(rng, kKinds, kKindWeights)},
                               {"date", Day(day)},
                               {"text", "Entretien de suivi, point d'étape."}};
      if (k < per_case - 1 && rng() % 10 == 0) {
        v.emplace_back("next_date", Day(day + 7 + static_cast<int64_t>(rng() % 36)));
      } else if (k == per_case - 1 && active && rng() % 2 == 0) {
        v.emplace_back("next_date", Day(std::max(day, now - 7 + static_cast<int64_t>(rng() % 35))));
      }
      Create(records, schema::FollowupsTable(), v);
    }
  }
  std::uniform_int_distribution<size_t> any_case(0, out.case_ids.empty() ? 0 : out.case_ids.size() - 1);
  for (int i = 0; i < sizes.visits; ++i) {
    client::FieldValues v = {{"territory", kSampleTerritory},
                             {"reception_point", kSamplePoints[i % 4]},
                             {"date", Day(now - 365 + static_cast<int64_t>(rng() % 366))},
                             {"time", ClockTime(9 * 60 + static_cast<int>(rng() % 480))},
                             {"channel", Pick(rng, kChannels, kChannelWeights)},
                             {"mode", Pick(rng, kModes, kModeWeights)},
                             {"reasons", Pick(rng, kReasons, kReasonWeights)}};
    if (rng() % 10 < 3 && !out.case_ids.empty()) {
      v.emplace_back("case_id", out.case_ids[any_case(rng)]);
    } else {
      v.emplace_back("age_band", Pick(rng, kBands, kBandWeights));
      v.emplace_back("status", kStatuses[rng() % 4]);
      v.emplace_back("commune", "Gap");
    }
    Create(records, schema::VisitsTable(), v);
  }
  // Permanences from a year ago, each starting on its weekday: a session every `every` weeks.
  struct Plan {
    std::string id;
    int64_t first;
    int64_t every;  // weeks
    int start;
  };
  std::vector<Plan> plans;
  const int64_t monday = now - 364 - ((now + 3) % 7 + 7) % 7;  // the Monday a year ago
  for (int p = 0; p < 20; ++p) {
    const int weekday = p % 5;
    const int start = p % 2 ? 14 * 60 : 9 * 60;
    const char* every = kEvery[p % 4];
    const std::string id = Create(records, client::PermanencesTable(),
                                  {{"organisation", out.contact_ids[static_cast<size_t>(p)]},
                                   {"reception_point", kSamplePoints[p % 4]},
                                   {"weekday", kWeekdays[weekday]},
                                   {"start_time", ClockTime(start)},
                                   {"end_time", ClockTime(start + 180)},
                                   {"every_weeks", every},
                                   {"valid_from", Day(monday + weekday)},
                                   {"territory", kSampleTerritory}})
                               .id;
    out.permanence_ids.push_back(id);
    plans.push_back({id, monday + weekday, every[0] - '0', start});
  }
  for (const Plan& p : plans) {
    for (int64_t day = p.first; day <= now + 28; day += int64_t{7} * p.every) {
      const unsigned roll = rng() % 40;
      if (roll < 2) {
        Create(records, client::PermanenceChangesTable(),
               {{"permanence_id", p.id},
                {"date", Day(day)},
                {"kind", "annule"},
                {"reason", "Intervenant absent"},
                {"territory", kSampleTerritory}});
      } else if (roll == 2) {
        Create(records, client::PermanenceChangesTable(),
               {{"permanence_id", p.id},
                {"date", Day(day)},
                {"kind", "deplace"},
                {"to_date", Day(day + 1)},
                {"territory", kSampleTerritory}});
      }
    }
  }
  for (int i = 0; i < sizes.appointments && !out.case_ids.empty(); ++i) {
    client::FieldValues v = {{"case_id", out.case_ids[any_case(rng)]}, {"territory", kSampleTerritory}};
    int64_t day;
    if (rng() % 10 < 6) {
      const Plan& p = plans[rng() % plans.size()];
      const int64_t sessions = (now + 28 - p.first) / (int64_t{7} * p.every) + 1;
      day = p.first + static_cast<int64_t>(rng() % static_cast<uint64_t>(sessions)) * int64_t{7} * p.every;
      v.emplace_back("permanence_id", p.id);
      v.emplace_back("start_time", ClockTime(p.start + 15 * static_cast<int>(rng() % 12)));
    } else {
      day = now - 365 + static_cast<int64_t>(rng() % (365 + 29));
      v.emplace_back("start_time", ClockTime(9 * 60 + 30 * static_cast<int>(rng() % 16)));
      v.emplace_back("place", kSamplePoints[rng() % 4]);
    }
    v.emplace_back("date", Day(day));
    if (day < now && rng() % 20 != 0) v.emplace_back("outcome", Pick(rng, kOutcomes, kOutcomeWeights));
    Create(records, client::AppointmentsTable(), v);
  }
  for (const schema::Table& t : schema::Tables()) {
    if (!replica.db().Exec("UPDATE " + std::string(t.name) + " SET version = rowid").ok()) Fail("versions");
  }
  if (!replica.db().Exec("COMMIT").ok()) Fail("commit");
  if (!replica.db().Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok()) Fail("checkpoint");
  return out;
}

}  // namespace relais::bench
