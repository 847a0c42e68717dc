// How long does the statistics engine (stats/, docs/STATISTICS.md) take for the table a director
// asks first — visits by month and reception point, broken down by reason — at the centre over
// 1,000,000 visits and 100,000 cases (SQLite store, and PostgreSQL when RELAIS_TEST_PG_URL names a
// cluster), and on a device replica of 100,000 cases and 50,000 visits? Targets (issue 30): ≤ 500 ms
// at the centre on both stores, ≤ 200 ms on the device. The yardstick, in the same run on the same
// database, is a bare `SELECT count(*)` of the period's visits: what reading the period's index
// costs at least. Prints a table. Not a test: see README "Benchmarks".
//
//   stats_bench [--scale F] [--runs N] [--work DIR]
//   ./scripts/pg_cluster.sh run ./build/bench/stats_bench      # PostgreSQL too
//
// --scale 0.05 for a quick run (every size multiplied). The records are written straight into the
// tables (the write path is not what is measured), visits in a register's proportions: 20 reception
// points in 5 territories, seven in ten anonymous, one to three reasons, one in a hundred amended.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "client/replica.h"
#include "client/replica_stats.h"
#include "pg/conn.h"
#include "server/store_migration.h"
#include "server/store_open.h"
#include "sqlite/db.h"
#include "stats/engine.h"

using namespace relais;
using Stopwatch = std::chrono::steady_clock;

namespace {

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "stats_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T Must(Result<T> r, const char* what) {
  if (!r) Fail(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}
void Must(const Status& s, const char* what) {
  if (!s.ok()) Fail(std::string(what) + ": " + s.error().message);
}

double Median(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

template <class Fn>
double Time(int runs, Fn&& fn) {
  fn();  // warm the caches, as a second query of the same table would find them
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = Stopwatch::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(Stopwatch::now() - start).count());
  }
  return Median(ms);
}

const char* const kTerritories[] = {"hautes-alpes-gap", "hautes-alpes-brianconnais", "hautes-alpes-embrunais",
                                    "alpes-de-haute-provence-digne", "drome-nyons"};
const char* const kReasons[] = {"emploi",    "formation", "creation_activite", "orientation", "droits_demarches",
                                "numerique", "mobilite",  "logement",          "sante",       "autre"};
const char* const kStatuses[] = {"demandeur_emploi", "salarie", "retraite", "etudiant", "independant", "sans_activite"};
const char* const kChannels[] = {"accueil", "telephone", "courriel", "permanence"};

std::string Id(int kind, int64_t n) {
  char id[64];
  std::snprintf(id, sizeof id, "0190a1b2-%04d-7000-8000-%012lld", kind, static_cast<long long>(n));
  return id;
}
std::string Date(std::mt19937& rng) {
  char d[32];
  std::snprintf(d, sizeof d, "2026-%02d-%02d", std::uniform_int_distribution<int>(1, 12)(rng),
                std::uniform_int_distribution<int>(1, 28)(rng));
  return d;
}
std::string Point(int territory, int point) {
  return "Point " + std::to_string(territory + 1) + "." + std::to_string(point + 1);
}

