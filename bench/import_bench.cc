// How fast does the replica take a big import through the real write path (outbox on), against a
// raw SQLite insert of the same rows? How fast are `case search` and `case show` at that size, and
// how big is the file? The same on an encrypted replica (docs/PRIVACY.md) in the same run, with the
// ratios. Prints a table. Not a test: see README "Benchmarks".
//
//   import_bench [--cases N] [--dataset DIR] [--work DIR]
//
// DIR of --dataset holds gen_dataset.py (default: ../shared/data from the repository root, or
// $RELAIS_SHARED/data).
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "client/cases.h"
#include "client/csv.h"
#include "client/import.h"
#include "client/records.h"
#include "client/replica.h"
#include "client/replica_key.h"

using namespace relais;
using Stopwatch = std::chrono::steady_clock;

namespace {

double Seconds(Stopwatch::time_point since) { return std::chrono::duration<double>(Stopwatch::now() - since).count(); }

double Percentile(std::vector<double> ms, double p) {
  std::sort(ms.begin(), ms.end());
  return ms[static_cast<size_t>(p * static_cast<double>(ms.size() - 1))];
}

uintmax_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

// The repository root, from this file's path as the compiler saw it (absolute in CMake builds).
std::string RepoRoot() { return RELAIS_SOURCE_DIR; }  // bench/CMakeLists.txt

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "import_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T Must(Result<T> r, const char* what) {
  if (!r) Fail(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

// The raw baseline: the same rows, already parsed, into a plain table with the same columns, one
// prepared statement, one transaction, the same pragmas (WAL, synchronous=FULL).
double RawInsert(const std::string& path, const std::string& csv_text) {
  client::CsvReader reader(csv_text);
  std::vector<std::string> header, cells;
  std::vector<std::vector<std::string>> rows;
  (void)reader.Next(header);
  while (*reader.Next(cells)) rows.push_back(cells);

  auto db = Must(sqlite::Db::Open(path), "raw open");
  std::string columns, params;
  for (size_t i = 0; i < header.size(); ++i) {
    const schema::Field* f = schema::CasesTable().FindField(header[i]);
    columns += (i ? ", " : "") + header[i] +
               (header[i] == "id"                         ? " TEXT PRIMARY KEY"
                : f && f->type == schema::FieldType::kInt ? " INTEGER"
                                                          : " TEXT");
    params += (i ? ", ?" : "?") + std::to_string(i + 1);
  }
  if (!db.Exec("CREATE TABLE raw_cases (" + columns + ", version INTEGER NOT NULL DEFAULT 0)").ok()) Fail("raw table");
  auto start = Stopwatch::now();
  auto stmt = Must(db.Prepare("INSERT INTO raw_cases VALUES (" + params + ", 0)"), "raw prepare");
  if (!db.Exec("BEGIN IMMEDIATE").ok()) Fail("raw begin");
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) stmt.Bind(static_cast<int>(i) + 1, std::string_view(row[i]));
    if (!stmt.Run().ok()) Fail("raw insert");
    stmt.Reset();
  }
  if (!db.Exec("COMMIT").ok()) Fail("raw commit");
  return Seconds(start);
}

}  // namespace

// What one replica (plain or encrypted) measures: the import, then show and search at that size.
struct ReplicaMeasures {
  size_t records = 0;
  double import_rate = 0;
  double search_median = 0, search_p90 = 0, show_median = 0, show_p90 = 0;
  uintmax_t bytes = 0;
  size_t hits = 0;
};

