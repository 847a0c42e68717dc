// Does the PostgreSQL store hold 200 devices syncing at once at least as well as the embedded SQLite
// store? Both in the same run, through the real `relais-central serve` on loopback. Prints a table.
// Not a test: see README "Benchmarks".
//
//   load_bench [--devices 200] [--cases 200] [--followups 100] [--territories 20] [--runs 3]
//              [--window S] [--threads N] [--pg URL] [--bin DIR]
//   load_bench --sustained [--slo-ms 1000] [--devices 200] …
//
// Each simulated device is a thread speaking the wire protocol (docs/PROTOCOL.md) as `relais sync`
// does with its defaults: its week's backlog (--cases new cases and --followups follow-up entries
// on them, in its territory) in one push, then pull pages of 5,000 from cursor 0 until no more:
// everything its territory holds (its own changes, and those of the devices sharing its territory
// that committed by then). By default all devices start in the same instant (the worst case: a
// burst); --window S spreads their starts evenly over S seconds instead (device d starts at
// d*S/devices; territories are mixed all along). --threads N is passed to `relais-central serve`.
// Per store and run: a fresh store with the devices enrolled beforehand, then:
//  - throughput: (changes pushed + records pulled) / wall time until the last device finished;
//  - latency of each push and each pull request as the device sees it (queueing for one of the
//    server's worker threads included, retries included), p50 and p99;
//  - errors: requests that still failed after the client's retries, or answers that did not apply
//    every change (0 expected); retries: requests retried, as `relais sync` does, after a network
//    failure or a 5xx (a connection refused or cut while it waited for the server);
//  - peak RSS of the server process (/proc/PID/status VmHWM; PostgreSQL's own processes are not
//    counted).
// --pg: a PostgreSQL server whose role may CREATE DATABASE; without it the bench starts a
// throwaway cluster with durable commits (scripts/pg_cluster.sh start --durable) and stops it.
// SQLite runs with its durable settings too (WAL, synchronous=FULL). Medians of --runs runs.
//
// --sustained answers "how fast may devices arrive before the p99 push latency they see passes
// --slo-ms?" for each store: a burst measures only the queue that any server with a finite rate
// builds when 200 devices press `sync` in the same millisecond. For each store it runs the same 200
// devices with their starts spread over shorter and shorter windows (the ladder 20, 12, 8, 5, 3, 2,
// 1.2 s, then all at once) until p99 passes the limit or a request fails, then halves the interval
// between the last window met and the first missed three times; the two stores take turns. A
// window met in one run is met; one missed is run twice more and judged on the median of the
// three. A store's sustained throughput is the throughput of its shortest window met.
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/ids.h"
#include "pg/conn.h"
#include "server/store_open.h"
#include "sync/codec.h"
#include "sync/hlc.h"
#include "tests/e2e/run.h"

extern char** environ;

using namespace relais;
using Stopwatch = std::chrono::steady_clock;

namespace {

struct Options {
  int devices = 200;
  int cases = 200;
  int followups = 100;
  int territories = 20;
  int runs = 3;
  double window_s = 0;  // starts spread over this many seconds; 0: all at once
  int threads = 0;      // relais-central serve --threads; 0: its default
  bool sustained = false;
  double slo_ms = 1000;  // --sustained: the p99 push latency a window must stay under
  std::string pg_url;
  std::string bin_dir;
};

struct Figures {
  double seconds = 0;
  double throughput = 0;  // (changes pushed + records pulled) per second
  double pushed = 0, pulled = 0;
  double push_p50_ms = 0, push_p99_ms = 0, pull_p50_ms = 0, pull_p99_ms = 0;
  double errors = 0;   // failed after every retry, or a change not applied
  double retries = 0;  // requests retried after a network failure or a 5xx
  double server_rss_mib = 0;
  double server_push_p50_ms = 0, server_push_p99_ms = 0;  // handling time, from the server's log
};

// The `ms=` of every push the server logged: its handling time, without the wait for a worker.
std::vector<double> ServerPushMs(const std::string& log) {
  std::ifstream in(log);
  std::vector<double> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("POST /v1/push 200", 0) != 0) continue;
    size_t at = line.rfind(" ms=");
    if (at != std::string::npos) out.push_back(std::stod(line.substr(at + 4)));
  }
  return out;
}

