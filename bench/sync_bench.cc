// How fast does a big backlog go device A → centre → device B through the real programs on
// loopback, how many bytes and requests does it cost, how much memory does each side need, and how
// does that compare with a raw SQLite insert of the same rows? And how long does a week's backlog
// take over a poor link? Prints a table. Not a test: see README "Benchmarks".
//
//   sync_bench [--cases N] [--contacts N] [--runs K] [--dataset-script PATH] [--bin DIR] [--seed S]
//              [--netem] [--netem-only] [--backlog-edits N] [--backlog-cases N] [--netem-timeout S] [--tls]
//              [--encryption] [--access-log N]
//
// --tls: instead of the table below, push and pull rates over plain HTTP and over TLS
// (`serve --tls-cert`, a CA and certificate made with the openssl command, `relais init
// --ca-file`), measured the same way in each run, in alternating order (plain first in odd runs),
// without the relay (it cannot read TLS): the push phase ends when the centre's log shows the first
// `GET /v1/pull` line, less that request's own `ms=`.
//
// --encryption: instead of the table below, the same measure with plain replicas and with encrypted
// ones (every replica is encrypted otherwise), alternated in each run, medians side by side with
// their ratio and the yardstick of each (issue 28: push and pull within 20 % of plain).
//
// --access-log N: instead of the table below, the same measure without and with N entries of the
// access log waiting in A's replica when it syncs (docs/PRIVACY.md, "Access log": A sends them after
// its push, within its push phase), alternated in each run, medians side by side with their ratio
// (issue 27: the sync within 5 %). Plain replicas in both, so that this process can write the
// entries into A's file: one `consultation` per case, for N of A's cases, as `relais case show`
// writes them.
//
// --bin: the folder holding `relais` and `relais-central` (default: the build folder this program
// was built in, the parent of its own folder). --dataset-script: gen_dataset.py (default
// ../shared/data/gen_dataset.py from the repository root). Each run uses fresh folders; the table
// shows the median of the runs (shared machines are noisy).
//
// What is measured, for each run:
//  1. relais-central serve on 127.0.0.1:0; devices A and B enrolled with all six territories of the
//     generator; relais init for both.
//  2. relais import of cases.jsonl then contacts.jsonl into A (timed, not part of the push figure).
//  3. relais sync --json on A. A's sync pushes, then pulls its own records back (the echo). A small
//     TCP relay in this process sits between A and the centre and notes when the first
//     `GET /v1/pull` goes by: push phase = spawn of the sync → that instant (it includes the
//     process start, a few ms). Push bytes are those the relay saw before that instant.
//  4. relais sync --json on B: pull only, pulled / seconds from its JSON.
//  5. Peak RSS of each client from wait4()'s rusage, of the server from /proc/PID/status VmHWM.
//     CPU time (user + system) per record of each side: a client's from its rusage (A's push
//     phase from /proc/PID/stat, sampled every 20 ms until the relay sees the first pull), the
//     server's from /proc/PID/stat before and after. On a machine whose cores the client and the
//     server share, their sum per record bounds the rate whatever the load.
//  6. Yardstick: the same rows into plain tables with the same columns, one prepared statement per
//     table, one transaction, WAL + synchronous=FULL.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "client/records.h"
#include "client/replica.h"
#include "client/replica_key.h"
#include "schema/model.h"
#include "sqlite/db.h"
#include "tests/e2e/poor_link.h"
#include "tests/e2e/run.h"

extern char** environ;

using namespace relais;
using nlohmann::json;
using Stopwatch = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kTerritories = {"hautes-alpes-gap", "hautes-alpes-brianconnais", "corse-bastia",
                                               "corse-ajaccio",    "bretagne-saint-brieuc",     "accm-arles"};
constexpr double kPushTarget = 30000;  // records per second
constexpr double kPullTarget = 50000;  // records per second
constexpr double kBytesPerRecordTarget = 60;
constexpr double kRequestsPerThousandTarget = 0.5;
constexpr double kClientMemoryTargetMiB = 64;
constexpr double kStepTimeoutS = 900;  // any single program of the loopback runs

// ---------------------------------------------------------------------------------------------
// Interruption: Ctrl-C or SIGTERM kills the children we started; their failure then unwinds the
// stack, and the destructors stop the server, remove the folders and the namespace.

std::atomic<pid_t> g_children[8];
volatile sig_atomic_t g_interrupted = 0;

void OnSignal(int) {
  g_interrupted = 1;
  for (auto& slot : g_children) {
    pid_t pid = slot.load();
    if (pid > 0) kill(pid, SIGKILL);
  }
}

void Track(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

void Untrack(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    slot.compare_exchange_strong(expected, 0);
  }
}

void CheckInterrupted() {
  if (g_interrupted) throw std::runtime_error("interrupted");
}