ReplicaMeasures MeasureReplica(const std::string& replica_path, bool encrypted, const std::string& csv_path) {
  // 1. Import through the real write path.
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(replica_path + suffix);
  if (encrypted) {
    client::Passphrases passphrases;
    passphrases.environment = "phrase de passe du banc d'essai";
    if (auto ready = client::PrepareReplicaKey(replica_path, passphrases); !ready) {
      Fail("encrypted replica: " + ready.error().message);
    }
  }
  auto replica = Must(client::Replica::Open(replica_path, SystemClock::Instance()), "open replica");
  client::Records records(replica);
  auto start = Stopwatch::now();
  auto summary = Must(client::ImportFile(records, csv_path, std::string("cases")), "import");
  double import_s = Seconds(start);

  // 3. Follow-ups on 200 random cases, then `case show` of those (the calls the CLI makes).
  std::mt19937 rng(7);
  auto ids_stmt = Must(replica.db().Prepare("SELECT id FROM cases"), "ids");
  std::vector<std::string> ids;
  while (*ids_stmt.Step()) ids.push_back(ids_stmt.Text(0));
  std::shuffle(ids.begin(), ids.end(), rng);
  ids.resize(std::min<size_t>(200, ids.size()));
  if (!replica.db().Exec("BEGIN IMMEDIATE").ok()) Fail("begin");
  for (const std::string& id : ids) {
    for (int k = 0; k < 3; ++k) {
      client::FieldValues f = {{"case_id", id},
                               {"kind", "entretien"},
                               {"date", "2026-0" + std::to_string(k + 1) + "-10"},
                               {"text", "Entretien de suivi, point sur la recherche d'emploi."}};
      std::vector<schema::Value> values;
      for (const auto& field : schema::FollowupsTable().fields) {
        schema::Value v;
        for (const auto& [name, value] : f) {
          if (name == field.name) v = value;
        }
        values.push_back(v);
      }
      Must(records.CreateInTransaction(schema::FollowupsTable(), values, std::nullopt), "followup");
    }
  }
  if (!replica.db().Exec("COMMIT").ok()) Fail("commit");
  std::vector<double> show_ms;
  for (const std::string& id : ids) {
    auto t0 = Stopwatch::now();
    auto c = Must(records.Get(schema::CasesTable(), id), "show get");
    Must(records.PendingFor(schema::CasesTable(), id), "show pending");
    auto followups = Must(client::ListFollowups(records, id), "show followups");
    for (const auto& f : followups) Must(records.PendingFor(schema::FollowupsTable(), f.id), "show pending");
    if (!c || followups.size() != 3) Fail("show found nothing");
    show_ms.push_back(Seconds(t0) * 1000);
  }

  // 4. `case search` with names, first names and communes, whole or prefixes, without accents.
  const char* words[] = {"martin", "lefevre",     "lef",       "briancon", "nevache",  "elodie",  "zoe",
                         "gap",    "mor",         "cervieres", "dupont",   "la grave", "saint",   "raphael",
                         "garcia", "ines martin", "monetier",  "bastia",   "ajac",     "fournier"};
  std::vector<double> search_ms;
  size_t hits = 0;
  for (int i = 0; i < 200; ++i) {
    auto t0 = Stopwatch::now();
    auto found = Must(records.Search(schema::CasesTable(), words[i % 20]), "search");
    search_ms.push_back(Seconds(t0) * 1000);
    hits += found.size();
  }

  if (!replica.db().Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok()) Fail("checkpoint");
  ReplicaMeasures m;
  m.records = summary.records;
  m.import_rate = static_cast<double>(summary.records) / import_s;
  m.search_median = Percentile(search_ms, 0.5);
  m.search_p90 = Percentile(search_ms, 0.9);
  m.show_median = Percentile(show_ms, 0.5);
  m.show_p90 = Percentile(show_ms, 0.9);
  m.bytes = FileSize(replica_path);
  m.hits = hits;
  return m;

}

