// How long does erasing one person take in a large central store? Seeds the real SQLite central
// store (a file in a temp folder, WAL, synchronous=FULL, secure_delete) with N cases, each with
// H history versions chained as pushes chain them and one follow-up, plus push answers and change
// outcomes, then times CentralStore::ErasePerson (the whole erasure: history scrubbed, rows
// deleted, removals, conflicts, stored answers, receipt, commit, WAL checkpoint TRUNCATE) on cases
// drawn across the store. Prints a table. Not a test: see README "Benchmarks".
//
//   erasure_bench [--cases N] [--history-per-case H] [--erasures K] [--work DIR]
// Default: 100,000 cases, 10 versions each (1,000,000 history rows), 9 erasures (the median is
// reported). `--cases 2000` runs in seconds.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/ids.h"
#include "server/sqlite_store.h"

using namespace relais;
using Stopwatch = std::chrono::steady_clock;

namespace {

constexpr int64_t kT0 = 1798761600000;  // 2027-01-01T00:00:00Z

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "erasure_bench: %s\n", what.c_str());
  std::exit(1);
}

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string message = err ? err : "?";
    sqlite3_free(err);
    Fail(sql.substr(0, 60) + ": " + message);
  }
}

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) Fail(std::string(sql) + ": " + sqlite3_errmsg(db));
  return s;
}

void Step(sqlite3* db, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) Fail(sqlite3_errmsg(db));
  sqlite3_reset(s);
}

