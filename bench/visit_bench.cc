// How long does a reception-point agent wait for `relais visit add`, the whole command (start, open
// the replica, check, write, print), on a replica the size of a busy territory's — 100,000 cases,
// 300,000 follow-ups, 50,000 visits of the register, encrypted and unlocked as a counsellor's is
// during her day? And `relais visit list` of a day? Target:
// `visit add` median ≤ 50 ms (issue 29). The yardstick is `relais case show` of one case on the
// same replica in the same run, so that a loaded machine shows as such. Prints a table. Not a
// test: see README "Benchmarks".
//
//   visit_bench [--cases N] [--followups N] [--visits N] [--runs N] [--work DIR]
//
// The visits are made here in the proportions of a reception point's register: seven in ten
// anonymous, the rest linked to a case; mostly walk-ins at the desk, then calls, e-mails and
// permanences; one to three reasons, employment first.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "client/records.h"
#include "client/replica.h"
#include "client/replica_key.h"
#include "tests/e2e/run.h"

using namespace relais;
using bench::Count;
using bench::Fail;
using bench::Must;
using bench::Percentile;
using Stopwatch = std::chrono::steady_clock;

namespace {

const char* const kTerritory = "hautes-alpes-gap";
const char* const kPoints[] = {"PAE Gap", "Mairie de Veynes", "Maison France services Laragne", "PAE Serres"};

// Weighted picks.
template <size_t N>
const char* Pick(std::mt19937& rng, const char* const (&values)[N], const int (&weights)[N]) {
  std::discrete_distribution<int> d(std::begin(weights), std::end(weights));
  return values[d(rng)];
}

std::vector<schema::Value> Values(const schema::Table& table, const client::FieldValues& named) {
  std::vector<schema::Value> values(table.fields.size());
  for (const auto& [name, value] : named) values[static_cast<size_t>(table.FieldIndex(name))] = value;
  return values;
}

// Fills the replica: cases, follow-ups on them, visits; then every record as if pulled (a version).
std::vector<std::string> Fill(client::Replica& replica, int cases, int followups, int visits) {
  static const char* const kLast[] = {"Martin", "Lefèvre", "Névache", "Girard", "Dubois", "Roux", "Garcia", "Blanc"};
  static const char* const kFirst[] = {"Élodie", "Maël", "Zoé", "Inès", "Raphaël", "Aïcha", "Jean", "Lucie"};
  static const char* const kStatuses[] = {"demandeur_emploi", "salarie", "etudiant", "sans_activite"};
  static const char* const kChannels[] = {"accueil", "telephone", "courriel", "permanence"};
  static const int kChannelWeights[] = {55, 28, 10, 7};
  static const char* const kModes[] = {"flux", "rendez_vous"};
  static const int kModeWeights[] = {75, 25};
  static const char* const kReasons[] = {
      "emploi",    "formation", "creation_activite", "orientation", "droits_demarches",
      "numerique", "mobilite",  "logement",          "sante",       "autre"};
  static const int kReasonWeights[] = {40, 15, 4, 10, 10, 8, 5, 3, 2, 3};
  static const char* const kBands[] = {"16-25", "26-44", "45-54", "55+"};
  static const int kBandWeights[] = {30, 40, 18, 12};
  std::mt19937 rng(29);
  client::Records records(replica);
  std::vector<std::string> ids;
  if (!replica.db().Exec("BEGIN IMMEDIATE").ok()) Fail("begin");
  for (int i = 0; i < cases; ++i) {
    const std::string birth =
        std::to_string(1960 + i % 45) + "-0" + std::to_string(1 + i % 9) + "-1" + std::to_string(i % 10);
    auto c =
        Must(records.CreateInTransaction(schema::CasesTable(),
                                         Values(schema::CasesTable(), {{"last_name", kLast[i % 8]},
                                                                       {"first_name", kFirst[(i / 8) % 8]},
                                                                       {"birth_date", birth},
                                                                       {"status", kStatuses[i % 4]},
                                                                       {"service_level", std::to_string(1 + i % 3)},
                                                                       {"commune", "Gap"},
                                                                       {"postcode", "05000"},
                                                                       {"territory", kTerritory},
                                                                       {"opened_on", "2026-01-05"}}),
                                         std::nullopt),
             "case");
    ids.push_back(c.id);
  }
  for (int i = 0; i < followups; ++i) {
    Must(records.CreateInTransaction(
             schema::FollowupsTable(),
             Values(schema::FollowupsTable(), {{"case_id", ids[static_cast<size_t>(i) % ids.size()]},
                                               {"kind", "entretien"},
                                               {"date", "2026-03-1" + std::to_string(i % 10)},
                                               {"text", "Entretien de suivi, point d'étape."}}),
             std::nullopt),
         "followup");
  }
  std::uniform_int_distribution<size_t> any_case(0, ids.size() - 1);
  for (int i = 0; i < visits; ++i) {
    // 50,000 visits over a year of 250 working days: some 200 a day across the territory's points.
    const int day = i / 200;
    char date[11];
    std::snprintf(date, sizeof date, "2026-%02d-%02d", 1 + (day / 21) % 12, 1 + day % 21);
    std::string reasons = Pick(rng, kReasons, kReasonWeights);
    for (int extra = static_cast<int>(rng() % 3); extra > 0; --extra) {
      const std::string more = Pick(rng, kReasons, kReasonWeights);
      if (("," + reasons + ",").find("," + more + ",") == std::string::npos) reasons += "," + more;
    }
    client::FieldValues v = {{"territory", kTerritory},
                             {"reception_point", kPoints[i % 4]},
                             {"date", date},
                             {"time", std::to_string(10 + i % 8) + ":" + std::to_string(10 + i % 50)},
                             {"channel", Pick(rng, kChannels, kChannelWeights)},
                             {"mode", Pick(rng, kModes, kModeWeights)},
                             {"reasons", reasons}};
    if (rng() % 10 < 3) {
      v.emplace_back("case_id", ids[any_case(rng)]);
    } else {
      v.emplace_back("age_band", Pick(rng, kBands, kBandWeights));
      v.emplace_back("status", kStatuses[rng() % 4]);
      v.emplace_back("commune", "Gap");
    }
    Must(records.CreateInTransaction(schema::VisitsTable(), Values(schema::VisitsTable(), v), std::nullopt), "visit");
  }
  for (const char* table : {"cases", "followups", "visits"}) {
    if (!replica.db().Exec(std::string("UPDATE ") + table + " SET version = rowid").ok()) Fail("versions");
  }
  if (!replica.db().Exec("COMMIT").ok()) Fail("commit");
  if (!replica.db().Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok()) Fail("checkpoint");
  return ids;
}

const char* const kPassphrase = "phrase de passe du banc d'essai des visites";

std::string Relais() { return std::string(RELAIS_BINARY_DIR) + "/relais"; }

// Wall milliseconds of each run of `relais --db DB ARGS…`, which must succeed.
std::vector<double> Time(const std::string& db, int runs, const std::function<std::vector<std::string>(int)>& args) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    std::vector<std::string> argv = {Relais(), "--db", db};
    for (std::string& a : args(i)) argv.push_back(std::move(a));
    auto t0 = Stopwatch::now();
    e2e::RunResult r = e2e::Run(argv);
    ms.push_back(std::chrono::duration<double, std::milli>(Stopwatch::now() - t0).count());
    if (r.exit_code != 0) Fail(argv[3] + " " + argv[4] + ": " + r.err);
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int cases = 100000, followups = 300000, visits = 50000, runs = 50;
  std::string work = std::filesystem::temp_directory_path() / "relais-visit-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--cases")
      cases = Count(argv[i + 1]);
    else if (flag == "--followups")
      followups = Count(argv[i + 1]);
    else if (flag == "--visits")
      visits = Count(argv[i + 1]);
    else if (flag == "--runs")
      runs = Count(argv[i + 1]);
    else if (flag == "--work")
      work = argv[i + 1];
    else
      Fail("option inconnue " + flag);
  }
  if (cases < 1 || runs < 1) Fail("--cases and --runs must be at least 1");
  std::filesystem::create_directories(work);
  const std::string db = work + "/replica.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  std::vector<std::string> ids;
  auto fill_start = Stopwatch::now();
  // Encrypted, as every replica is (docs/PRIVACY.md), and unlocked as a counsellor's is during her
  // day (`relais unlock`: the key in the session keyring), so that no command derives the key.
  client::Passphrases passphrases;
  passphrases.environment = kPassphrase;
  if (auto ready = client::PrepareReplicaKey(db, passphrases); !ready)
    Fail("encrypted replica: " + ready.error().message);
  {
    auto replica = Must(client::Replica::Open(db, SystemClock::Instance()), "open replica");
    ids = Fill(replica, cases, followups, visits);
  }
  const double fill_s = std::chrono::duration<double>(Stopwatch::now() - fill_start).count();

  e2e::RunResult unlocked = e2e::Run({Relais(), "--db", db, "unlock"}, {{"RELAIS_PASSPHRASE", kPassphrase}});
  if (unlocked.exit_code != 0) Fail("relais unlock: " + unlocked.err);

  std::mt19937 rng(7);
  std::vector<std::string> picked;
  picked.reserve(static_cast<size_t>(runs));
  for (int i = 0; i < runs; ++i) picked.push_back(ids[rng() % ids.size()]);
  // Half anonymous with a typology, half linked to a case (whose typology is copied).
  const std::vector<double> add = Time(db, runs, [&](int i) {
    std::vector<std::string> a = {
        "visit",  "add",  "--territory", kTerritory, "--reception-point", kPoints[i % 4], "--channel", "accueil",
        "--mode", "flux", "--reason",    "emploi",   "--reason",          "mobilite",     "--time",    "09:30"};
    if (i % 2) {
      a.insert(a.end(), {"--case", picked[static_cast<size_t>(i)]});
    } else {
      a.insert(a.end(), {"--age-band", "26-44", "--status", "demandeur_emploi", "--commune", "Veynes"});
    }
    return a;
  });
  const std::vector<double> list = Time(db, runs, [](int i) {
    return std::vector<std::string>{"visit", "list", "--date", "2026-03-1" + std::to_string(i % 10), "--json"};
  });
  const std::vector<double> show = Time(db, runs, [&](int i) {
    return std::vector<std::string>{"case", "show", picked[static_cast<size_t>(i)], "--json"};
  });

  e2e::Run({Relais(), "--db", db, "lock"});
  std::printf("replica: %d cases, %d follow-ups, %d visits (filled in %.1f s); %d runs of each command\n\n", cases,
              followups, visits, fill_s, runs);
  std::printf("%-44s %10s %10s %10s\n", "command (whole process)", "median", "p90", "target");
  std::printf("%-44s %7.1f ms %7.1f ms %10s\n", "relais visit add", Percentile(add, 0.5), Percentile(add, 0.9),
              "<= 50 ms");
  std::printf("%-44s %7.1f ms %7.1f ms %10s\n", "relais visit list --date (a day, ~200)", Percentile(list, 0.5),
              Percentile(list, 0.9), "");
  std::printf("%-44s %7.1f ms %7.1f ms %10s\n", "relais case show (yardstick)", Percentile(show, 0.5),
              Percentile(show, 0.9), "");
  return 0;
}