double Seconds(Stopwatch::duration d) { return std::chrono::duration<double>(d).count(); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Quote(const std::string& arg) {
  if (arg.find_first_of(" '\"\\$") == std::string::npos) return arg;
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string Join(const std::vector<std::string>& args) {
  std::string line;
  for (const auto& a : args) line += (line.empty() ? "" : " ") + Quote(a);
  return line;
}

using e2e::TempDir;  // the end-to-end tests' own: a fresh folder, removed at scope exit

// ---------------------------------------------------------------------------------------------
// Child processes.

struct ChildResult {
  int exit_code = -1;  // 128 + signal when killed; 124 when it overran its time
  std::string out;
  std::string err;
  Stopwatch::time_point started;
  double seconds = 0;      // spawn to reap, as this process saw it
  double max_rss_mib = 0;  // rusage.ru_maxrss of the child
  double cpu_seconds = 0;  // rusage: user + system
  bool timed_out = false;
};

// CPU seconds (user + system) process `pid` has used so far, from /proc/PID/stat; -1 when unreadable.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return -1;
  std::istringstream fields(stat.substr(end_of_name + 2));  // from field 3, the state
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);  // 14 utime, 15 stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double CpuSeconds(const rusage& usage) {
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

// Runs `args` (args[0] a path, or a name searched in PATH), stdout and stderr to files in
// `scratch_dir`, and waits at most `timeout_s` (then SIGKILL). Throws only when it cannot start.
// `every_20ms`, when given, is called with the child's pid about every 20 ms while it runs.
ChildResult RunChild(const std::vector<std::string>& args, const std::string& scratch_dir, double timeout_s,
                     const std::function<void(pid_t)>& every_20ms = {}) {
  static int counter = 0;
  std::string base = scratch_dir + "/child-" + std::to_string(++counter);
  std::string out_path = base + ".out", err_path = base + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  argv.reserve(copy.size() + 1);
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  // A child's ru_maxrss also counts the peak of the memory it shared with us before its exec: keep
  // ours at its current (small) size so that the figure is the child's own.
  if (FILE* clear_refs = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", clear_refs);
    std::fclose(clear_refs);
  }
  ChildResult result;
  pid_t pid = -1;
  result.started = Stopwatch::now();
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  Track(pid);
  auto deadline =
      result.started + std::chrono::duration_cast<Stopwatch::duration>(std::chrono::duration<double>(timeout_s));
  int status = 0;
  rusage usage{};
  for (int tick = 0;; ++tick) {
    if (every_20ms && tick % 20 == 0) every_20ms(pid);
    pid_t done = wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw std::runtime_error("wait4 failed");
    if (Stopwatch::now() > deadline) {
      kill(pid, SIGKILL);
      result.timed_out = true;
      wait4(pid, &status, 0, &usage);
      break;
    }
    usleep(1000);
  }
  result.seconds = Seconds(Stopwatch::now() - result.started);
  Untrack(pid);
  result.exit_code = result.timed_out ? 124 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.max_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  result.cpu_seconds = CpuSeconds(usage);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

// As RunChild, but a failure is fatal to the measurement.
ChildResult MustRun(const std::vector<std::string>& args, const std::string& scratch_dir,
                    double timeout_s = kStepTimeoutS, const std::function<void(pid_t)>& every_20ms = {}) {
  ChildResult r = RunChild(args, scratch_dir, timeout_s, every_20ms);
  CheckInterrupted();
  if (r.exit_code != 0) {
    throw std::runtime_error(Join(args) + " failed (" +
                             (r.timed_out ? "timed out" : "exit " + std::to_string(r.exit_code)) +
                             "): " + r.err.substr(0, 2000));
  }
  return r;
}

json MustJson(const ChildResult& r, const std::string& what) {
  json parsed = json::parse(r.out, nullptr, false);
  if (!parsed.is_object()) throw std::runtime_error(what + ": not a JSON object: " + r.out.substr(0, 500));
  return parsed;
}

// A running `relais-central serve`, stopped (and its peak memory read) by Stop() or at scope exit.
// `prefix` runs it through another program that execs it (`ip netns exec NS`), so the pid stays.
class Server {
 public:
  Server(const std::string& bin_dir, const std::string& db, const std::string& listen, const std::string& log,
         std::vector<std::string> prefix = {}, const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = std::move(prefix);
    for (const std::string& a : {bin_dir + "/relais-central", std::string("serve"), std::string("--db"), db,
                                 std::string("--listen"), listen}) {
      args.push_back(a);
    }
    args.insert(args.end(), more.begin(), more.end());
    command_ = Join(args);
    e2e::Listening server = e2e::SpawnListening(args, log, std::chrono::seconds(15), [] { return g_interrupted != 0; });
    pid_ = server.pid;
    url_ = server.url;
    Track(pid_);
  }
  ~Server() { Stop(); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Peak resident memory so far (VmHWM), in MiB; 0 when it cannot be read.
  double PeakRssMiB() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // "VmHWM:   1234 kB"
    }
    return 0;
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status;
    for (int i = 0; i < 500 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(10000);
    if (kill(pid_, 0) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    Untrack(pid_);
    pid_ = -1;
  }

  const std::string& url() const { return url_; }
  double CpuSeconds() const { return ::CpuSeconds(pid_); }
  int port() const { return std::stoi(url_.substr(url_.rfind(':') + 1)); }
  const std::string& command() const { return command_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
  std::string command_;
};

// ---------------------------------------------------------------------------------------------
// A TCP relay on loopback between one client and the server, to split A's sync into its push and
// its pull: everything before the first `GET /v1/pull` request is the push. One thread per
// direction per connection, blocking I/O; the figures are read after Stop().

class PhaseRelay {
 public:
  struct Phase {
    uint64_t sent = 0;      // client → server bytes, headers included
    uint64_t received = 0;  // server → client
    uint64_t requests = 0;
  };

  explicit PhaseRelay(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener_, 16) != 0 || getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("relay: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~PhaseRelay() { Stop(); }
  PhaseRelay(const PhaseRelay&) = delete;
  PhaseRelay& operator=(const PhaseRelay&) = delete;

  void Stop() {
    if (stopped_.exchange(true)) return;
    shutdown(listener_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    close(listener_);
    for (int fd : sockets_) shutdown(fd, SHUT_RDWR);
    for (auto& t : pumps_) t.join();
    for (int fd : sockets_) close(fd);
  }

  int port() const { return port_; }
  std::optional<Stopwatch::time_point> first_pull_at() const {
    int64_t ns = first_pull_ns_.load();
    if (ns == 0) return std::nullopt;
    return Stopwatch::time_point(std::chrono::nanoseconds(ns));
  }
  Phase push() const { return {push_sent_.load(), push_received_.load(), push_requests_.load()}; }
  Phase pull() const { return {pull_sent_.load(), pull_received_.load(), pull_requests_.load()}; }

 private:
  void Accept() {
    while (!stopped_) {
      int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) return;
      int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<uint16_t>(upstream_port_));
      if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        close(client);
        if (server >= 0) close(server);
        continue;
      }
      int one = 1;
      setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      sockets_.push_back(client);
      sockets_.push_back(server);
      pumps_.emplace_back([this, client, server] { Pump(client, server, true); });
      pumps_.emplace_back([this, client, server] { Pump(server, client, false); });
    }
  }

  void Pump(int from, int to, bool upstream) {
    std::vector<char> buffer(1 << 16);
    while (true) {
      ssize_t n = read(from, buffer.data(), buffer.size());
      if (n <= 0) break;
      std::string_view chunk(buffer.data(), static_cast<size_t>(n));
      if (upstream) {
        // Requests start a write of their own (libcurl sends the headers at once): look for them.
        bool is_pull = chunk.find("GET /v1/pull") != std::string_view::npos;
        bool is_push = chunk.find("POST /v1/push") != std::string_view::npos;
        if (is_pull && first_pull_ns_.load() == 0) {
          first_pull_ns_ =
              std::chrono::duration_cast<std::chrono::nanoseconds>(Stopwatch::now().time_since_epoch()).count();
        }
        bool in_pull = first_pull_ns_.load() != 0;
        (in_pull ? pull_sent_ : push_sent_) += static_cast<uint64_t>(n);
        if (is_pull) ++pull_requests_;
        if (is_push) ++push_requests_;
      } else {
        (first_pull_ns_.load() != 0 ? pull_received_ : push_received_) += static_cast<uint64_t>(n);
      }
      size_t written = 0;
      while (written < chunk.size()) {
        ssize_t w = write(to, chunk.data() + written, chunk.size() - written);
        if (w <= 0) return;
        written += static_cast<size_t>(w);
      }
    }
    shutdown(to, SHUT_WR);
  }

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  std::thread acceptor_;
  std::vector<int> sockets_;  // touched by the acceptor, then by Stop() after its join
  std::vector<std::thread> pumps_;
  std::atomic<int64_t> first_pull_ns_{0};
  std::atomic<uint64_t> push_sent_{0}, push_received_{0}, push_requests_{0};
  std::atomic<uint64_t> pull_sent_{0}, pull_received_{0}, pull_requests_{0};
};

// ---------------------------------------------------------------------------------------------
// The yardstick: the same rows into plain tables with the same columns.

struct ParsedTable {
  std::string name;
  std::vector<std::string> columns;  // in the file's key order
  std::vector<bool> integer;         // per column
  std::vector<std::vector<std::optional<std::string>>> rows;
};

ParsedTable ParseJsonl(const std::string& path, const std::string& name) {
  ParsedTable table{name, {}, {}, {}};
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::ordered_json object = nlohmann::ordered_json::parse(line);
    if (table.columns.empty()) {
      for (auto it = object.begin(); it != object.end(); ++it) {
        table.columns.push_back(it.key());
        table.integer.push_back(it.value().is_number_integer());
      }
    }
    std::vector<std::optional<std::string>> row;
    for (const auto& column : table.columns) {
      auto it = object.find(column);
      if (it == object.end() || it->is_null())
        row.emplace_back();
      else
        row.emplace_back(it->is_string() ? it->get<std::string>() : it->dump());
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

// Seconds to insert every row of `tables`: one prepared statement per table, one transaction,
// the pragmas of every Relais database (WAL, synchronous=FULL). Throws on any SQLite error.
double RawInsertSeconds(const std::string& path, const std::vector<ParsedTable>& tables) {
  auto db = sqlite::Db::Open(path);
  if (!db) throw std::runtime_error("raw open: " + db.error().message);
  for (const auto& t : tables) {
    std::string columns;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      columns += (i ? ", " : "") + t.columns[i] +
                 (t.columns[i] == "id" ? " TEXT PRIMARY KEY"
                  : t.integer[i]       ? " INTEGER"
                                       : " TEXT");
    }
    if (!db->Exec("CREATE TABLE raw_" + t.name + " (" + columns + ", version INTEGER NOT NULL DEFAULT 0)")) {
      throw std::runtime_error("raw table " + t.name);
    }
  }
  auto start = Stopwatch::now();
  if (!db->Exec("BEGIN IMMEDIATE")) throw std::runtime_error("raw begin");
  for (const auto& t : tables) {
    std::string params;
    for (size_t i = 0; i < t.columns.size(); ++i) params += i ? ", ?" : "?";
    auto stmt = db->Prepare("INSERT INTO raw_" + t.name + " VALUES (" + params + ", 0)");
    if (!stmt) throw std::runtime_error("raw prepare: " + stmt.error().message);
    for (const auto& row : t.rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (!row[i])
          stmt->BindNull(static_cast<int>(i) + 1);
        else if (t.integer[i])
          stmt->Bind(static_cast<int>(i) + 1, static_cast<int64_t>(std::stoll(*row[i])));
        else
          stmt->Bind(static_cast<int>(i) + 1, std::string_view(*row[i]));
      }
      if (!stmt->Run()) throw std::runtime_error("raw insert");
      stmt->Reset();
    }
  }
  if (!db->Exec("COMMIT")) throw std::runtime_error("raw commit");
  return Seconds(Stopwatch::now() - start);
}

// ---------------------------------------------------------------------------------------------
// One loopback measurement.

struct Options {
  size_t cases = 100000;
  size_t contacts = 10000;
  int runs = 3;
  int seed = 42;
  std::string dataset_script;
  std::string bin_dir;
  bool netem = false;
  bool netem_only = false;
  size_t backlog_edits = 4000;
  size_t backlog_cases = 1000;
  double netem_timeout_s = 1800;
  bool tls = false;         // --tls: plain HTTP against TLS, alternated in each run
  bool encryption = false;  // --encryption: plain replicas against encrypted ones, alternated in each run
  size_t access_log = 0;    // --access-log N: without and with N access-log entries in A, alternated
};

using Figures = std::map<std::string, double>;  // figure name → value of one run

std::string Relais(const Options& o) { return o.bin_dir + "/relais"; }
std::string Central(const Options& o) { return o.bin_dir + "/relais-central"; }

std::string Enrol(const Options& o, const std::string& db, const std::string& name, const std::string& scratch) {
  std::vector<std::string> args = {Central(o), "device", "add", "--db", db, "--name", name, "--json"};
  for (const auto& t : kTerritories) {
    args.push_back("--territory");
    args.push_back(t);
  }
  return MustJson(MustRun(args, scratch), "device add")["token"].get<std::string>();
}

// Runs the yardstick in a child (this program with --yardstick), so that this process never grows:
// a child's ru_maxrss starts from its parent's resident size at spawn, before its exec.
double RawInsertRate(const std::string& data_dir, const std::string& db, const std::string& scratch) {
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  ChildResult r = MustRun({self, "--yardstick", data_dir, db}, scratch);
  return std::stod(r.out);
}

// Writes `n` entries of the access log into the plain replica `db`: a `consultation` of each of its
// first `n` cases, as `relais case show` would.
void AddAccessEntries(const std::string& db, size_t n) {
  auto replica = sqlite::Db::Open(db, false);
  if (!replica) throw std::runtime_error("access log: " + replica.error().message);
  const std::string sql =
      "INSERT INTO access_log (id, at, reader, action, case_id) SELECT printf('%08x-0000-4000-8000-%012x', rowid, "
      "rowid), '2026-12-07T09:00:00Z', 'bench', 'consultation', id FROM cases ORDER BY rowid LIMIT " +
      std::to_string(n);
  if (!replica->Exec(sql)) throw std::runtime_error("access log: the entries could not be written into " + db);
}

Figures MeasureOnce(const Options& o, const std::string& data_dir, int run, size_t access_entries = 0) {
  TempDir dir("relais-sync-bench-run");
  std::string scratch = dir / "";
  Figures f;
  Server server(o.bin_dir, dir / "central.db", "127.0.0.1:0", dir / "server.log");
  std::string token_a = Enrol(o, dir / "central.db", "bench-a", scratch);
  std::string token_b = Enrol(o, dir / "central.db", "bench-b", scratch);
  std::string a = dir / "a.db", b = dir / "b.db";

  // A goes through the relay (to split its push from its echo pull); B talks to the server.
  PhaseRelay relay(server.port());
  MustRun({Relais(o), "--db", a, "init", "--server", "http://127.0.0.1:" + std::to_string(relay.port()), "--token",
           token_a},
          scratch);
  MustRun({Relais(o), "--db", b, "init", "--server", server.url(), "--token", token_b}, scratch);

  ChildResult import_cases = MustRun({Relais(o), "--db", a, "import", data_dir + "/cases.jsonl"}, scratch);
  ChildResult import_contacts = MustRun({Relais(o), "--db", a, "import", data_dir + "/contacts.jsonl"}, scratch);
  double records = static_cast<double>(o.cases + o.contacts);
  f["import: seconds (cases + contacts)"] = import_cases.seconds + import_contacts.seconds;
  f["import: records/s"] = records / (import_cases.seconds + import_contacts.seconds);
  f["import: peak RSS of relais (MiB)"] = std::max(import_cases.max_rss_mib, import_contacts.max_rss_mib);
  if (access_entries > 0) AddAccessEntries(a, access_entries);

  // CPU used until the push phase ends: the last sample before the relay saw the first pull.
  double cpu_a_push = 0, cpu_server_push = 0;
  const double cpu_server_before_a = server.CpuSeconds();
  ChildResult sync_a = MustRun({Relais(o), "--db", a, "sync", "--json"}, scratch, kStepTimeoutS, [&](pid_t pid) {
    if (relay.first_pull_at()) return;
    cpu_a_push = CpuSeconds(pid);
    cpu_server_push = server.CpuSeconds() - cpu_server_before_a;
  });
  relay.Stop();
  json ja = MustJson(sync_a, "sync A");
  if (ja.value("access_log_sent", int64_t{0}) != static_cast<int64_t>(access_entries))
    throw std::runtime_error("A sent " + ja.value("access_log_sent", json(0)).dump() + " access-log entries of " +
                             std::to_string(access_entries));
  auto pushed = ja["pushed"].get<double>();
  if (pushed != records)
    throw std::runtime_error("A pushed " + std::to_string(pushed) + " of " + std::to_string(records) + " records");
  auto first_pull = relay.first_pull_at();
  if (!first_pull) throw std::runtime_error("the relay saw no pull request from A");
  double push_s = Seconds(*first_pull - sync_a.started);
  PhaseRelay::Phase push = relay.push();
  f["push: records/s (A, push phase)"] = pushed / push_s;
  f["push: seconds (A, push phase)"] = push_s;
  f["push: bytes sent / record"] = static_cast<double>(push.sent) / pushed;
  f["push: bytes received / record (answers)"] = static_cast<double>(push.received) / pushed;
  f["push: requests / 1,000 records"] = static_cast<double>(push.requests) * 1000 / pushed;
  f["push: CPU µs / record, relais A"] = cpu_a_push * 1e6 / pushed;
  f["push: CPU µs / record, centre"] = cpu_server_push * 1e6 / pushed;
  f["sync A: seconds (push + echo pull, JSON)"] = ja["seconds"].get<double>();
  f["sync A: echo pull records/s"] =
      ja["pulled"].get<double>() /
      Seconds(sync_a.started +
              std::chrono::duration_cast<Stopwatch::duration>(std::chrono::duration<double>(sync_a.seconds)) -
              *first_pull);
  f["sync A: records pulled back (echo)"] = ja["pulled"].get<double>();
  f["sync A: requests / 1,000 records (all)"] = ja["requests"].get<double>() * 1000 / pushed;
  f["sync A: bytes received (all, MB)"] = ja["bytes_received"].get<double>() / 1e6;
  f["sync A: peak RSS of relais (MiB)"] = sync_a.max_rss_mib;

  const double cpu_server_before_b = server.CpuSeconds();
  ChildResult sync_b = MustRun({Relais(o), "--db", b, "sync", "--json"}, scratch);
  const double cpu_server_b = server.CpuSeconds() - cpu_server_before_b;
  json jb = MustJson(sync_b, "sync B");
  auto pulled = jb["pulled"].get<double>();
  if (pulled != records)
    throw std::runtime_error("B pulled " + std::to_string(pulled) + " of " + std::to_string(records) + " records");
  f["pull: records/s (B)"] = pulled / jb["seconds"].get<double>();
  f["pull: seconds (B, JSON)"] = jb["seconds"].get<double>();
  f["pull: bytes received / record"] = jb["bytes_received"].get<double>() / pulled;
  f["pull: requests / 1,000 records"] = jb["requests"].get<double>() * 1000 / pulled;
  f["pull: CPU µs / record, relais B"] = sync_b.cpu_seconds * 1e6 / pulled;
  f["pull: CPU µs / record, centre"] = cpu_server_b * 1e6 / pulled;
  f["sync B: peak RSS of relais (MiB)"] = sync_b.max_rss_mib;
  f["server: peak RSS (MiB)"] = server.PeakRssMiB();
  server.Stop();

  f["raw SQLite insert: rows/s"] = RawInsertRate(data_dir, dir / "raw.db", scratch);
  f["push rate / raw insert rate"] = f["push: records/s (A, push phase)"] / f["raw SQLite insert: rows/s"];
  f["pull rate / raw insert rate"] = f["pull: records/s (B)"] / f["raw SQLite insert: rows/s"];
  std::fprintf(stderr, "run %d: push %.0f rec/s, pull %.0f rec/s, raw %.0f rows/s\n", run,
               f["push: records/s (A, push phase)"], f["pull: records/s (B)"], f["raw SQLite insert: rows/s"]);
  return f;
}

// --tls: one push (A) and one pull (B) over plain HTTP or TLS, timed the same way for both.
Figures MeasureTransport(const Options& o, const std::string& data_dir, bool tls) {
  TempDir dir(tls ? "relais-sync-bench-tls" : "relais-sync-bench-plain");
  std::string scratch = dir / "";
  std::vector<std::string> serve_args;
  std::vector<std::string> ca_args;
  if (tls) {
    auto openssl = [&](std::vector<std::string> args) {
      args.insert(args.begin(), "openssl");
      MustRun(args, scratch, 60);
    };
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             dir / "ca.key", "-out", dir / "ca.pem", "-days", "2", "-subj", "/CN=bench CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"});
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             dir / "server.key", "-out", dir / "server.csr", "-subj", "/CN=127.0.0.1"});
    {
      std::ofstream ext(dir / "server.ext");
      ext << "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
    }
    openssl({"x509", "-req", "-in", dir / "server.csr", "-CA", dir / "ca.pem", "-CAkey", dir / "ca.key",
             "-CAcreateserial", "-out", dir / "server.pem", "-days", "2", "-extfile", dir / "server.ext"});
    serve_args = {"--tls-cert", dir / "server.pem", "--tls-key", dir / "server.key"};
    ca_args = {"--ca-file", dir / "ca.pem"};
  }
  const std::string log = dir / "server.log";
  Server server(o.bin_dir, dir / "central.db", "127.0.0.1:0", log, {}, serve_args);
  std::string token_a = Enrol(o, dir / "central.db", "bench-a", scratch);
  std::string token_b = Enrol(o, dir / "central.db", "bench-b", scratch);
  std::string a = dir / "a.db", b = dir / "b.db";
  std::vector<std::string> init_a = {Relais(o), "--db", a, "init", "--server", server.url(), "--token", token_a};
  std::vector<std::string> init_b = {Relais(o), "--db", b, "init", "--server", server.url(), "--token", token_b};
  init_a.insert(init_a.end(), ca_args.begin(), ca_args.end());
  init_b.insert(init_b.end(), ca_args.begin(), ca_args.end());
  MustRun(init_a, scratch);
  MustRun(init_b, scratch);
  MustRun({Relais(o), "--db", a, "import", data_dir + "/cases.jsonl"}, scratch);
  MustRun({Relais(o), "--db", a, "import", data_dir + "/contacts.jsonl"}, scratch);
  const double records = static_cast<double>(o.cases + o.contacts);

  // The first pull's log line, polled while A syncs: its arrival less its own duration.
  std::optional<Stopwatch::time_point> first_pull;
  ChildResult sync_a = MustRun({Relais(o), "--db", a, "sync", "--json"}, scratch, kStepTimeoutS, [&](pid_t) {
    if (first_pull) return;
    const std::string text = ReadFile(log);
    const size_t at = text.find("GET /v1/pull ");
    if (at == std::string::npos) return;
    const size_t eol = text.find('\n', at);
    if (eol == std::string::npos) return;
    const size_t ms = text.rfind(" ms=", eol);
    const double took = ms != std::string::npos && ms > at ? std::stod(text.substr(ms + 4)) : 0;
    first_pull = Stopwatch::now() -
                 std::chrono::duration_cast<Stopwatch::duration>(std::chrono::duration<double, std::milli>(took));
  });
  json ja = MustJson(sync_a, "sync A");
  if (ja["pushed"].get<double>() != records) throw std::runtime_error("A did not push every record");
  if (!first_pull) throw std::runtime_error("the centre's log shows no pull from A");
  ChildResult sync_b = MustRun({Relais(o), "--db", b, "sync", "--json"}, scratch);
  json jb = MustJson(sync_b, "sync B");
  if (jb["pulled"].get<double>() != records) throw std::runtime_error("B did not pull every record");
  Figures f;
  f["push: records/s (A, log-timed)"] = records / Seconds(*first_pull - sync_a.started);
  f["pull: records/s (B)"] = records / jb["seconds"].get<double>();
  f["sync A: seconds (JSON)"] = ja["seconds"].get<double>();
  f["server: peak RSS (MiB)"] = server.PeakRssMiB();
  server.Stop();
  return f;
}

