// A counsellor's device for end-to-end tests — a replica file driven through the real `relais`
// binary — and what the tests read straight from a database file: counts and integrity.
#pragma once

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/run.h"
#include "tests/sqlite_content.h"

namespace relais::e2e {

// The id of the `i`th generated case (from 0): 0190a1b2-0000-7000-8000-<i + 1, 12 digits>.
inline std::string GeneratedCaseId(int i) {
  char id[40];
  std::snprintf(id, sizeof id, "0190a1b2-0000-7000-8000-%012d", i + 1);
  return id;
}

// Writes cases [first, first + count) of `territory` as JSONL for `relais import`, as a reception
// point's file would hold them (six last names by six first names, a phone each, no birth date: no
// two are duplicates), to `name` in `dir`; returns its path.
inline std::string CasesFile(const TempDir& dir, int count, const std::string& territory, int first = 0,
                             const std::string& name = "cases.jsonl") {
  static const char* const kLast[] = {"Martin", "Lefèvre", "Névache", "Girard", "Dubois", "Roux"};
  static const char* const kFirst[] = {"Élodie", "Maël", "Zoé", "Inès", "Raphaël", "Aïcha"};
  std::string path = dir / name;
  std::ofstream out(path);
  for (int i = first; i < first + count; ++i) {
    out << nlohmann::json{{"id", GeneratedCaseId(i)},
                          {"last_name", kLast[i % 6]},
                          {"first_name", kFirst[(i / 6) % 6]},
                          {"opened_on", "2026-11-02"},
                          {"territory", territory},
                          {"phone", "0611" + std::to_string(100000 + i)},
                          {"status", "demandeur_emploi"},
                          {"service_level", 1 + i % 3}}
               .dump()
        << "\n";
  }
  return path;
}

class Device {
 public:
  Device(const TempDir& dir, const std::string& name) : db_(dir / (name + ".db")) {}

  RunResult Cmd(std::vector<std::string> args) const {
    std::vector<std::string> argv = {RelaisBinary(), "--db", db_};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  }
  nlohmann::json Json(std::vector<std::string> args) const {
    args.push_back("--json");
    RunResult r = Cmd(args);
    INFO("relais " << args.front() << " failed: " << r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  }
  void Init(const Central& c, const std::string& token) {
    RunResult r = Cmd({"init", "--server", c.url(), "--token", token});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  nlohmann::json Sync() const { return Json({"sync"}); }
  std::string AddCase(const std::string& last, const std::string& first, const std::string& territory) const {
    return Json({"case", "add", "--last-name", last, "--first-name", first, "--territory", territory})["id"]
        .get<std::string>();
  }
  nlohmann::json Show(const std::string& id) const { return Json({"case", "show", id}); }
  size_t CaseCount() const { return Json({"case", "list", "--limit", "0"}).size(); }
  const std::string& db() const { return db_; }
  // SHA-256 of every row of every table of the replica: what a refused command leaves as it was.
  std::string ContentHash() const { return relais::testing::SqliteContentHash(db_); }

 private:
  std::string db_;
};

// libfaketime, preloaded through env, which execs the program: not the `faketime` wrapper, which
// forks it and keeps a semaphore and a shared-memory file named by its own pid in /dev/shm (left
// behind by a killed run, they make a later wrapper with the same pid fail, "sem_open: File exists").
inline constexpr const char* kFaketimePreload = "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

// `relais` on the replica of `device`, with the whole process's clock shifted by libfaketime
// (`offset` as faketime takes it: "+30d", "-30d").
inline RunResult SkewedRun(const Device& device, const std::string& offset, std::vector<std::string> args) {
  std::vector<std::string> argv = {"/usr/bin/env", kFaketimePreload, "FAKETIME=" + offset,
                                   RelaisBinary(), "--db",           device.db()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

// SkewedRun with --json, which must succeed: its output.
inline nlohmann::json SkewedJson(const Device& device, const std::string& offset, std::vector<std::string> args) {
  args.push_back("--json");
  RunResult r = SkewedRun(device, offset, args);
  INFO("faketime " << offset << " relais " << args.front() << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

// The first column of the first row of `sql` on the database file `db`, opened read-only.
inline std::string QueryText(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr);
  INFO(sql << ": " << sqlite3_errmsg(h));
  REQUIRE(rc == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const unsigned char* text = sqlite3_column_text(st, 0);
  std::string out = text ? reinterpret_cast<const char*>(text) : "";
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

inline int64_t Count(const std::string& db, const std::string& sql) { return std::stoll(QueryText(db, sql)); }

// PRAGMA integrity_check of a database file: "ok", or what is wrong.
inline std::string Integrity(const std::string& db) {
  return QueryText(db, "SELECT group_concat(integrity_check, '; ') FROM pragma_integrity_check");
}

// Runs `sql` on the database file `db`, read-write (to corrupt a replica on purpose).
inline void Exec(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  INFO(sql << ": " << (err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(h);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace relais::e2e
