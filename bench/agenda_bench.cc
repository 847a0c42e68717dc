// What does a counsellor wait for `relais agenda` (the week: appointments, sessions, follow-ups due
// and overdue) and for `relais visit add`, the whole command (start, open the encrypted replica,
// read or write, print), on a busy territory's replica — 100,000 cases, 300,000 follow-ups, 50,000
// visits, with permanences and appointments (bench/sample_data.h) — unlocked as during her day?
// Targets (issue 29): agenda median ≤ 20 ms, visit add ≤ 50 ms. The yardstick is `relais case show`
// of one case on the same replica in the same run, so that a loaded machine shows as such. Also
// `relais stats` (issue 30: ≤ 200 ms on a device) over this year and over the last month.
// Then: the register's visits exported to CSV, imported on a fresh laptop bound to a real
// `relais-central serve` on loopback and synced to it (records/s of each). Prints a table. Not a
// test: see README "Benchmarks".
//
//   agenda_bench [--cases N] [--runs N] [--work DIR]
//
// --cases N scales everything (3 N follow-ups, N / 2 visits, N / 10 appointments).
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_common.h"
#include "bench/sample_data.h"
#include "client/export.h"
#include "client/replica_key.h"
#include "client/replica_port.h"
#include "sync/digest.h"
#include "server/store_open.h"
#include "tests/e2e/run.h"

using namespace relais;
using bench::Count;
using bench::Fail;
using bench::Must;
using bench::Percentile;
using Stopwatch = std::chrono::steady_clock;