void MeasureTls(const Options& o, const std::string& data_dir) {
  std::vector<Figures> plain, tls;
  for (int run = 1; run <= o.runs; ++run) {
    const bool plain_first = run % 2 == 1;
    for (int k = 0; k < 2; ++k) {
      const bool with_tls = (k == 0) != plain_first;
      Figures f = MeasureTransport(o, data_dir, with_tls);
      std::fprintf(stderr, "run %d %s: push %.0f rec/s, pull %.0f rec/s\n", run, with_tls ? "TLS  " : "plain",
                   f["push: records/s (A, log-timed)"], f["pull: records/s (B)"]);
      (with_tls ? tls : plain).push_back(std::move(f));
    }
  }
  auto median = [](const std::vector<Figures>& runs, const std::string& name) {
    std::vector<double> v;
    v.reserve(runs.size());
    for (const Figures& f : runs) v.push_back(f.at(name));
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  std::printf("\n%zu cases + %zu contacts, plain HTTP and TLS alternated, median of %d run(s) each\n\n", o.cases,
              o.contacts, o.runs);
  std::printf("%-36s %12s %12s %12s  %s\n", "figure", "plain", "TLS", "TLS/plain", "target");
  std::printf("%s\n", std::string(90, '-').c_str());
  for (const std::string name :
       {"push: records/s (A, log-timed)", "pull: records/s (B)", "sync A: seconds (JSON)", "server: peak RSS (MiB)"}) {
    const double p = median(plain, name), t = median(tls, name);
    const bool rate = name.find("records/s") != std::string::npos;
    std::printf("%-36s %12.0f %12.0f %12.3f  %s\n", name.c_str(), p, t, t / p,
                rate ? (t / p >= 0.85 ? ">= 0.85 met" : ">= 0.85 NOT MET") : "");
  }
}

// ---------------------------------------------------------------------------------------------
// The table.

struct Target {
  std::string text;
  std::function<bool(double)> met;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The median of one figure over runs.
double MedianOf(const std::vector<Figures>& runs, const std::string& name) {
  std::vector<double> v;
  v.reserve(runs.size());
  for (const Figures& f : runs) v.push_back(f.at(name));
  return Median(v);
}

std::string Number(double v) {
  char buf[64];
  if (v >= 1000)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (v >= 10)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else
    std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

void PrintTable(const std::vector<Figures>& runs) {
  const std::vector<std::string> order = {"push: records/s (A, push phase)",
                                          "pull: records/s (B)",
                                          "push: bytes sent / record",
                                          "push: bytes received / record (answers)",
                                          "pull: bytes received / record",
                                          "push: requests / 1,000 records",
                                          "pull: requests / 1,000 records",
                                          "sync A: peak RSS of relais (MiB)",
                                          "sync B: peak RSS of relais (MiB)",
                                          "import: peak RSS of relais (MiB)",
                                          "server: peak RSS (MiB)",
                                          "raw SQLite insert: rows/s",
                                          "push rate / raw insert rate",
                                          "pull rate / raw insert rate",
                                          "push: CPU µs / record, relais A",
                                          "push: CPU µs / record, centre",
                                          "pull: CPU µs / record, relais B",
                                          "pull: CPU µs / record, centre",
                                          "push: seconds (A, push phase)",
                                          "pull: seconds (B, JSON)",
                                          "sync A: seconds (push + echo pull, JSON)",
                                          "sync A: echo pull records/s",
                                          "sync A: records pulled back (echo)",
                                          "sync A: requests / 1,000 records (all)",
                                          "sync A: bytes received (all, MB)",
                                          "import: seconds (cases + contacts)",
                                          "import: records/s"};
  auto at_least = [](double t) { return [t](double v) { return v >= t; }; };
  auto at_most = [](double t) { return [t](double v) { return v <= t; }; };
  std::map<std::string, Target> targets = {
      {"push: records/s (A, push phase)", {">= 30000", at_least(kPushTarget)}},
      {"pull: records/s (B)", {">= 50000", at_least(kPullTarget)}},
      {"push: bytes sent / record", {"<= 60", at_most(kBytesPerRecordTarget)}},
      {"pull: bytes received / record", {"<= 60", at_most(kBytesPerRecordTarget)}},
      {"push: requests / 1,000 records", {"<= 0.5", at_most(kRequestsPerThousandTarget)}},
      {"pull: requests / 1,000 records", {"<= 0.5", at_most(kRequestsPerThousandTarget)}},
      {"sync A: peak RSS of relais (MiB)", {"<= 64", at_most(kClientMemoryTargetMiB)}},
      {"sync B: peak RSS of relais (MiB)", {"<= 64", at_most(kClientMemoryTargetMiB)}},
  };
  std::printf("%-42s %12s %21s %10s  %s\n", "figure", "median", "runs (min..max)", "target", "");
  std::printf("%s\n", std::string(100, '-').c_str());
  for (const auto& name : order) {
    std::vector<double> values;
    values.reserve(runs.size());
    for (const auto& r : runs) values.push_back(r.at(name));
    double median = Median(values);
    auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    std::string range = Number(*lo) + ".." + Number(*hi);
    auto t = targets.find(name);
    std::string target = t == targets.end() ? "" : t->second.text;
    std::string verdict = t == targets.end() ? "" : t->second.met(median) ? "met" : "NOT MET";
    // printf pads bytes: a name with "µ" (two bytes, one column) gets one more.
    const int width =
        42 + static_cast<int>(std::count_if(name.begin(), name.end(), [](char c) { return (c & 0xC0) == 0x80; }));
    std::printf("%-*s %12s %21s %10s  %s\n", width, name.c_str(), Number(median).c_str(), range.c_str(), target.c_str(),
                verdict.c_str());
  }
}

// --encryption: the loopback measure of the table above (MeasureOnce, yardstick included) with
// plain replicas and with encrypted ones, in alternating order (plain first in odd runs); the
// medians side by side and their ratio. Plain replicas are made by `relais` itself under
// RELAIS_PLAIN_REPLICA_FOR_BENCH=1 (docs/PRIVACY.md), which this process sets for its children.
void MeasureEncryption(const Options& o, const std::string& data_dir) {
  std::vector<Figures> plain, encrypted;
  int measured = 0;
  for (int run = 1; run <= o.runs; ++run) {
    const bool plain_first = run % 2 == 1;
    for (int k = 0; k < 2; ++k) {
      const bool with_encryption = (k == 0) != plain_first;
      if (with_encryption)
        unsetenv("RELAIS_PLAIN_REPLICA_FOR_BENCH");
      else
        setenv("RELAIS_PLAIN_REPLICA_FOR_BENCH", "1", 1);
      Figures f = MeasureOnce(o, data_dir, ++measured);
      unsetenv("RELAIS_PLAIN_REPLICA_FOR_BENCH");
      std::fprintf(stderr, "run %d %s: push %.0f rec/s, pull %.0f rec/s, raw %.0f rows/s\n", run,
                   with_encryption ? "encrypted" : "plain    ", f["push: records/s (A, push phase)"],
                   f["pull: records/s (B)"], f["raw SQLite insert: rows/s"]);
      (with_encryption ? encrypted : plain).push_back(std::move(f));
    }
  }
  std::printf(
      "\n%zu cases + %zu contacts, device A -> relais-central -> device B on loopback, plain replicas against "
      "encrypted ones, alternated, median of %d run(s) each\n\n",
      o.cases, o.contacts, o.runs);
  std::printf("%-36s %12s %12s %12s  %s\n", "figure", "plain", "encrypted", "enc./plain", "target");
  std::printf("%s\n", std::string(92, '-').c_str());
  for (const std::string name : {"push: records/s (A, push phase)", "pull: records/s (B)", "raw SQLite insert: rows/s",
                                 "push rate / raw insert rate", "pull rate / raw insert rate", "import: records/s",
                                 "sync A: peak RSS of relais (MiB)", "sync B: peak RSS of relais (MiB)"}) {
    const double p = MedianOf(plain, name), e = MedianOf(encrypted, name);
    const bool rate = name == "push: records/s (A, push phase)" || name == "pull: records/s (B)";
    std::printf("%-36s %12s %12s %12.3f  %s\n", name.c_str(), Number(p).c_str(), Number(e).c_str(), e / p,
                rate ? (e / p >= 0.8 ? ">= 0.80 met" : ">= 0.80 NOT MET") : "");
  }
}

// --access-log N: MeasureOnce without and with N entries of the access log waiting in A, in
// alternating order (without first in odd runs), plain replicas in both; the medians side by side
// and their ratio.
void MeasureAccessLog(const Options& o, const std::string& data_dir) {
  std::vector<Figures> without, with;
  int measured = 0;
  setenv("RELAIS_PLAIN_REPLICA_FOR_BENCH", "1", 1);
  for (int run = 1; run <= o.runs; ++run) {
    const bool without_first = run % 2 == 1;
    for (int k = 0; k < 2; ++k) {
      const bool logged = (k == 0) != without_first;
      Figures f = MeasureOnce(o, data_dir, ++measured, logged ? o.access_log : 0);
      std::fprintf(stderr, "run %d %s: push %.0f rec/s, pull %.0f rec/s, sync A %.2f s, raw %.0f rows/s\n", run,
                   logged ? "with the log" : "without    ", f["push: records/s (A, push phase)"],
                   f["pull: records/s (B)"], f["sync A: seconds (push + echo pull, JSON)"],
                   f["raw SQLite insert: rows/s"]);
      (logged ? with : without).push_back(std::move(f));
    }
  }
  unsetenv("RELAIS_PLAIN_REPLICA_FOR_BENCH");
  std::printf(
      "\n%zu cases + %zu contacts, device A -> relais-central -> device B on loopback, without and with %zu "
      "access-log entries waiting in A, alternated, median of %d run(s) each\n\n",
      o.cases, o.contacts, o.access_log, o.runs);
  std::printf("%-42s %12s %12s %12s %12s  %s\n", "figure", "without", "with", "with/without", "pairs' ratio",
              "target");
  std::printf("%s\n", std::string(111, '-').c_str());
  for (const std::string name : {"push: records/s (A, push phase)", "pull: records/s (B)",
                                 "sync A: seconds (push + echo pull, JSON)", "push: CPU µs / record, centre",
                                 "raw SQLite insert: rows/s"}) {
    const double w = MedianOf(without, name), l = MedianOf(with, name);
    // Each run's pair measured back to back: the median of their ratios shakes off the machine's
    // slow and fast spells better than the ratio of the medians.
    std::vector<double> pairs;
    for (size_t i = 0; i < with.size(); ++i) pairs.push_back(with[i].at(name) / without[i].at(name));
    const double ratio = Median(pairs);
    const bool rate = name == "push: records/s (A, push phase)" || name == "pull: records/s (B)";
    const bool seconds = name == "sync A: seconds (push + echo pull, JSON)";
    const char* target = rate      ? (ratio >= 0.95 ? ">= 0.95 met" : ">= 0.95 NOT MET")
                         : seconds ? (ratio <= 1.05 ? "<= 1.05 met" : "<= 1.05 NOT MET")
                                   : "";
    const int width =
        42 + static_cast<int>(std::count_if(name.begin(), name.end(), [](char c) { return (c & 0xC0) == 0x80; }));
    std::printf("%-*s %12s %12s %12.3f %12.3f  %s\n", width, name.c_str(), Number(w).c_str(), Number(l).c_str(),
                l / w, ratio, target);
  }
}

// ---------------------------------------------------------------------------------------------
// The poor link: a network namespace holding the server, joined to this namespace by a link that
// delays, loses and throttles (tests/e2e/poor_link.h, shared with the test tests/e2e/poor_link_test.cc).

// A week's backlog at a rural reception point: `backlog_edits` edits of cases the centre already
// holds and `backlog_cases` new cases, synced over the poor link. Prints its own table.
void MeasurePoorLink(const Options& o) {
  if (geteuid() != 0) {
    std::printf("\nPoor link: skipped — needs root (network namespaces, veth or TUN, tc).\n");
    return;
  }
  TempDir dir("relais-sync-bench-netem");
  std::string scratch = dir / "";
  e2e::LinkShape shape;
  std::unique_ptr<e2e::PoorLink> link;
  try {
    link = std::make_unique<e2e::PoorLink>(shape);
  } catch (const std::exception& e) {
    std::printf("\nPoor link: skipped — cannot build the namespace and link here: %s\n", e.what());
    return;
  }
  if (!link->netem_error().empty()) std::fprintf(stderr, "netem refused: %s\n", link->netem_error().c_str());

  // The data: cases for the week's edits (already on both sides) and the week's new cases.
  size_t total = o.backlog_edits + o.backlog_cases;
  MustRun({"python3", o.dataset_script, std::to_string(total), "0", dir / "data", "7"}, scratch, 300);
  {
    std::ifstream in(dir / "data/cases.jsonl");
    std::ofstream known(dir / "known.jsonl"), fresh(dir / "new.jsonl");
    std::string line;
    for (size_t i = 0; std::getline(in, line); ++i) (i < o.backlog_edits ? known : fresh) << line << "\n";
  }

  Server server(o.bin_dir, dir / "central.db", link->namespace_address() + ":0", dir / "server.log",
                link->InNamespace());
  std::string token = Enrol(o, dir / "central.db", "bench-rural", scratch);
  std::string replica = dir / "rural.db";
  // The namespace's address is not loopback: plain HTTP there is the bench's choice.
  MustRun({Relais(o), "--db", replica, "init", "--server", server.url(), "--token", token, "--insecure-http"}, scratch);
  MustRun({Relais(o), "--db", replica, "import", dir / "known.jsonl"}, scratch);
  MustRun({Relais(o), "--db", replica, "sync", "--json"}, scratch);  // clean link: the state before the week

  {
    client::Passphrases passphrases;
    passphrases.environment = std::getenv("RELAIS_PASSPHRASE");
    if (auto ready = client::PrepareReplicaKey(replica, passphrases); !ready) {
      throw std::runtime_error("unlock replica: " + ready.error().message);
    }
    auto opened = client::Replica::Open(replica, SystemClock::Instance());
    if (!opened) throw std::runtime_error("open replica: " + opened.error().message);
    client::Records records(*opened);
    std::ifstream in(dir / "known.jsonl");
    std::string line;
    for (size_t i = 0; std::getline(in, line); ++i) {
      std::string id = json::parse(line)["id"].get<std::string>();
      char phone[16];
      std::snprintf(phone, sizeof phone, "06%08zu", i);
      auto edited = records.Edit(schema::CasesTable(), id, {{"phone", std::string(phone)}});
      if (!edited) throw std::runtime_error("edit: " + edited.error().message);
    }
  }
  if (o.backlog_cases > 0) MustRun({Relais(o), "--db", replica, "import", dir / "new.jsonl"}, scratch);

  link->Impair();
  std::vector<std::string> sync_args = {Relais(o), "--db", replica, "sync", "--json"};
  ChildResult sync = RunChild(sync_args, scratch, o.netem_timeout_s);
  CheckInterrupted();
  json summary = json::parse(sync.out, nullptr, false);

  std::printf(
      "\nPoor link: a week's backlog (%zu edits + %zu new cases = %zu changes) over %s ms one way, %s %% loss, "
      "%s kbit/s, each direction\n",
      o.backlog_edits, o.backlog_cases, total, Number(shape.delay_ms).c_str(), Number(shape.loss * 100).c_str(),
      Number(shape.rate_bits_per_s / 1000).c_str());
  std::printf("  link: %s\n", link->mechanism().c_str());
  if (!link->netem_error().empty()) std::printf("  tc netem refused here: %s\n", link->netem_error().c_str());
  std::printf("  server: %s\n", server.command().c_str());
  std::printf("  client: %s\n", Join(sync_args).c_str());
  if (sync.exit_code != 0 || !summary.is_object()) {
    std::printf("  sync FAILED (%s) after %.1f s: %s\n",
                sync.timed_out ? "timed out" : ("exit " + std::to_string(sync.exit_code)).c_str(), sync.seconds,
                sync.err.substr(0, 1000).c_str());
  } else {
    double seconds = summary["seconds"].get<double>();
    double sent = summary["bytes_sent"].get<double>(), received = summary["bytes_received"].get<double>();
    std::printf("  %-34s %12.1f\n", "sync seconds (JSON)", seconds);
    std::printf("  %-34s %12.1f\n", "minutes", seconds / 60);
    std::printf("  %-34s %12.0f\n", "changes pushed", summary["pushed"].get<double>());
    std::printf("  %-34s %12.0f\n", "records pulled (echo)", summary["pulled"].get<double>());
    std::printf("  %-34s %12.0f\n", "bytes sent", sent);
    std::printf("  %-34s %12.0f\n", "bytes received", received);
    std::printf("  %-34s %12.0f\n", "requests", summary["requests"].get<double>());
    std::printf("  %-34s %12.0f\n", "retries", summary["retries"].get<double>());
    std::printf("  %-34s %12.1f\n", "seconds at 256 kbit/s, no loss",
                std::max(sent, received) * 8 / shape.rate_bits_per_s);
    std::printf("  %-34s %12.1f\n", "peak RSS of relais (MiB)", sync.max_rss_mib);
  }
  e2e::LinkCounters counters = link->Counters();
  std::printf("  link counters: %llu packets on the impaired link, %llu dropped\n",
              static_cast<unsigned long long>(counters.packets), static_cast<unsigned long long>(counters.dropped));
}

[[noreturn]] void Usage() {
  std::fprintf(
      stderr,
      "usage: sync_bench [--cases N] [--contacts N] [--runs K] [--dataset-script PATH] [--bin DIR] [--seed S]\n"
      "                  [--netem] [--netem-only] [--backlog-edits N] [--backlog-cases N] [--netem-timeout S]\n"
      "                  [--tls] [--encryption] [--access-log N]\n");
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--cases")
      o.cases = std::stoul(value());
    else if (a == "--contacts")
      o.contacts = std::stoul(value());
    else if (a == "--runs")
      o.runs = std::stoi(value());
    else if (a == "--seed")
      o.seed = std::stoi(value());
    else if (a == "--dataset-script")
      o.dataset_script = value();
    else if (a == "--bin")
      o.bin_dir = value();
    else if (a == "--netem")
      o.netem = true;
    else if (a == "--netem-only")
      o.netem = o.netem_only = true;
    else if (a == "--backlog-edits")
      o.backlog_edits = std::stoul(value());
    else if (a == "--backlog-cases")
      o.backlog_cases = std::stoul(value());
    else if (a == "--netem-timeout")
      o.netem_timeout_s = std::stod(value());
    else if (a == "--tls")
      o.tls = true;
    else if (a == "--encryption")
      o.encryption = true;
    else if (a == "--access-log")
      o.access_log = std::stoul(value());
    else
      Usage();
  }
  if (o.runs < 1 || o.cases + o.contacts == 0) Usage();
  std::filesystem::path root = RELAIS_SOURCE_DIR;  // the repository root (bench/CMakeLists.txt)
  if (o.dataset_script.empty()) o.dataset_script = (root / "../shared/data/gen_dataset.py").lexically_normal().string();
  if (o.bin_dir.empty()) {
    std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");  // BUILD/bench/sync_bench
    o.bin_dir = self.parent_path().parent_path().string();
  }
  return o;
}

// The yardstick's child: prints the rows per second of the raw insert of DATA_DIR's files into DB.
int YardstickMain(const std::string& data_dir, const std::string& db) {
  std::vector<ParsedTable> tables = {ParseJsonl(data_dir + "/cases.jsonl", "cases"),
                                     ParseJsonl(data_dir + "/contacts.jsonl", "contacts")};
  double rows = static_cast<double>(tables[0].rows.size() + tables[1].rows.size());
  std::printf("%.1f\n", rows / RawInsertSeconds(db, tables));
  return 0;
}

int Main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--yardstick") return YardstickMain(argv[2], argv[3]);
  Options o = ParseOptions(argc, argv);
  std::vector<std::string> command(argv, argv + argc);
  std::printf("command: %s\n", Join(command).c_str());
  std::printf("binaries: %s/{relais,relais-central}\n", o.bin_dir.c_str());

  if (!o.netem_only) {
    TempDir data("relais-sync-bench-data");
    std::vector<std::string> generate = {
        "python3",    o.dataset_script,      std::to_string(o.cases), std::to_string(o.contacts),
        data / "set", std::to_string(o.seed)};
    std::printf("dataset: %s\n", Join(generate).c_str());
    std::fflush(stdout);
    MustRun(generate, data / "", 600);
    if (o.tls) {
      MeasureTls(o, data / "set");
      return 0;
    }
    if (o.encryption) {
      MeasureEncryption(o, data / "set");
      return 0;
    }
    if (o.access_log > 0) {
      MeasureAccessLog(o, data / "set");
      return 0;
    }
    std::vector<Figures> runs;
    for (int run = 1; run <= o.runs; ++run) runs.push_back(MeasureOnce(o, data / "set", run));
    std::printf(
        "\n%zu cases + %zu contacts, device A -> relais-central -> device B on loopback, median of %d run(s)\n\n",
        o.cases, o.contacts, o.runs);
    PrintTable(runs);
    std::fflush(stdout);
  }
  if (o.netem) MeasurePoorLink(o);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  // Every replica is encrypted (docs/PRIVACY.md): the `relais` the bench runs takes the passphrase
  // from the environment, derived with the minimum Argon2id cost so that the figures are the sync's,
  // not a second of key derivation per process.
  setenv("RELAIS_PASSPHRASE", "phrase de passe du banc d'essai", 0);
  setenv("RELAIS_WEAK_KDF_FOR_TESTS", "1", 0);
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sync_bench: %s\n", e.what());
    return 1;
  }
}
