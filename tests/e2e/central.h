// A real `relais-central serve` process for end-to-end tests, on a port the OS picks.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/run.h"
#include "tests/pg_test_db.h"

extern char** environ;

namespace relais::e2e {

inline std::string CentralBinary() { return std::string(RELAIS_BINARY_DIR) + "/relais-central"; }
inline std::string RelaisBinary() { return std::string(RELAIS_BINARY_DIR) + "/relais"; }

// The rows of `sql` on an SQLite file, each as its columns' texts joined by "|" (NULL as "∅").
inline std::vector<std::string> SqliteRows(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    throw std::runtime_error("cannot open " + db);
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::string message = sql + ": " + sqlite3_errmsg(h);
    sqlite3_close(h);
    throw std::runtime_error(message);
  }
  std::vector<std::string> rows;
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const unsigned char* t = sqlite3_column_text(st, i);
      row += (i ? "|" : "") + (t ? std::string(reinterpret_cast<const char*>(t)) : std::string("∅"));
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rows;
}

// The centre: its store is a file in `dir`, or a database of its own on the test PostgreSQL
// cluster when the program runs for PostgreSQL (RELAIS_TEST_STORE=postgresql).
class Central {
 public:
  explicit Central(std::filesystem::path dir) : dir_(std::move(dir)), db_((dir_ / "central.db").string()) {
    if (relais::testing::OnPostgres()) pg_ = std::make_unique<relais::testing::PgTestDatabase>();
  }
  ~Central() { Kill(SIGKILL); }
  Central(const Central&) = delete;
  Central& operator=(const Central&) = delete;

  // Before Start(): run the server through `wrapper`, a program that execs it (`ip netns exec NS`,
  // PoorLink::InNamespace()), listening on `host` instead of 127.0.0.1. The SQLite store stays a
  // file of this test's folder; a PostgreSQL one would be out of the namespace's reach.
  void RunInside(std::vector<std::string> wrapper, std::string host) {
    wrapper_ = std::move(wrapper);
    host_ = std::move(host);
  }

  // Starts the server and waits (up to 10 s) for its "listening on URL" line. On a restart the
  // server gets a new port: url() changes, so replicas are re-bound with Rebind().
  void Start() {
    std::vector<std::string> args = wrapper_;
    for (const std::string& a :
         {CentralBinary(), std::string("serve"), std::string("--listen"), host_ + ":" + std::to_string(port_)}) {
      args.push_back(a);
    }
    for (const std::string& a : StoreArgs()) args.push_back(a);
    for (const std::string& a : serve_args_) args.push_back(a);
    Listening server = SpawnListening(args, (dir_ / "server.log").string(), std::chrono::seconds(10));
    pid_ = server.pid;
    url_ = server.url;
    port_ = std::stoi(url_.substr(url_.rfind(':') + 1));  // a restart reuses the port
  }