namespace {

const char* const kPassphrase = "phrase de passe du banc d'essai de l'agenda";

std::string Binary(const char* name) { return std::string(RELAIS_BINARY_DIR) + "/" + name; }

double Seconds(Stopwatch::time_point since) { return std::chrono::duration<double>(Stopwatch::now() - since).count(); }

// `relais --db DB ARGS…`, which must succeed; its wall milliseconds.
double TimeOnce(const std::string& db, std::vector<std::string> args,
                const std::vector<std::pair<std::string, std::string>>& env = {}) {
  std::vector<std::string> argv = {Binary("relais"), "--db", db};
  argv.insert(argv.end(), args.begin(), args.end());
  auto t0 = Stopwatch::now();
  e2e::RunResult r = e2e::Run(argv, env);
  const double ms = std::chrono::duration<double, std::milli>(Stopwatch::now() - t0).count();
  if (r.exit_code != 0) Fail(args[0] + ": " + r.err);
  return ms;
}

void Row(const char* what, const std::vector<double>& ms, const char* target) {
  std::printf("%-44s %7.1f ms %7.1f ms %10s\n", what, Percentile(ms, 0.5), Percentile(ms, 0.9), target);
}

// The visits of `db` exported to CSV, imported on a fresh laptop bound to a fresh centre, and
// pushed to it: seconds of the import and of the sync.
std::pair<double, double> ImportAndSync(const std::string& db, const std::string& work, size_t& visits) {
  const std::string csv = work + "/visits.csv";
  {
    auto replica = Must(client::Replica::Open(db, SystemClock::Instance()), "open replica");
    std::ofstream out(csv, std::ios::binary);
    visits = Must(client::ExportTable(replica, schema::VisitsTable(), client::FileFormat::kCsv, out), "export");
  }
  const std::string store = work + "/central.db";
  const std::string laptop = work + "/laptop.db";
  for (const std::string& f : {store, laptop})
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(f + suffix);
  std::string token;
  {
    auto central = Must(server::OpenStore(store, server::OpenMode::kCreate), "central store");
    token = Must(central->AddDevice("pae-gap", {bench::kSampleTerritory}, server::Role::kDevice), "enrol");
  }
  e2e::Listening server =
      e2e::SpawnListening({Binary("relais-central"), "serve", "--db", store, "--listen", "127.0.0.1:0"},
                          work + "/central.log", std::chrono::seconds(30));
  const std::vector<std::pair<std::string, std::string>> env = {{"RELAIS_PASSPHRASE", kPassphrase}};
  TimeOnce(laptop, {"init", "--server", server.url, "--token", token}, env);
  // Unlocked as during a day, so that neither timed command derives the key from the passphrase.
  TimeOnce(laptop, {"unlock"}, env);
  const double import_s = TimeOnce(laptop, {"import", csv, "--kind", "visits"}) / 1000;
  const double sync_s = TimeOnce(laptop, {"sync"}) / 1000;
  TimeOnce(laptop, {"lock"});
  kill(server.pid, SIGTERM);
  int status;
  waitpid(server.pid, &status, 0);
  return {import_s, sync_s};
}

// What keeping the open next actions costs the pull (replica migration 0019): `count` follow-ups of
// `db`, in the order a centre would have versioned them (below), applied in pages of 1,000 through
// the pull's own ReplicaPort::ApplyPage to a fresh replica as migrated, and to one set back as
// before 0019 (no triggers, no table; 0015's index on next_date again), alternated; `runs` pairs.
// Seconds of each, in pairs.
std::vector<std::pair<double, double>> PullCost(const std::string& db, const std::string& work, size_t count, int runs) {
  std::vector<sync::PulledRecord> pulled;
  {
    auto replica = Must(client::Replica::Open(db, SystemClock::Instance()), "open replica");
    client::Records records(replica);
    const schema::Table& t = schema::FollowupsTable();
    auto all = Must(records.Query(t, "SELECT " + client::RecordColumns(t) + " FROM followups", {}), "follow-ups");
    // A centre's versions follow the order entries reached it: by date, each pushed within a week of
    // being written, so that the cases interleave.
    std::mt19937 rng(11);
    std::vector<std::pair<int64_t, size_t>> order;
    const int date_field = t.FieldIndex("date");
    for (size_t i = 0; i < all.size(); ++i)
      order.emplace_back(client::DayNumber(*all[i].values[static_cast<size_t>(date_field)]) + rng() % 8, i);
    std::sort(order.begin(), order.end());
    std::vector<schema::Record> sorted;
    for (size_t k = 0; k < std::min(count, order.size()); ++k) sorted.push_back(std::move(all[order[k].second]));
    all = std::move(sorted);
    sync::RecordDigester digester;
    int64_t version = 0;
    for (schema::Record& r : all) {
      r.version = ++version;
      const sync::StoredDigests digests = sync::DigestsOf(digester, r.id, r.version, r.values);
      pulled.push_back({std::string(t.name), std::move(r), digests});
    }
  }
  constexpr size_t kPage = 1000;
  auto apply = [&](bool before) {
    const std::string path = work + (before ? "/pull-before.db" : "/pull-after.db");
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto replica = Must(client::Replica::Open(path, SystemClock::Instance()), "fresh replica");
    if (before) {
      for (const char* sql : {"DROP TRIGGER followups_next_insert", "DROP TRIGGER followups_next_delete",
                              "DROP TABLE open_next_actions",
                              "CREATE INDEX followups_by_next_date ON followups(next_date, case_id, date, id) WHERE "
                              "next_date IS NOT NULL"}) {
        Must(replica.db().Exec(sql), sql);
      }
    }
    client::SqliteReplicaPort port(replica);
    const auto t0 = Stopwatch::now();
    for (size_t from = 0; from < pulled.size(); from += kPage) {
      sync::PullPage page;
      page.since = static_cast<int64_t>(from);
      page.next = static_cast<int64_t>(std::min(from + kPage, pulled.size()));
      page.more = page.next < static_cast<int64_t>(pulled.size());
      page.records.assign(pulled.begin() + static_cast<std::ptrdiff_t>(from), pulled.begin() + page.next);
      Must(port.ApplyPage(page), "apply page");
    }
    return Seconds(t0);
  };
  std::vector<std::pair<double, double>> out;
  for (int run = 0; run < runs; ++run) {
    double before = 0, after = 0;
    if (run % 2) {
      before = apply(true);
      after = apply(false);
    } else {
      after = apply(false);
      before = apply(true);
    }
    out.emplace_back(before, after);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int cases = 100000, runs = 30;
  std::string work = std::filesystem::temp_directory_path() / "relais-agenda-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--cases")
      cases = Count(argv[i + 1]);
    else if (flag == "--runs")
      runs = Count(argv[i + 1]);
    else if (flag == "--work")
      work = argv[i + 1];
    else
      Fail("option inconnue " + flag);
  }
  if (cases < 10 || runs < 1) Fail("--cases must be at least 10 and --runs at least 1");
  const bench::SampleSizes sizes{cases, 3 * cases, cases / 2, cases / 10};
  std::filesystem::create_directories(work);
  const std::string db = work + "/replica.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  const std::string today = client::LocalToday(SystemClock::Instance());
  auto fill_start = Stopwatch::now();
  client::Passphrases passphrases;
  passphrases.environment = kPassphrase;
  if (auto ready = client::PrepareReplicaKey(db, passphrases); !ready)
    Fail("encrypted replica: " + ready.error().message);
  bench::SampleData data;
  {
    auto replica = Must(client::Replica::Open(db, SystemClock::Instance()), "open replica");
    data = bench::FillSample(replica, sizes, today);
  }
  const double fill_s = Seconds(fill_start);

