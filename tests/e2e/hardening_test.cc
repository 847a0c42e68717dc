// A device's token kept off the network in clear and away from other hosts, files of personal data
// kept to their owner, no core dump of either program (issue 26; docs/THREATS.md). Through the real
// `relais` and `relais-central`, against the real centre or, where a centre must misbehave or hold
// a request, a small fake one (cpp-httplib on loopback).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/loopback_http.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kGap = "hautes-alpes-gap";

// A listening socket on 127.0.0.1 that records, in order, the client port of every connection made
// to it (each is accepted and closed at once). No sleep decides that nothing came: Sentinel()
// connects from the test itself; the kernel queues connections in order, so once the sentinel is
// accepted every connection made before it has been too.
class AcceptRecorder {
 public:
  AcceptRecorder() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        sockaddr_in peer{};
        socklen_t peer_len = sizeof peer;
        const int c = ::accept(fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len);
        if (c < 0) return;  // shut down
        ::close(c);
        std::lock_guard lock(mu_);
        ports_.push_back(ntohs(peer.sin_port));
        accepted_.notify_all();
      }
    });
  }
  ~AcceptRecorder() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  AcceptRecorder(const AcceptRecorder&) = delete;
  AcceptRecorder& operator=(const AcceptRecorder&) = delete;

  int port() const { return port_; }

  // How many connections were made to it before now.
  size_t ConnectionsSoFar() {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    socklen_t len = sizeof addr;
    REQUIRE(::connect(s, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const int sentinel = ntohs(addr.sin_port);
    std::unique_lock lock(mu_);
    const bool seen = accepted_.wait_for(lock, std::chrono::seconds(10), [&] {
      return std::find(ports_.begin(), ports_.end(), sentinel) != ports_.end();
    });
    ::close(s);
    REQUIRE(seen);
    const size_t before = static_cast<size_t>(std::find(ports_.begin(), ports_.end(), sentinel) - ports_.begin());
    ports_.clear();
    return before;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable accepted_;
  std::vector<int> ports_;
};

// A server at its own loopback port that counts the requests it gets and those that carried an
// Authorization header: where a hostile centre would send a device.
class Witness {
 public:
  Witness()
      : server_([this](const httplib::Request& req, httplib::Response& res) {
          ++requests_;
          if (req.has_header("Authorization")) ++with_token_;
          res.set_content(R"({"device":"piège","territories":[]})", "application/json");
        }) {}
  std::string url() const { return server_.url(); }
  int requests() const { return requests_; }
  int with_token() const { return with_token_; }

 private:
  std::atomic<int> requests_{0}, with_token_{0};
  LoopbackHttp server_;  // last: stopped before the counters go
};

// A centre that answers whoami as a centre does and an empty last pull page; or, once told, answers
// every request with a redirection; or holds every request until released (a process caught in
// the middle of a sync, for the test to look at).
class FakeCentre {
 public:
  FakeCentre() : server_([this](const httplib::Request& req, httplib::Response& res) { Answer(req, res); }) {}
  ~FakeCentre() { Release(); }
  FakeCentre(const FakeCentre&) = delete;
  FakeCentre& operator=(const FakeCentre&) = delete;

  std::string url() const { return server_.url(); }
  void Redirect(int status, std::string location) {
    std::lock_guard lock(mu_);
    redirect_status_ = status;
    location_ = std::move(location);
  }
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
    held_ = false;
  }
  // Waits (up to 30 s) for a request to be held; true when one is.
  bool WaitHeld() {
    std::unique_lock lock(mu_);
    return arrived_.wait_for(lock, std::chrono::seconds(30), [&] { return held_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    released_.notify_all();
  }

 private:
  void Answer(const httplib::Request& req, httplib::Response& res) {
    std::unique_lock lock(mu_);
    if (redirect_status_ != 0) {
      res.status = redirect_status_;
      res.set_header("Location", location_);
      return;
    }
    if (hold_) {
      held_ = true;
      arrived_.notify_all();
      released_.wait_for(lock, std::chrono::seconds(60), [&] { return !hold_; });
    }
    if (req.path == "/v1/whoami") {
      res.set_content(json{{"device", "d"},
                           {"role", "device"},
                           {"territories", {kGap}},
                           {"protocol", 1},
                           {"features", json::array()}}
                          .dump(),
                      "application/json");
      return;
    }
    const int64_t since = req.has_param("since") ? std::stoll(req.get_param_value("since")) : 0;
    res.set_content(
        json{{"protocol", 1}, {"since", since}, {"next", since}, {"more", false}, {"tables", json::object()}}.dump(),
        "application/json");
  }

  std::mutex mu_;
  std::condition_variable arrived_, released_;
  int redirect_status_ = 0;
  std::string location_;
  bool hold_ = false, held_ = false;
  LoopbackHttp server_;  // last: its threads stop before the state they read goes
};

// `argv` run in `dir` under umask 000 — what a careless account or service unit gives — with the
// core size limit raised to the hard limit (so that a dump, if the program allows one, is
// written), and `env` set. With `core_note`, the shell writes there, just before it becomes the
// program (same process), its own line "Max core file size" of /proc: the limit the program
// inherits, whatever the system let the shell raise it to.
std::vector<std::string> Careless(const fs::path& dir, const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env = {}, const fs::path& core_note = {}) {
  std::vector<std::string> out = {"/usr/bin/env"};
  out.insert(out.end(), env.begin(), env.end());
  std::string script = "cd \"$0\" && umask 000 && ulimit -c \"$(ulimit -H -c)\" && ";
  if (!core_note.empty()) script += "grep '^Max core file size' \"/proc/$$/limits\" > '" + core_note.string() + "' && ";
  script += "exec \"$@\"";
  for (const std::string& a : {std::string("/bin/sh"), std::string("-c"), script}) out.push_back(a);
  out.push_back(dir.string());
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// The permission bits of `path`, as octal text ("600"), or "absent".
std::string Mode(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "absent";
  std::ostringstream out;
  out << std::oct << (st.st_mode & 07777);
  return out.str();
}

// The "Max core file size" of /proc/PID/limits, soft and hard, as the kernel writes them.
struct CoreSize {
  std::string soft, hard;
};

// Read from a limits file: /proc/PID/limits, or a note written by Careless.
CoreSize CoreLimitIn(const fs::path& limits) {
  std::ifstream in(limits);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max core file size", 0) == 0) {
      std::istringstream words(line.substr(std::string("Max core file size").size()));
      CoreSize size;
      words >> size.soft >> size.hard;
      return size;
    }
  }
  return {"?", "?"};
}

CoreSize CoreLimit(pid_t pid) { return CoreLimitIn("/proc/" + std::to_string(pid) + "/limits"); }

// With RELAIS_CORE_DUMPS=1 the program leaves its core limit as it inherited it (noted by
// Careless). Where the system would not let the shell raise the soft limit, both are 0 and the
// check proves less: said, not hidden.
//
// Some sandboxes (CI's) reset the soft limit to 0 at exec, below the program: the program then
// runs with a soft limit its shell did not have. That is said, and the crash that follows
// (CheckCoreDump against a control) decides whether the program turned dumps off.
void CheckLimitAsInherited(const CoreSize& limit, const fs::path& core_note) {
  const CoreSize inherited = CoreLimitIn(core_note);
  REQUIRE(inherited.soft != "?");
  CHECK(limit.hard == inherited.hard);
  if (limit.soft != inherited.soft) {
    WARN("soft core limit " << limit.soft << " in the program, " << inherited.soft
                            << " in its shell just before exec: the system's doing or the program's; the crash decides");
  }
  if (inherited.soft == "0") WARN("the soft core limit inherited is 0 (the system's): leaving it as is proves less");
}

std::string CorePattern() {
  std::ifstream in("/proc/sys/kernel/core_pattern");
  std::string pattern;
  std::getline(in, pattern);
  return pattern;
}

// A non-dumpable process's /proc entries belong to root (proc(5)); a dumpable one's to its user.
bool ProcOwnedByRoot(pid_t pid) {
  struct stat st {};
  return ::stat(("/proc/" + std::to_string(pid) + "/status").c_str(), &st) == 0 && st.st_uid == 0;
}

// Crashes the running process `pid` with SIGQUIT, whose default action is a dump, after its soft
// core limit is raised to its hard one from outside (prlimit, allowed to the same user): then only
// the process's own "dumpable" flag can stop the dump. Returns whether the kernel's wait status says
// it dumped.
bool CrashDumpsCore(pid_t pid) {
  rlimit limit{};
  REQUIRE(::prlimit(pid, RLIMIT_CORE, nullptr, &limit) == 0);
  limit.rlim_cur = limit.rlim_max;
  REQUIRE(::prlimit(pid, RLIMIT_CORE, &limit, nullptr) == 0);
  REQUIRE(::kill(pid, SIGQUIT) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  return WCOREDUMP(status) != 0;
}

// The control: whether this system writes a core when a process that allows dumps crashes — a
// `sleep` started in `dir` the way the programs are.
bool SystemDumpsCore(const fs::path& dir) {
  const pid_t pid = SpawnQuiet(Careless(dir, {"/bin/sleep", "60"}));
  rlimit limit{};
  REQUIRE(::prlimit(pid, RLIMIT_CORE, nullptr, &limit) == 0);
  if (limit.rlim_max == 0) {
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return false;
  }
  return CrashDumpsCore(pid);
}

// Checks whether a crash of the running process `pid` (started in `dir`) leaves a core dump, and
// ends the process. Where a dump is expected and none came, the control says whether the system
// would have written one: if so, the program turned dumps off. With a hard limit of 0 nothing can
// be raised: then the owner of the process's /proc entries tells the flag, except to root (for whom
// every process of root looks alike).
void CheckCoreDump(pid_t pid, bool expected, const fs::path& dir) {
  rlimit limit{};
  REQUIRE(::prlimit(pid, RLIMIT_CORE, nullptr, &limit) == 0);
  if (limit.rlim_max == 0) {
    if (::geteuid() != 0) {
      CHECK(ProcOwnedByRoot(pid) == !expected);
    } else {
      WARN("hard core limit 0 and running as root: whether a crash dumps core is not checked here");
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return;
  }
  const bool dumped = CrashDumpsCore(pid);
  if (!expected) CHECK_FALSE(dumped);
  if (expected && !dumped) {
    if (SystemDumpsCore(dir)) {
      FAIL_CHECK("a crashing sleep dumps core here, the program asked for dumps did not: it turned them off");
    } else {
      WARN("this system wrote no core dump (core_pattern: " << CorePattern() << "): the check proves less");
    }
  }
}

}  // namespace

TEST_CASE("relais init refuses an http:// address to another machine, before any connection", "[hardening][e2e]") {
  TempDir dir;
  AcceptRecorder recorder;
  // 0.0.0.0 is not loopback by the rule, yet Linux connects it to this machine: a connection, were
  // one attempted, would reach the recorder.
  const std::string clear = "http://0.0.0.0:" + std::to_string(recorder.port());
  const std::string db = dir / "d.db";
  RunResult refused = Run({RelaisBinary(), "--db", db, "init", "--server", clear, "--token", "jeton-secret"});
  INFO(refused.err);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("en clair") && Catch::Contains("https://0.0.0.0:") &&
                              Catch::Contains("--insecure-http") && !Catch::Contains("jeton-secret"));
  CHECK_FALSE(fs::exists(db));  // refused before the replica is even opened
  CHECK(recorder.ConnectionsSoFar() == 0);

  // The observation works: the same address with --insecure-http does connect.
  RunResult allowed =
      Run({RelaisBinary(), "--db", db, "init", "--server", clear, "--token", "jeton-secret", "--insecure-http"});
  CHECK(allowed.exit_code != 0);  // the recorder is no centre
  CHECK(recorder.ConnectionsSoFar() >= 1);
}

TEST_CASE("an http:// address to this machine needs nothing; --insecure-http is stored and shown", "[hardening][e2e]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  const std::string port = central.url().substr(central.url().rfind(':') + 1);

  Device loopback(dir, "loopback");
  const std::string loopback_token = central.Enrol("loopback", {kGap});
  for (const std::string& url : {central.url(), "http://localhost:" + port}) {
    RunResult r = loopback.Cmd({"init", "--server", url, "--token", loopback_token});
    INFO(url << ": " << r.err);
    CHECK(r.exit_code == 0);
  }
  CHECK(loopback.Json({"status"})["insecure_http"] == false);

  Device insecure(dir, "insecure");
  const std::string token = central.Enrol("insecure", {kGap});
  const std::string clear = "http://0.0.0.0:" + port;  // reaches the centre on 127.0.0.1, but is not loopback
  REQUIRE(insecure.Cmd({"init", "--server", clear, "--token", token}).exit_code == 2);
  RunResult r = insecure.Cmd({"init", "--server", clear, "--token", token, "--insecure-http"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json status = insecure.Json({"status"});
  CHECK(status["server"] == clear);
  CHECK(status["insecure_http"] == true);
  CHECK_THAT(insecure.Cmd({"status"}).out,
             Catch::Contains("En clair sur le réseau (--insecure-http)") && Catch::Contains("oui"));
  insecure.AddCase("Roux", "Inès", kGap);
  CHECK(insecure.Sync()["pushed"] == 1);

  SECTION("a replica bound in clear without the flag (an older Relais) does not sync, and connects nowhere") {
    AcceptRecorder recorder;
    const std::string elsewhere = "http://0.0.0.0:" + std::to_string(recorder.port());
    for (const char* sql : {"UPDATE sync_state SET value = '0' WHERE key = 'insecure_http'",
                            "DELETE FROM sync_state WHERE key = 'insecure_http'"}) {
      sqlite3* h = nullptr;
      REQUIRE(sqlite3_open(insecure.db().c_str(), &h) == SQLITE_OK);
      REQUIRE(sqlite3_exec(h, ("UPDATE sync_state SET value = '" + elsewhere + "' WHERE key = 'server_url'").c_str(),
                           nullptr, nullptr, nullptr) == SQLITE_OK);
      REQUIRE(sqlite3_exec(h, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(h);
      const std::string before = insecure.ContentHash();
      RunResult sync = insecure.Cmd({"sync"});
      INFO(sql << ": " << sync.err);
      CHECK(sync.exit_code == 2);
      CHECK_THAT(sync.err, Catch::Contains("cette base est liée à " + elsewhere) && Catch::Contains("https://"));
      CHECK(insecure.ContentHash() == before);
      CHECK(recorder.ConnectionsSoFar() == 0);
    }
  }
}

TEST_CASE("a centre that redirects is not followed: the error names where it pointed, the token stays",
          "[hardening][e2e]") {
  TempDir dir;
  FakeCentre centre;
  Witness witness;
  const std::string token = "jeton-de-l-appareil";

  SECTION("relais init, 301 to another host") {
    centre.Redirect(301, witness.url() + "/v1/whoami?x=1");
    Device d(dir, "d");
    RunResult r = d.Cmd({"init", "--server", centre.url(), "--token", token});
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("redirection vers " + witness.url() + ",") &&
                          Catch::Contains("que Relais ne suit pas") && Catch::Contains("301") &&
                          !Catch::Contains("/v1/whoami?x=1") && !Catch::Contains(token));
    CHECK(d.Json({"status"})["server"].is_null());
  }
  SECTION("relais sync, 307 to another host, then a relative 308") {
    Device d(dir, "d");
    REQUIRE(d.Cmd({"init", "--server", centre.url(), "--token", token}).exit_code == 0);
    d.AddCase("Roux", "Inès", kGap);
    const std::string before = d.ContentHash();
    centre.Redirect(307, witness.url() + "/v1/whoami");
    RunResult r = d.Cmd({"sync"});
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("redirection vers " + witness.url()) && Catch::Contains("307") &&
                          Catch::Contains(centre.url()) && !Catch::Contains(token));
    centre.Redirect(308, "/connexion");
    r = d.Cmd({"sync"});
    CHECK_THAT(r.err, Catch::Contains("redirection vers une autre page de la même adresse"));
    CHECK(d.ContentHash() == before);
  }
  CHECK(witness.requests() == 0);
  CHECK(witness.with_token() == 0);
}

TEST_CASE("relais-central creates its store and what lies beside it 0600, whatever the umask", "[hardening][e2e]") {
  TempDir dir;
  const fs::path home = dir.path() / "centre";
  fs::create_directory(home);
  Central central(home);
  central.RunInside(Careless(home, {}), "127.0.0.1");
  std::vector<std::string> add = {CentralBinary(), "device", "add", "--name", "d", "--territory", kGap, "--json"};
  for (const std::string& a : central.StoreArgs()) add.push_back(a);
  RunResult enrolled = Run(Careless(home, add));
  INFO(enrolled.err);
  REQUIRE(enrolled.exit_code == 0);
  const fs::path db = home / "central.db";
  if (!relais::testing::OnPostgres()) CHECK(Mode(db) == "600");

  central.Start();
  Device d(dir, "d");
  d.Init(central, json::parse(enrolled.out)["token"].get<std::string>());
  d.AddCase("Roux", "Inès", kGap);
  REQUIRE(d.Sync()["pushed"] == 1);
  if (relais::testing::OnPostgres()) {
    // PostgreSQL's files are PostgreSQL's: relais-central writes none of its own.
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(home)) files.push_back(entry.path().filename().string());
    CHECK(files == std::vector<std::string>{"server.log"});  // written by this test, from the centre's stderr
    return;
  }
  // While serving: the store and its companions.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    INFO(suffix);
    CHECK(Mode(db.string() + suffix) == "600");
  }
  central.Backup();
  central.Kill(SIGTERM);
  RunResult restored = Run(Careless(home, {CentralBinary(), "restore", central.backup_path(), "--db", db.string()}));
  INFO(restored.err);
  REQUIRE(restored.exit_code == 0);
  for (const auto& entry : fs::directory_iterator(home)) {
    const std::string name = entry.path().filename().string();
    if (name == "server.log" || name.rfind("central-backup", 0) == 0) continue;  // the test's own files
    INFO(name);
    CHECK(Mode(entry.path()) == "600");
  }
}

TEST_CASE("relais creates its folders, replica and exports for its user alone, whatever the umask",
          "[hardening][e2e]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  const fs::path data = dir.path() / "xdg" / "data";  // absent: relais makes it
  auto careless_relais = [&](std::vector<std::string> args) {
    args.insert(args.begin(), RelaisBinary());
    return Run(Careless(dir.path(), args, {"XDG_DATA_HOME=" + data.string(), "RELAIS_DB="}));
  };
  RunResult init = careless_relais({"init", "--server", central.url(), "--token", central.Enrol("d", {kGap})});
  INFO(init.err);
  REQUIRE(init.exit_code == 0);
  REQUIRE(
      careless_relais({"case", "add", "--last-name", "Roux", "--first-name", "Inès", "--territory", kGap}).exit_code ==
      0);
  REQUIRE(careless_relais({"sync"}).exit_code == 0);
  RunResult exported = careless_relais({"rejected", "export", "--output", (dir.path() / "refus.json").string()});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK(Mode(dir.path() / "xdg") == "700");
  CHECK(Mode(data) == "700");
  CHECK(Mode(data / "relais") == "700");
  CHECK(Mode(data / "relais" / "replica.db") == "600");
  CHECK(Mode(dir.path() / "refus.json") == "600");
}

TEST_CASE("relais-central serve dumps no core, unless RELAIS_CORE_DUMPS=1 asks", "[hardening][e2e]") {
  TempDir dir;
  const std::string db = dir / "central.db";
  auto serve = [&](const std::vector<std::string>& env, const fs::path& core_note = {}) {
    return SpawnListening(
        Careless(dir.path(), {CentralBinary(), "serve", "--listen", "127.0.0.1:0", "--db", db}, env, core_note),
                          dir / "server.log", std::chrono::seconds(10));
  };
  Listening hardened = serve({});
  CHECK(CoreLimit(hardened.pid).soft == "0");
  CheckCoreDump(hardened.pid, false, dir.path());

  // The same program, asked for dumps: the limit is what it inherited, and a crash dumps core.
  const fs::path note = dir / "core-limit-inherited";
  Listening debugging = serve({"RELAIS_CORE_DUMPS=1"}, note);
  CheckLimitAsInherited(CoreLimit(debugging.pid), note);
  CheckCoreDump(debugging.pid, true, dir.path());
}

TEST_CASE("relais in the middle of a sync: replica companions 0600, no core, unless RELAIS_CORE_DUMPS=1",
          "[hardening][e2e]") {
  TempDir dir;
  FakeCentre centre;
  const std::string db = dir / "d.db";
  REQUIRE(Run({RelaisBinary(), "--db", db, "init", "--server", centre.url(), "--token", "jeton"}).exit_code == 0);
  for (const bool asked : {false, true}) {
    INFO((asked ? "RELAIS_CORE_DUMPS=1" : "hardened"));
    centre.Hold();
    const std::vector<std::string> env =
        asked ? std::vector<std::string>{"RELAIS_CORE_DUMPS=1"} : std::vector<std::string>{};
    const fs::path note = dir / "core-limit-inherited";
    const pid_t pid = SpawnQuiet(Careless(dir.path(), {RelaisBinary(), "--db", db, "sync"}, env, note));
    REQUIRE(centre.WaitHeld());  // the sync is under way: the replica is open, its request sent
    for (const char* suffix : {"", "-wal", "-shm"}) {
      INFO(suffix);
      CHECK(Mode(db + suffix) == "600");
    }
    const CoreSize limit = CoreLimit(pid);
    if (asked) {
      CheckLimitAsInherited(limit, note);
    } else {
      CHECK(limit.soft == "0");
    }
    CheckCoreDump(pid, asked, dir.path());
    centre.Release();
  }
}