// Seeds the store's file directly (the push would take minutes for a million versions): the rows
// as pushes leave them, chained history included. Returns the case ids.
std::vector<std::string> Seed(const std::string& path, int cases, int versions) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Fail("cannot open " + path);
  Exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; BEGIN");
  Exec(db,
       "INSERT INTO devices(id, name, role, token_hash, created_at) VALUES (1, 'pae-gap', 'device', 'x', "
       "'2027-01-01T00:00:00Z')");
  sqlite3_stmt* put_case = Prepare(
      db,
      "INSERT INTO cases(id, last_name, first_name, birth_date, phone, status, service_level, territory, opened_on, "
      "notes, version, last_device, history_seq) VALUES (?1, ?2, 'Camille', '1980-01-01', '0611223344', "
      "'demandeur_emploi', 2, 'hautes-alpes-gap', '2027-01-01', ?3, ?4, 'pae-gap', ?4)");
  sqlite3_stmt* put_followup =
      Prepare(db,
              "INSERT INTO followups(id, case_id, kind, date, text, version, territory, last_device, history_seq) "
              "VALUES (?1, ?2, 'entretien', '2027-01-02', ?3, ?4, 'hautes-alpes-gap', 'pae-gap', ?4)");
  sqlite3_stmt* put_history =
      Prepare(db,
              "INSERT INTO history(seq, tbl, record_id, device, hlc, change_id, at, snapshot, lost, prev_seq) VALUES "
              "(?1, ?2, ?3, 'pae-gap', '1798761600000-000000-a1b2c3d4', ?4, ?5, ?6, NULL, ?7)");
  sqlite3_stmt* put_outcome = Prepare(
      db,
      "INSERT INTO change_outcomes(device_id, change_id, digest, status, version) VALUES (1, ?1, 'd', 'applied', ?2)");
  sqlite3_stmt* put_batch =
      Prepare(db,
              "INSERT INTO push_batches(device_id, batch_key, request_hash, response, created_at) "
              "VALUES (1, ?1, 'h', '{}', ?2)");
  std::vector<std::string> ids;
  int64_t seq = 0;
  auto at_of = [](int64_t s) {
    // One push answer per 1,000 versions, as batches of 1,000 changes leave them.
    char at[32];
    std::snprintf(at, sizeof at, "2027-01-%02dT%02d:%02d:00Z", 1 + static_cast<int>(s / 1000 / 1440 % 28),
                  static_cast<int>(s / 1000 / 60 % 24), static_cast<int>(s / 1000 % 60));
    return std::string(at);
  };
  auto history = [&](const char* table, const std::string& id, const std::string& snapshot) {
    int64_t prev = 0;
    for (int v = 0; v < versions; ++v) {
      ++seq;
      const std::string change = NewUuidV7(kT0 + seq);
      const std::string at = at_of(seq);
      sqlite3_bind_int64(put_history, 1, seq);
      sqlite3_bind_text(put_history, 2, table, -1, SQLITE_STATIC);
      sqlite3_bind_text(put_history, 3, id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(put_history, 4, change.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(put_history, 5, at.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(put_history, 6, snapshot.c_str(), -1, SQLITE_TRANSIENT);
      if (prev)
        sqlite3_bind_int64(put_history, 7, prev);
      else
        sqlite3_bind_null(put_history, 7);
      Step(db, put_history);
      sqlite3_bind_text(put_outcome, 1, change.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(put_outcome, 2, seq);
      Step(db, put_outcome);
      if (seq % 1000 == 0) {
        sqlite3_bind_text(put_batch, 1, change.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(put_batch, 2, at.c_str(), -1, SQLITE_TRANSIENT);
        Step(db, put_batch);
      }
      prev = seq;
    }
    return prev;
  };
  // Cases get most versions; each has one follow-up with a single version.
  for (int i = 0; i < cases; ++i) {
    const std::string id = NewUuidV7(kT0 + i);
    const std::string name = "Nom" + std::to_string(i);
    const std::string notes = "Notes du dossier " + std::to_string(i);
    const int64_t last = history("cases", id,
                                 "{\"last_name\":\"" + name +
                                     "\",\"first_name\":\"Camille\",\"status\":\"demandeur_emploi\",\"notes\":\"" +
                                     notes + "\",\"territory\":\"hautes-alpes-gap\",\"opened_on\":\"2027-01-01\"}");
    sqlite3_bind_text(put_case, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(put_case, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(put_case, 3, notes.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(put_case, 4, last);
    Step(db, put_case);
    ids.push_back(id);
  }
  for (int i = 0; i < cases; ++i) {
    const std::string fid = NewUuidV7(kT0 + cases + i);
    const std::string text = "Entretien " + std::to_string(i);
    int64_t saved = versions;
    versions = 1;
    const int64_t last = history("followups", fid,
                                 "{\"case_id\":\"" + ids[static_cast<size_t>(i)] +
                                     "\",\"kind\":\"entretien\",\"date\":\"2027-01-02\",\"text\":\"" + text + "\"}");
    versions = static_cast<int>(saved);
    sqlite3_bind_text(put_followup, 1, fid.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(put_followup, 2, ids[static_cast<size_t>(i)].c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(put_followup, 3, text.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(put_followup, 4, last);
    Step(db, put_followup);
  }
  Exec(db, "UPDATE meta SET last_seq = " + std::to_string(seq) + " WHERE id = 1");
  Exec(db, "COMMIT");
  for (sqlite3_stmt* s : {put_case, put_followup, put_history, put_outcome, put_batch}) sqlite3_finalize(s);
  Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_close(db);
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  int cases = 100000;
  int versions = 10;
  int erasures = 9;
  std::string work;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Fail(a + " : valeur attendue");
      return argv[++i];
    };
    if (a == "--cases")
      cases = std::atoi(next().c_str());
    else if (a == "--history-per-case")
      versions = std::atoi(next().c_str());
    else if (a == "--erasures")
      erasures = std::atoi(next().c_str());
    else if (a == "--work")
      work = next();
    else
      Fail("option inconnue : " + a + " (--cases N --history-per-case H --erasures K --work DIR)");
  }
  if (cases < erasures || versions < 1 || erasures < 1) Fail("--cases ≥ --erasures ≥ 1, --history-per-case ≥ 1");
  const std::filesystem::path dir = work.empty()
                                        ? std::filesystem::temp_directory_path() / ("erasure_bench-" + NewUuidV7(kT0))
                                        : std::filesystem::path(work);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "central.db").string();
  std::filesystem::remove(path);
  {
    auto store = server::SqliteStore::Open(path, server::OpenMode::kCreate);
    if (!store) Fail(store.error().message);
  }
  const auto seeding = Stopwatch::now();
  const std::vector<std::string> ids = Seed(path, cases, versions);
  const double seed_s = std::chrono::duration<double>(Stopwatch::now() - seeding).count();
  auto store = server::SqliteStore::Open(path, server::OpenMode::kExisting);
  if (!store) Fail(store.error().message);
  std::vector<double> ms;
  for (int k = 0; k < erasures; ++k) {
    const std::string& id = ids[static_cast<size_t>(k) * ids.size() / static_cast<size_t>(erasures)];
    const auto started = Stopwatch::now();
    auto erased = (*store)->ErasePerson(id, "bench", "bench", "staff");
    ms.push_back(std::chrono::duration<double, std::milli>(Stopwatch::now() - started).count());
    if (!erased) Fail(erased.error().message);
    if (erased->records != 2) Fail("expected 2 records erased, got " + std::to_string(erased->records));
  }
  std::sort(ms.begin(), ms.end());
  std::printf("| cases | history rows | erasures | median ms | max ms | seed s |\n");
  std::printf("| ---: | ---: | ---: | ---: | ---: | ---: |\n");
  std::printf("| %d | %lld | %d | %.1f | %.1f | %.0f |\n", cases, static_cast<long long>(cases) * versions + cases,
              erasures, ms[ms.size() / 2], ms.back(), seed_s);
  store->reset();
  if (work.empty()) std::filesystem::remove_all(dir);
  return 0;
}