// Writes `cases` cases and `visits` visits into the open database's tables (the replica's or the
// central store's: the same columns), with `bookkeeping` the central columns' values or "".
void Fill(sqlite::Db& db, int64_t cases, int64_t visits, bool central) {
  std::mt19937 rng(42);
  Must(db.Exec("BEGIN"), "begin");
  auto c = Must(db.Prepare(std::string("INSERT INTO cases(id, last_name, first_name, territory, reception_point, "
                                       "status, birth_date, opened_on, version) VALUES (?1, 'Martin', 'Zoé', ?2, ?3, "
                                       "?4, '1980-05-17', ?5, ") +
                           (central ? "?6)" : "0)")),
                "insert case");
  for (int64_t i = 0; i < cases; ++i) {
    const int t = static_cast<int>(i % 5);
    c.Bind(1, Id(1, i)).Bind(2, kTerritories[t]).Bind(3, Point(t, static_cast<int>(i / 5 % 4)));
    c.Bind(4, kStatuses[i % 6]).Bind(5, Date(rng));
    if (central) c.Bind(6, int64_t{i + 1});
    Must(c.Run(), "case");
    c.Reset();
  }
  auto v = Must(db.Prepare(std::string("INSERT INTO visits(id, territory, reception_point, date, channel, mode, "
                                       "reasons, case_id, status, amends, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                       "?7, ?8, ?9, ?10, ") +
                           (central ? "?11)" : "0)")),
                "insert visit");
  std::uniform_int_distribution<int> percent(0, 99), reason(0, 9), count(1, 3);
  for (int64_t i = 0; i < visits; ++i) {
    const int t = static_cast<int>(i % 5);
    std::string reasons = kReasons[reason(rng) % 3];
    for (int k = count(rng); k > 1; --k) {
      const std::string more = kReasons[reason(rng)];
      if (reasons.find(more) == std::string::npos) reasons += "," + more;
    }
    v.Bind(1, Id(2, i)).Bind(2, kTerritories[t]).Bind(3, Point(t, static_cast<int>(i / 5 % 4))).Bind(4, Date(rng));
    v.Bind(5, kChannels[percent(rng) % 4]).Bind(6, percent(rng) < 75 ? "flux" : "rendez_vous").Bind(7, reasons);
    v.Bind(8, percent(rng) < 30 ? schema::Value(Id(1, (i * 7919) % std::max<int64_t>(cases, 1))) : schema::Value());
    v.Bind(9, kStatuses[percent(rng) % 6]);
    v.Bind(10, i > 100 && percent(rng) == 0 ? schema::Value(Id(2, i - 50)) : schema::Value());
    if (central) v.Bind(11, int64_t{cases + i + 1});
    Must(v.Run(), "visit");
    v.Reset();
  }
  Must(db.Exec("COMMIT"), "commit");
}

stats::Query Headline(const std::string& from, const std::string& to) {
  stats::Query q;
  q.from = from;
  q.to = to;
  q.by = {"month", "reception_point"};
  q.measure = "visits";
  q.breakdown = "reason";
  return q;
}

struct Line {
  std::string where, what;
  double ms;
  std::string target;
};

}  // namespace