int main(int argc, char** argv) {
  size_t n_cases = 100000;
  std::string dataset, work;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cases" && i + 1 < argc)
      n_cases = std::stoul(argv[++i]);
    else if (a == "--dataset" && i + 1 < argc)
      dataset = argv[++i];
    else if (a == "--work" && i + 1 < argc)
      work = argv[++i];
    else
      Fail("usage: import_bench [--cases N] [--dataset DIR] [--work DIR]");
  }
  if (dataset.empty()) {
    const char* shared = std::getenv("RELAIS_SHARED");
    dataset = shared ? std::string(shared) + "/data" : RepoRoot() + "/../shared/data";
  }
  if (work.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "relais-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) Fail("mkdtemp");
    work = pattern;
  }
  std::string data = work + "/data";
  std::string command = "python3 '" + dataset + "/gen_dataset.py' " + std::to_string(n_cases) + " 0 '" + data + "' 42";
  if (std::system(command.c_str()) != 0) Fail("cannot run " + command);
  std::string csv_path = data + "/cases.csv", jsonl_path = data + "/cases.jsonl";
  std::ifstream in(csv_path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string csv_text = buf.str();

  // 1. The replica, plain then encrypted, in the same run (docs/PRIVACY.md).
  ReplicaMeasures plain = MeasureReplica(work + "/replica.db", false, csv_path);
  ReplicaMeasures encrypted = MeasureReplica(work + "/encrypted.db", true, csv_path);

  // 2. Raw insert of the same rows.
  std::string raw_path = work + "/raw.db";
  std::filesystem::remove(raw_path);
  double raw_s = RawInsert(raw_path, csv_text);
  uintmax_t replica_bytes = plain.bytes, csv_bytes = FileSize(csv_path), jsonl_bytes = FileSize(jsonl_path);
  size_t hits = plain.hits;
  const size_t n_records = plain.records;
  double import_rate = plain.import_rate;
  double raw_rate = static_cast<double>(n_records) / raw_s;
  std::printf("Relais import benchmark: %zu cases (gen_dataset.py seed 42), WAL, synchronous=FULL\n\n",
              n_records);
  std::printf("%-44s %14s %12s\n", "measure", "value", "target");
  std::printf("%-44s %14s %12s\n", "--------------------------------------------", "--------------", "------------");
  std::printf("%-44s %10.0f r/s %12s\n", "import through write path (outbox on)", import_rate, "");
  std::printf("%-44s %10.0f r/s %12s\n", "raw insert, plain table, 1 stmt, 1 tx", raw_rate, "");
  std::printf("%-44s %13.0f%% %12s\n", "import / raw", 100.0 * import_rate / raw_rate, ">= 50%");
  std::printf("%-44s %11.2f ms %12s\n", "case search median (200 queries)", plain.search_median, "<= 5 ms");
  std::printf("%-44s %11.2f ms %12s\n", "case search p90", plain.search_p90, "");
  std::printf("%-44s %11.2f ms %12s\n", "case show median (200 ids, 3 follow-ups)", plain.show_median, "<= 2 ms");
  std::printf("%-44s %11.2f ms %12s\n", "case show p90", plain.show_p90, "");
  std::printf("%-44s %11.1f MB %12s\n", "replica file (after checkpoint)", static_cast<double>(replica_bytes) / 1e6,
              "");
  std::printf("%-44s %11.1f MB %12s\n", "raw data as CSV", static_cast<double>(csv_bytes) / 1e6, "");
  std::printf("%-44s %11.1f MB %12s\n", "raw data as JSONL", static_cast<double>(jsonl_bytes) / 1e6, "");
  std::printf("%-44s %13.2fx %12s\n", "replica / CSV",
              static_cast<double>(replica_bytes) / static_cast<double>(csv_bytes), "<= 2x");
  std::printf("%-44s %13.2fx %12s\n", "replica / JSONL",
              static_cast<double>(replica_bytes) / static_cast<double>(jsonl_bytes), "<= 2x");
  std::printf("\nEncrypted replica (XChaCha20-Poly1305 per page, docs/PRIVACY.md) against plain, same run:\n\n");
  std::printf("%-44s %10s %10s %8s %10s\n", "measure", "plain", "encrypted", "ratio", "target");
  std::printf("%-44s %10.0f %10.0f %8.2f %10s\n", "import (r/s)", plain.import_rate, encrypted.import_rate,
              encrypted.import_rate / plain.import_rate, ">= 0.75");
  std::printf("%-44s %10.2f %10.2f %8.2f %10s\n", "case search median (ms)", plain.search_median,
              encrypted.search_median, encrypted.search_median / plain.search_median, "<= 5 ms");
  std::printf("%-44s %10.2f %10.2f %8.2f %10s\n", "case search p90 (ms)", plain.search_p90, encrypted.search_p90,
              encrypted.search_p90 / plain.search_p90, "");
  std::printf("%-44s %10.2f %10.2f %8.2f %10s\n", "case show median (ms)", plain.show_median, encrypted.show_median,
              encrypted.show_median / plain.show_median, "<= 2 ms");
  std::printf("%-44s %10.2f %10.2f %8.2f %10s\n", "case show p90 (ms)", plain.show_p90, encrypted.show_p90,
              encrypted.show_p90 / plain.show_p90, "");
  std::printf("%-44s %10.1f %10.1f %8.2f %10s\n", "replica file (MB, after checkpoint)",
              static_cast<double>(plain.bytes) / 1e6, static_cast<double>(encrypted.bytes) / 1e6,
              static_cast<double>(encrypted.bytes) / static_cast<double>(plain.bytes), "");
  if (encrypted.hits != plain.hits) Fail("the encrypted replica found other search hits than the plain one");
  std::printf("\n(%zu search hits in all; work folder %s)\n", hits, work.c_str());
  return 0;
}