  void Kill(int sig) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  bool Running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Before Start(): more options of `serve` (--tls-cert FILE …).
  void ServeArgs(std::vector<std::string> args) { serve_args_ = std::move(args); }
  // The server's stderr so far.
  std::string Log() const {
    std::ifstream in(dir_ / "server.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string& url() const { return url_; }
  // How `relais-central` commands name this store: {"--db", FILE} or {"--store", URL}.
  std::vector<std::string> StoreArgs() const {
    if (pg_) return {"--store", pg_->url()};
    return {"--db", db_};
  }

  // The rows of `sql` on the store, as SqliteRows gives them.
  std::vector<std::string> Rows(const std::string& sql) const {
    if (!pg_) return SqliteRows(db_, sql);
    std::vector<std::string> rows;
    for (const auto& cells : pg_->Admin().Query(sql)) {
      std::string row;
      for (size_t i = 0; i < cells.size(); ++i)
        row += (i ? "|" : "") + (cells[i] == "\\N" ? std::string("∅") : cells[i]);
      rows.push_back(std::move(row));
    }
    return rows;
  }
  int64_t Count(const std::string& sql) const { return std::stoll(Rows(sql).at(0)); }

  // "ok" when the store is sound after a kill: SQLite's PRAGMA integrity_check of the file; on
  // PostgreSQL, whose own write-ahead log recovers a killed server, that the database answers a
  // read of every table.
  std::string Integrity() const {
    if (!pg_) {
      std::string out;
      for (const std::string& row : SqliteRows(db_, "PRAGMA integrity_check")) out += (out.empty() ? "" : "; ") + row;
      return out;
    }
    Count(
        "SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM followups) + (SELECT count(*) FROM contacts) + "
        "(SELECT count(*) FROM history) + (SELECT count(*) FROM conflicts)");
    return "ok";
  }

  // A backup of the store as it is now: the file copied in one consistent read (VACUUM INTO) while
  // the server runs, or, on PostgreSQL, the database copied while the server is stopped.
  void Backup() {
    if (pg_) {
      const bool running = Running();
      Kill(SIGTERM);
      pg_->Backup();
      if (running) Start();
      return;
    }
    std::filesystem::remove(backup_path());
    sqlite3* h = nullptr;
    if (sqlite3_open(db_.c_str(), &h) != SQLITE_OK ||
        sqlite3_exec(h, ("VACUUM INTO '" + backup_path() + "'").c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      sqlite3_close(h);
      throw std::runtime_error("cannot back up " + db_);
    }
    sqlite3_close(h);
  }

  // Stops the server and puts the backup (Backup) back. `declare`: as an operator told of it would,
  // with `relais-central restore BACKUP` (SQLite) or the database restored then `relais-central
  // restored` (PostgreSQL); otherwise the store is put back behind the centre's back. Start() next.
  void RestoreBackup(bool declare) {
    Kill(SIGTERM);
    if (pg_) {
      pg_->Restore();
    } else if (!declare) {
      for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(db_ + suffix);
      std::filesystem::copy_file(backup_path(), db_, std::filesystem::copy_options::overwrite_existing);
    }
    if (!declare) return;
    std::vector<std::string> args = {CentralBinary()};
    if (pg_) {
      args.push_back("restored");
    } else {
      args.push_back("restore");
      args.push_back(backup_path());
    }
    for (const std::string& a : StoreArgs()) args.push_back(a);
    RunResult r = Run(args);
    if (r.exit_code != 0) throw std::runtime_error("restore failed: " + r.err);
  }

  // Stops the server and replaces its store by an empty one: a centre reinstalled. Start() next.
  void Reinstall() {
    Kill(SIGTERM);
    if (pg_) {
      pg_->Restore(/*empty=*/true);
      return;
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_ + suffix);
  }

  // The next Start() listens on another port the OS picks: a centre moved to a new address.
  void MoveOnNextStart() { port_ = 0; }

  std::string backup_path() const { return (dir_ / "central-backup.db").string(); }

  // Enrols a device; returns its token.
  std::string Enrol(const std::string& name, const std::vector<std::string>& territories) {
    std::vector<std::string> args = {CentralBinary(), "device", "add", "--name", name, "--json"};
    for (const std::string& a : StoreArgs()) args.push_back(a);
    for (const auto& t : territories) {
      args.push_back("--territory");
      args.push_back(t);
    }
    RunResult r = Run(args);
    if (r.exit_code != 0) throw std::runtime_error("device add failed: " + r.err);
    return nlohmann::json::parse(r.out)["token"].get<std::string>();
  }

 private:
  std::filesystem::path dir_;
  std::string db_;
  std::unique_ptr<relais::testing::PgTestDatabase> pg_;
  std::vector<std::string> wrapper_;
  std::vector<std::string> serve_args_;
  std::string host_ = "127.0.0.1";
  std::string url_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Starts argv (a path and its arguments), its output discarded; returns its pid. The caller waits
// for it.
inline pid_t SpawnQuiet(std::vector<std::string> args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

// Starts argv (a path and its arguments), lets it run `delay_ms`, then SIGKILLs it: a battery that
// dies mid-command. Its output is discarded. Returns true when the kill found it still running,
// false when it had already finished. The sleep is the thing under test (a kill at an instant the
// caller draws), not a way to order two events: nothing waits for the process to reach a point.
inline bool RunAndKill(std::vector<std::string> args, int delay_ms) {
  const pid_t pid = SpawnQuiet(std::move(args));
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  int status = 0;
  const bool running = waitpid(pid, &status, WNOHANG) == 0;
  if (running) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  return running;
}

}  // namespace relais::e2e