  e2e::RunResult unlocked = e2e::Run({Binary("relais"), "--db", db, "unlock"}, {{"RELAIS_PASSPHRASE", kPassphrase}});
  if (unlocked.exit_code != 0) Fail("relais unlock: " + unlocked.err);

  // What the agenda of this week holds, for the table.
  e2e::RunResult listed = e2e::Run({Binary("relais"), "--db", db, "agenda", "--json"});
  if (listed.exit_code != 0) Fail("relais agenda: " + listed.err);
  const size_t items = nlohmann::json::parse(listed.out)["items"].size();

  std::mt19937 rng(7);
  std::vector<std::string> picked;
  picked.reserve(static_cast<size_t>(runs));
  for (int i = 0; i < runs; ++i) picked.push_back(data.case_ids[rng() % data.case_ids.size()]);
  // Interleaved, so that a burst of load on the machine falls on every command alike.
  std::vector<double> agenda, agenda_month, add, show, stats_year, stats_month;
  // `relais stats` of issue 30 on the same encrypted replica: the register by month × reception
  // point × reason over this year, and over the last month.
  const std::string year = today.substr(0, 4);
  const std::vector<std::string> stats = {"stats", "--by", "month,reception_point", "--breakdown", "reason"};
  auto stats_over = [&stats](const std::string& from, const std::string& to) {
    std::vector<std::string> args = stats;
    args.insert(args.end(), {"--from", from, "--to", to});
    return args;
  };
  for (int i = 0; i < runs; ++i) {
    stats_year.push_back(TimeOnce(db, stats_over(year + "-01-01", year + "-12-31")));
    stats_month.push_back(TimeOnce(db, stats));
    agenda.push_back(TimeOnce(db, {"agenda"}));
    agenda_month.push_back(TimeOnce(db, {"agenda", "--days", "31", "--json"}));
    std::vector<std::string> a = {"visit",
                                  "add",
                                  "--territory",
                                  bench::kSampleTerritory,
                                  "--reception-point",
                                  "PAE Gap",
                                  "--channel",
                                  "accueil",
                                  "--mode",
                                  "flux",
                                  "--reason",
                                  "emploi",
                                  "--time",
                                  "09:30"};
    if (i % 2) {
      a.insert(a.end(), {"--case", picked[static_cast<size_t>(i)]});
    } else {
      a.insert(a.end(), {"--age-band", "26-44", "--status", "demandeur_emploi", "--commune", "Veynes"});
    }
    add.push_back(TimeOnce(db, a));
    show.push_back(TimeOnce(db, {"case", "show", picked[static_cast<size_t>(i)], "--json"}));
  }
  e2e::Run({Binary("relais"), "--db", db, "lock"});

  size_t visits = 0;
  const auto [import_s, sync_s] = ImportAndSync(db, work, visits);
  const size_t pulled = std::min<size_t>(100000, static_cast<size_t>(sizes.followups));
  const auto pull_pairs = PullCost(db, work, pulled, 7);

  std::printf(
      "replica: %d cases, %d follow-ups, %d visits, %d appointments, %zu permanences (filled in %.1f s); "
      "this week's agenda: %zu items; %d runs of each command\n\n",
      sizes.cases, sizes.followups, sizes.visits, sizes.appointments, data.permanence_ids.size(), fill_s, items, runs);
  std::printf("%-44s %10s %10s %10s\n", "command (whole process)", "median", "p90", "target");
  Row("relais agenda (this week)", agenda, "<= 20 ms");
  Row("relais agenda --days 31 --json", agenda_month, "");
  Row("relais visit add", add, "<= 50 ms");
  Row("relais case show (yardstick)", show, "");
  Row("relais stats (year, month x point x reason)", stats_year, "<= 200 ms");
  Row("relais stats (last month, idem)", stats_month, "<= 200 ms");
  std::printf("\n%zu visits: import %.2f s (%.0f records/s), sync to a fresh centre %.2f s (%.0f records/s)\n", visits,
              import_s, static_cast<double>(visits) / import_s, sync_s, static_cast<double>(visits) / sync_s);
  std::vector<double> before, after, ratio;
  for (const auto& [b, a] : pull_pairs) {
    before.push_back(static_cast<double>(pulled) / b);
    after.push_back(static_cast<double>(pulled) / a);
    ratio.push_back(b / a);
  }
  std::printf(
      "\n%zu follow-ups applied as a pull (ApplyPage, pages of 1,000), %zu alternated pairs, medians:\n"
      "  as before migration 0019 %9.0f records/s\n  keeping the open next actions %9.0f records/s\n"
      "  pairs' ratio (after / before) %.3f\n",
      pulled, pull_pairs.size(), Percentile(before, 0.5), Percentile(after, 0.5), Percentile(ratio, 0.5));
  return 0;
}