double Ms(Stopwatch::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

std::string Run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + command);
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  if (pclose(p) != 0) throw std::runtime_error(command + " failed");
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// `relais-central serve` on 127.0.0.1:0 over `store_spec`, stopped (SIGTERM) by the destructor.
class Server {
 public:
  Server(const std::string& binary, const std::string& store_spec, const std::string& log, int threads) {
    std::filesystem::remove(log);  // the push times are read from it: this run's only
    const bool pg = pg::IsPostgresUrl(store_spec);
    std::vector<std::string> args = {binary, "serve", pg ? "--store" : "--db", store_spec, "--listen", "127.0.0.1:0"};
    if (threads > 0) {
      args.push_back("--threads");
      args.push_back(std::to_string(threads));
    }
    e2e::Listening server = e2e::SpawnListening(args, log, std::chrono::seconds(30));
    pid_ = server.pid;
    port_ = std::stoi(server.url.substr(server.url.rfind(':') + 1));
  }
  ~Server() {
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
  }
  int port() const { return port_; }
  double PeakRssMiB() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string key;
    while (in >> key) {
      if (key == "VmHWM:") {
        double kib = 0;
        in >> kib;
        return kib / 1024;
      }
    }
    return 0;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// The first failures, on stderr, to tell a refused connection from a server error.
void Report(const char* what, const httplib::Result& res) {
  static std::atomic<int> shown{0};
  if (shown++ >= 5) return;
  if (!res) {
    std::fprintf(stderr, "%s failed: %s\n", what, httplib::to_string(res.error()).c_str());
  } else {
    std::fprintf(stderr, "%s failed: HTTP %d %s\n", what, res->status, res->body.substr(0, 200).c_str());
  }
}

std::string Territory(int i, const Options& o) { return "territoire-" + std::to_string(i % o.territories); }

// A device's backlog: cases, then follow-ups on them, as one push request.
sync::PushRequest Backlog(int device, const Options& o, int64_t t0) {
  sync::PushRequest r;
  r.batch_key = RandomHex(16);
  const std::string node = "d" + std::to_string(device);
  std::vector<std::string> case_ids;
  for (int i = 0; i < o.cases; ++i) {
    sync::Change c;
    c.change_id = NewUuidV7(t0);
    c.table = "cases";
    c.record_id = NewUuidV7(t0);
    c.op = sync::Op::kCreate;
    c.hlc = sync::Hlc{t0 + i, 0, node}.ToString();
    c.fields = {{"last_name", "Nom" + std::to_string(device) + "x" + std::to_string(i), std::nullopt},
                {"first_name", "Prénom", std::nullopt},
                {"opened_on", "2026-11-02", std::nullopt},
                {"status", "demandeur_emploi", std::nullopt},
                {"service_level", "2", std::nullopt},
                {"phone", "0611223344", std::nullopt},
                {"commune", "Gap", std::nullopt},
                {"territory", Territory(device, o), std::nullopt}};
    case_ids.push_back(c.record_id);
    r.changes.push_back(std::move(c));
  }
  for (int i = 0; i < o.followups && !case_ids.empty(); ++i) {
    sync::Change c;
    c.change_id = NewUuidV7(t0);
    c.table = "followups";
    c.record_id = NewUuidV7(t0);
    c.op = sync::Op::kCreate;
    c.hlc = sync::Hlc{t0 + o.cases + i, 0, node}.ToString();
    c.fields = {{"case_id", case_ids[static_cast<size_t>(i) % case_ids.size()], std::nullopt},
                {"kind", "entretien", std::nullopt},
                {"date", "2026-11-20", std::nullopt},
                {"text", "Entretien de suivi : CV repris, deux candidatures envoyées.", std::nullopt}};
    r.changes.push_back(std::move(c));
  }
  return r;
}

// A fresh store with the devices enrolled; returns the spec and the tokens.
std::string FreshStore(const std::string& kind, const Options& o, const std::string& dir, int run,
                       std::vector<std::string>& tokens) {
  std::string spec;
  if (kind == "sqlite") {
    spec = dir + "/central-" + std::to_string(run) + ".db";
  } else {
    const std::string name = "relais_load_" + std::to_string(getpid()) + "_" + std::to_string(run);
    auto admin = pg::Conn::Open(o.pg_url);
    if (!admin) throw std::runtime_error(admin.error().message);
    if (!(*admin)->ExecScript("CREATE DATABASE " + name)) throw std::runtime_error("CREATE DATABASE failed");
    spec = o.pg_url.substr(0, o.pg_url.rfind('/') + 1) + name;
  }
  auto store = server::OpenStore(spec, server::OpenMode::kCreate);
  if (!store) throw std::runtime_error(store.error().message);
  tokens.clear();
  for (int d = 0; d < o.devices; ++d) {
    auto token = (*store)->AddDevice("appareil-" + std::to_string(d), {Territory(d, o)}, server::Role::kDevice);
    if (!token) throw std::runtime_error(token.error().message);
    tokens.push_back(*token);
  }
  return spec;
}

Figures MeasureOnce(const std::string& kind, const Options& o, const std::string& dir, int run) {
  std::vector<std::string> tokens;
  const std::string spec = FreshStore(kind, o, dir, run, tokens);
  const int64_t t0 = 1798761600000 + run;
  std::vector<sync::PushRequest> backlogs;
  for (int d = 0; d < o.devices; ++d) backlogs.push_back(Backlog(d, o, t0));

  const std::string log = dir + "/server-" + kind + ".log";
  std::optional<Server> server(std::in_place, o.bin_dir + "/relais-central", spec, log, o.threads);
  std::vector<std::vector<double>> push_ms(static_cast<size_t>(o.devices)), pull_ms(static_cast<size_t>(o.devices));
  std::atomic<int64_t> pushed{0}, pulled{0}, errors{0}, retries{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Stopwatch::time_point t_go;  // written before `go` is set
  std::vector<std::thread> threads;
  for (int d = 0; d < o.devices; ++d) {
    threads.emplace_back([&, d] {
      const size_t i = static_cast<size_t>(d);
      httplib::Client client("127.0.0.1", server->port());
      client.set_connection_timeout(30);
      client.set_read_timeout(120);
      client.set_write_timeout(120);
      const httplib::Headers headers = {{"Relais-Protocol", "1"}, {"Authorization", "Bearer " + tokens[i]}};
      const std::string body = sync::EncodePushRequest(backlogs[i]);
      ++ready;
      while (!go.load()) std::this_thread::yield();
      if (o.window_s > 0) {
        std::this_thread::sleep_until(t_go + std::chrono::duration_cast<Stopwatch::duration>(
                                                 std::chrono::duration<double>(o.window_s * d / o.devices)));
      }
      // As `relais sync`: a network failure or a 5xx is retried with backoff (6 attempts), the same
      // batch key answered once by the server.
      auto with_retries = [&](auto request) {
        auto res = request();
        for (int attempt = 1; attempt < 6 && (!res || res->status >= 500); ++attempt) {
          ++retries;
          Report("a request (retried)", res);
          std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
          res = request();
        }
        return res;
      };
      auto start = Stopwatch::now();
      auto res = with_retries([&] { return client.Post("/v1/push", headers, body, "application/json"); });
      push_ms[i].push_back(Ms(Stopwatch::now() - start));
      if (!res || res->status != 200) {
        Report("push", res);
        ++errors;
        return;
      }
      auto reply = sync::DecodePushResponse(res->body);
      if (!reply) {
        ++errors;
        return;
      }
      for (const auto& r : reply->results) {
        if (r.status != sync::ChangeStatus::kApplied) ++errors;
      }
      pushed += static_cast<int64_t>(reply->results.size());
      int64_t cursor = 0;
      while (true) {
        start = Stopwatch::now();
        auto page_res = with_retries(
            [&] { return client.Get("/v1/pull?since=" + std::to_string(cursor) + "&limit=5000", headers); });
        pull_ms[i].push_back(Ms(Stopwatch::now() - start));
        if (!page_res || page_res->status != 200) {
          Report("pull", page_res);
          ++errors;
          return;
        }
        auto page = sync::DecodePullPage(page_res->body);
        if (!page) {
          ++errors;
          return;
        }
        pulled += static_cast<int64_t>(page->records.size());
        cursor = page->next;
        if (!page->more) break;
      }
    });
  }
  while (ready.load() < o.devices) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto start = Stopwatch::now();
  t_go = start;
  go = true;
  for (std::thread& t : threads) t.join();
  Figures f;
  f.seconds = std::chrono::duration<double>(Stopwatch::now() - start).count();
  f.pushed = static_cast<double>(pushed.load());
  f.pulled = static_cast<double>(pulled.load());
  f.throughput = (f.pushed + f.pulled) / f.seconds;
  std::vector<double> all_push, all_pull;
  for (const auto& v : push_ms) all_push.insert(all_push.end(), v.begin(), v.end());
  for (const auto& v : pull_ms) all_pull.insert(all_pull.end(), v.begin(), v.end());
  f.push_p50_ms = Percentile(all_push, 0.5);
  f.push_p99_ms = Percentile(all_push, 0.99);
  f.pull_p50_ms = Percentile(all_pull, 0.5);
  f.pull_p99_ms = Percentile(all_pull, 0.99);
  f.errors = static_cast<double>(errors.load());
  f.retries = static_cast<double>(retries.load());
  f.server_rss_mib = server->PeakRssMiB();
  server.reset();  // stopped: its log is complete
  const std::vector<double> handled = ServerPushMs(log);
  f.server_push_p50_ms = Percentile(handled, 0.5);
  f.server_push_p99_ms = Percentile(handled, 0.99);
  return f;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Thousands(double v) {
  std::string digits = std::to_string(static_cast<long long>(v + 0.5));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

void PrintTable(const Options& o, const std::vector<Figures>& sqlite, const std::vector<Figures>& pg) {
  auto med = [](const std::vector<Figures>& runs, double Figures::*field) {
    std::vector<double> v;
    for (const Figures& f : runs) v.push_back(f.*field);
    return Median(v);
  };
  const std::string when = o.window_s > 0 ? "starting evenly over " + Fixed(o.window_s, 0) + " s" : "starting at once";
  std::printf(
      "\n%d devices %s, each pushing %d changes (%d cases, %d follow-ups) then pulling its territory "
      "(%d territories); server threads: %s; median of %d run(s)\n\n",
      o.devices, when.c_str(), o.cases + o.followups, o.cases, o.followups, o.territories,
      o.threads > 0 ? std::to_string(o.threads).c_str() : "default", static_cast<int>(sqlite.size()));
  std::printf("| measure | SQLite | PostgreSQL |\n| --- | --- | --- |\n");
  auto row = [&](const char* name, double Figures::*field, int decimals, bool thousands = false) {
    double a = med(sqlite, field), b = med(pg, field);
    std::printf("| %s | %s | %s |\n", name, (thousands ? Thousands(a) : Fixed(a, decimals)).c_str(),
                (thousands ? Thousands(b) : Fixed(b, decimals)).c_str());
  };
  row("wall time, s", &Figures::seconds, 1);
  row("throughput, changes + records / s", &Figures::throughput, 0, true);
  row("changes pushed", &Figures::pushed, 0, true);
  row("records pulled", &Figures::pulled, 0, true);
  row("push latency p50, ms", &Figures::push_p50_ms, 0);
  row("push latency p99, ms", &Figures::push_p99_ms, 0);
  row("push handling in the server p50, ms (log)", &Figures::server_push_p50_ms, 0);
  row("push handling in the server p99, ms (log)", &Figures::server_push_p99_ms, 0);
  row("pull latency p50, ms", &Figures::pull_p50_ms, 0);
  row("pull latency p99, ms", &Figures::pull_p99_ms, 0);
  row("errors (after retries)", &Figures::errors, 0);
  row("retried requests (connection refused or cut while queued)", &Figures::retries, 0);
  row("server peak RSS, MiB", &Figures::server_rss_mib, 1);
  const double ratio = med(pg, &Figures::throughput) / med(sqlite, &Figures::throughput);
  const double p99 = med(pg, &Figures::push_p99_ms), handled_p99 = med(pg, &Figures::server_push_p99_ms);
  // Spread over a window, the devices' arrivals set the pace: both stores keep up, and the ratio
  // only says so. Throughput compares the stores in a burst.
  const std::string verdict = o.window_s > 0 ? "set by the arrivals, not the store: compare in a burst"
                                             : std::string("target >= 1: ") + (ratio >= 1 ? "met" : "NOT met");
  std::printf(
      "\nPostgreSQL / SQLite throughput: %.2f (%s). PostgreSQL push p99 (target < 1000 ms): "
      "%.0f ms as devices see it (%s), %.0f ms handling in the server (%s)\n",
      ratio, verdict.c_str(), p99, p99 < 1000 ? "met" : "NOT met", handled_p99, handled_p99 < 1000 ? "met" : "NOT met");
}

// One window of the --sustained search and what it measured.
struct Step {
  double window_s = 0;
  Figures f;
  bool met = false;
  int runs = 1;  // 3 when the first run missed: f is then the median run
};

// The --sustained search of one store (see the comment at the top): which window to try next.
class Search {
 public:
  // The next window to try, or nullopt when the search is over.
  std::optional<double> Next() const {
    if (missed_ < 0) {
      if (rung_ < std::size(kLadder)) return kLadder[rung_];
      return std::nullopt;  // met even with every start at once
    }
    if (met_ <= 0 || halvings_ == 3) return std::nullopt;
    return (met_ + missed_) / 2;
  }
  void Record(const Step& step) {
    steps_.push_back(step);
    if (missed_ < 0)
      ++rung_;
    else
      ++halvings_;
    if (step.met)
      met_ = step.window_s;
    else
      missed_ = step.window_s;
  }
  const std::vector<Step>& steps() const { return steps_; }

 private:
  static constexpr double kLadder[] = {20, 12, 8, 5, 3, 2, 1.2, 0};
  size_t rung_ = 0;
  int halvings_ = 0;
  double met_ = -1, missed_ = -1;
  std::vector<Step> steps_;
};

// One window of the search. A window missed once is measured twice more and judged on the median
// run (by push p99), so that one stall of a shared machine does not end a search.
Step MeasureWindow(const std::string& kind, const Options& o, const std::string& dir, int& run) {
  auto judge = [&](const Figures& f) { return f.push_p99_ms < o.slo_ms && f.errors == 0; };
  Step step{o.window_s, MeasureOnce(kind, o, dir, run++), false};
  step.met = judge(step.f);
  if (step.met) return step;
  std::vector<Figures> runs = {step.f, MeasureOnce(kind, o, dir, run++), MeasureOnce(kind, o, dir, run++)};
  std::sort(runs.begin(), runs.end(), [](const Figures& a, const Figures& b) { return a.push_p99_ms < b.push_p99_ms; });
  step.f = runs[1];
  step.met = judge(step.f);
  step.runs = 3;
  return step;
}

// Both searches, one window of each store in turn, so that the machine's noise falls on both alike.
void SearchBoth(const Options& options, const std::string& dir, Search& sqlite, Search& pg) {
  int run = 0;
  while (true) {
    bool any = false;
    for (auto [kind, search] : {std::pair<const char*, Search*>{"sqlite", &sqlite}, {"postgresql", &pg}}) {
      std::optional<double> window = search->Next();
      if (!window) continue;
      any = true;
      Options o = options;
      o.window_s = *window;
      std::fprintf(stderr, "%s, starts over %.2f s…\n", kind, *window);
      search->Record(MeasureWindow(kind, o, dir, run));
    }
    if (!any) return;
  }
}

// The shortest window met, or nullptr when none was.
const Step* Best(const std::vector<Step>& steps) {
  const Step* best = nullptr;
  for (const Step& s : steps) {
    if (s.met && (!best || s.window_s < best->window_s)) best = &s;
  }
  return best;
}

void PrintSustained(const Options& o, const std::vector<Step>& sqlite, const std::vector<Step>& pg) {
  std::printf(
      "\n%d devices, each pushing %d changes (%d cases, %d follow-ups) then pulling its territory (%d "
      "territories); starts spread evenly over the window; server threads: %s\n\n",
      o.devices, o.cases + o.followups, o.cases, o.followups, o.territories,
      o.threads > 0 ? std::to_string(o.threads).c_str() : "default");
  std::printf(
      "| store | window, s | arrivals, devices/s | wall, s | throughput, changes + records / s | push p50 / p99, ms "
      "| server push p99, ms | pull p50 / p99, ms | errors | server peak RSS, MiB | runs | p99 < %.0f ms |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
      o.slo_ms);
  auto rows = [&](const char* store, const std::vector<Step>& steps) {
    for (const Step& s : steps) {
      const std::string arrivals = s.window_s > 0 ? Fixed(o.devices / s.window_s, 1) : "all at once";
      std::printf("| %s | %s | %s | %s | %s | %s / %s | %s | %s / %s | %s | %s | %s | %s |\n", store,
                  Fixed(s.window_s, 2).c_str(), arrivals.c_str(), Fixed(s.f.seconds, 1).c_str(),
                  Thousands(s.f.throughput).c_str(), Fixed(s.f.push_p50_ms, 0).c_str(),
                  Fixed(s.f.push_p99_ms, 0).c_str(), Fixed(s.f.server_push_p99_ms, 0).c_str(),
                  Fixed(s.f.pull_p50_ms, 0).c_str(), Fixed(s.f.pull_p99_ms, 0).c_str(), Fixed(s.f.errors, 0).c_str(),
                  Fixed(s.f.server_rss_mib, 1).c_str(), s.runs == 1 ? "1" : "3 (median)", s.met ? "yes" : "no");
    }
  };
  rows("SQLite", sqlite);
  rows("PostgreSQL", pg);
  const Step* a = Best(sqlite);
  const Step* b = Best(pg);
  auto describe = [&](const char* store, const Step* s) {
    if (!s) {
      std::printf("%s: p99 push under %.0f ms at no window tried\n", store, o.slo_ms);
      return;
    }
    const std::string arrivals = s->window_s > 0 ? Fixed(o.devices / s->window_s, 1) + " devices/s, " : "";
    std::printf("%s: sustained %s%s changes + records / s (starts over %s s%s), push p99 %.0f ms\n", store,
                arrivals.c_str(), Thousands(s->f.throughput).c_str(), Fixed(s->window_s, 2).c_str(),
                s->window_s > 0 ? "" : ": all at once", s->f.push_p99_ms);
  };
  std::printf("\nSustained throughput: the shortest window whose push p99 stayed under %.0f ms\n", o.slo_ms);
  describe("SQLite", a);
  describe("PostgreSQL", b);
  if (a && b) {
    const double ratio = b->f.throughput / a->f.throughput;
    std::printf("PostgreSQL / SQLite sustained throughput: %.2f (target >= 1: %s)\n", ratio,
                ratio >= 1 ? "met" : "NOT met");
  } else {
    std::printf("PostgreSQL / SQLite sustained throughput: not comparable (a store met the limit at no window)\n");
  }
}

Options Parse(int argc, char** argv) {
  Options o;
  o.bin_dir = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path().string();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--devices")
      o.devices = std::stoi(value());
    else if (a == "--cases")
      o.cases = std::stoi(value());
    else if (a == "--followups")
      o.followups = std::stoi(value());
    else if (a == "--territories")
      o.territories = std::stoi(value());
    else if (a == "--runs")
      o.runs = std::stoi(value());
    else if (a == "--window")
      o.window_s = std::stod(value());
    else if (a == "--threads")
      o.threads = std::stoi(value());
    else if (a == "--sustained")
      o.sustained = true;
    else if (a == "--slo-ms")
      o.slo_ms = std::stod(value());
    else if (a == "--pg")
      o.pg_url = value();
    else if (a == "--bin")
      o.bin_dir = value();
    else
      throw std::runtime_error("unknown option " + a + " (see the comment at the top of bench/load_bench.cc)");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cluster_dir;
  try {
    Options o = Parse(argc, argv);
    if (o.pg_url.empty()) {
      const std::string cluster = Run(std::string(RELAIS_SOURCE_DIR) + "/scripts/pg_cluster.sh start --durable");
      cluster_dir = cluster.substr(0, cluster.find(' '));
      o.pg_url = cluster.substr(cluster.find(' ') + 1);
    }
    const std::string dir = std::filesystem::temp_directory_path() / ("relais-load-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    if (o.sustained) {
      Search sqlite, pg;
      SearchBoth(o, dir, sqlite, pg);
      PrintSustained(o, sqlite.steps(), pg.steps());
    }
    std::vector<Figures> sqlite, pg;
    for (int run = 0; run < o.runs && !o.sustained; ++run) {
      std::fprintf(stderr, "run %d/%d: SQLite…\n", run + 1, o.runs);
      sqlite.push_back(MeasureOnce("sqlite", o, dir, run));
      std::fprintf(stderr, "run %d/%d: PostgreSQL…\n", run + 1, o.runs);
      pg.push_back(MeasureOnce("postgresql", o, dir, run));
    }
    if (!o.sustained) PrintTable(o, sqlite, pg);
    if (!std::getenv("RELAIS_BENCH_KEEP")) std::filesystem::remove_all(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load_bench: %s\n", e.what());
    if (!cluster_dir.empty())
      (void)std::system(("'" + std::string(RELAIS_SOURCE_DIR) + "/scripts/pg_cluster.sh' stop " + cluster_dir).c_str());
    return 1;
  }
  if (!cluster_dir.empty()) {
    (void)std::system(("'" + std::string(RELAIS_SOURCE_DIR) + "/scripts/pg_cluster.sh' stop " + cluster_dir).c_str());
  }
  return 0;
}