int main(int argc, char** argv) {
  double scale = 1.0;
  int runs = 7;
  std::string work;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--scale" && i + 1 < argc) scale = std::strtod(argv[++i], nullptr);
    else if (a == "--runs" && i + 1 < argc) runs = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    else if (a == "--work" && i + 1 < argc) work = argv[++i];
    else Fail("usage: stats_bench [--scale F] [--runs N] [--work DIR]");
  }
  if (work.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "stats-bench-XXXXXX").string();
    work = mkdtemp(pattern.data());
  }
  const auto sized = [scale](int64_t n) { return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * scale)); };
  const int64_t centre_cases = sized(100000), centre_visits = sized(1000000);
  const int64_t device_cases = sized(100000), device_visits = sized(50000);
  std::vector<Line> lines;
  const std::pair<std::string, std::string> year{"2026-01-01", "2026-12-31"}, month{"2026-10-01", "2026-10-31"};
  const std::string kYardstick = "SELECT count(*) FROM visits WHERE date >= ?1 AND date <= ?2";

  // The centre, SQLite: the store made and migrated by OpenStore, filled, opened again (which fills
  // the records' digests once, as for any store).
  const std::string central = work + "/central.db";
  std::filesystem::remove(central);
  { Must(server::OpenStore(central, server::OpenMode::kCreate), "create store"); }
  {
    auto db = Must(sqlite::Db::Open(central, false), "open store file");
    const auto start = Stopwatch::now();
    Fill(db, centre_cases, centre_visits, true);
    std::fprintf(stderr, "centre filled in %.1f s\n", std::chrono::duration<double>(Stopwatch::now() - start).count());
  }
  auto measure_store = [&](const std::string& where, const std::string& spec) {
    auto store = Must(server::OpenStore(spec, server::OpenMode::kExisting), "open store");
    for (const auto& entry : {std::pair("2026 (12 months)", year), std::pair("October 2026", month)}) {
    const auto& label = entry.first;
    const auto& period = entry.second;
      size_t cells = 0;
      const double ms = Time(runs, [&] {
        auto t = Must(store->Stats(Headline(period.first, period.second)), "stats");
        cells = static_cast<size_t>(t.grid.rows) * static_cast<size_t>(t.grid.cols);
      });
      lines.push_back({where, "month × point × reason, " + std::string(label) + " (" + std::to_string(cells) + " cells)",
                       ms, "≤ 500 ms"});
    }
  };
  measure_store("centre, SQLite", central);
  {
    auto db = Must(sqlite::Db::Open(central, false), "open store file");
    for (const auto& entry : {std::pair("2026", year), std::pair("October 2026", month)}) {
    const auto& label = entry.first;
    const auto& period = entry.second;
      const double ms = Time(runs, [&] {
        auto s = Must(db.Prepare(kYardstick), "yardstick");
        s.Bind(1, period.first).Bind(2, period.second);
        Must(s.Step(), "yardstick");
      });
      lines.push_back({"centre, SQLite", "yardstick: count(*) of the visits of " + std::string(label), ms, ""});
    }
  }

  // The centre, PostgreSQL: the same store copied by `relais-central migrate`.
  if (const char* admin = std::getenv("RELAIS_TEST_PG_URL")) {
    auto conn = Must(pg::Conn::Open(admin), "connect to PostgreSQL");
    (void)conn->Exec("DROP DATABASE IF EXISTS stats_bench WITH (FORCE)");
    Must(conn->Exec("CREATE DATABASE stats_bench"), "create database");
    const std::string url = std::string(admin).substr(0, std::string(admin).rfind('/') + 1) + "stats_bench";
    const auto start = Stopwatch::now();
    Must(server::MigrateSqliteToPostgres(central, url), "migrate to PostgreSQL");
    std::fprintf(stderr, "copied to PostgreSQL in %.1f s\n", std::chrono::duration<double>(Stopwatch::now() - start).count());
    {
      auto bench = Must(pg::Conn::Open(url), "connect to stats_bench");
      Must(bench->ExecScript("VACUUM ANALYZE"), "vacuum analyze");
    }
    measure_store("centre, PostgreSQL", url);
    auto bench = Must(pg::Conn::Open(url), "connect to stats_bench");
    for (const auto& entry : {std::pair("2026", year), std::pair("October 2026", month)}) {
    const auto& label = entry.first;
    const auto& period = entry.second;
      const double ms = Time(runs, [&] {
        Must(bench->Exec("SELECT count(*) FROM visits WHERE date >= $1 AND date <= $2", {period.first, period.second}),
             "yardstick");
      });
      lines.push_back({"centre, PostgreSQL", "yardstick: count(*) of the visits of " + std::string(label), ms, ""});
    }
  }

  // The device: a plain replica (the engine's reads are the same on an encrypted one, each page
  // decrypted once it is read).
  {
    const std::string path = work + "/replica.db";
    std::filesystem::remove(path);
    auto replica = Must(client::Replica::Open(path, SystemClock::Instance()), "open replica");
    Fill(replica.db(), device_cases, device_visits, false);
    for (const auto& entry : {std::pair("2026 (12 months)", year), std::pair("October 2026", month)}) {
    const auto& label = entry.first;
    const auto& period = entry.second;
      const double ms = Time(runs, [&] { Must(client::ReplicaStats(replica, Headline(period.first, period.second)), "stats"); });
      lines.push_back({"device replica", "month × point × reason, " + std::string(label), ms, "≤ 200 ms"});
      const double yard = Time(runs, [&] {
        auto s = Must(replica.db().Prepare(kYardstick), "yardstick");
        s.Bind(1, period.first).Bind(2, period.second);
        Must(s.Step(), "yardstick");
      });
      lines.push_back({"device replica", "yardstick: count(*) of the visits of " + std::string(label), yard, ""});
    }
  }

  std::printf("stats_bench: centre %lld cases, %lld visits; device %lld cases, %lld visits; median of %d runs\n\n",
              static_cast<long long>(centre_cases), static_cast<long long>(centre_visits),
              static_cast<long long>(device_cases), static_cast<long long>(device_visits), runs);
  std::printf("| where | query | median | target |\n| --- | --- | ---: | --- |\n");
  for (const Line& l : lines) std::printf("| %s | %s | %.1f ms | %s |\n", l.where.c_str(), l.what.c_str(), l.ms, l.target.c_str());
  return 0;
}
