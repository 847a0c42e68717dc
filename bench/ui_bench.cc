// How fast do the pages of `relais ui` answer, server side, on a busy territory's replica — 100,000
// cases, 300,000 follow-ups (bench/sample_data.h), encrypted and unlocked as during a counsellor's
// day? The real relais-ui on loopback, driven over HTTP by this program as the browser would: each
// keystroke of the search box (the list of hits, `/recherche?partiel=1`, from the second letter),
// and a case page. Targets (issue 31): a keystroke ≤ 30 ms median, a case page ≤ 20 ms. The
// yardstick is the stylesheet, a fixed answer: what HTTP on loopback costs alone. Prints a table.
// Not a test: see README "Benchmarks".
//
//   ui_bench [--cases N] [--runs N] [--work DIR]
#include <signal.h>
#include <sys/wait.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <httplib.h>

#include "bench/bench_common.h"
#include "bench/sample_data.h"
#include "client/replica_key.h"
#include "client/replica_port.h"
#include "tests/e2e/run.h"

using namespace relais;
using bench::Count;
using bench::Fail;
using bench::Must;
using bench::Percentile;
using Stopwatch = std::chrono::steady_clock;

namespace {

const char* const kPassphrase = "phrase de passe du banc d'essai de relais ui";

std::string Binary(const char* name) { return std::string(RELAIS_BINARY_DIR) + "/" + name; }

// GET `path`, which must answer 200; its milliseconds.
double Timed(httplib::Client& http, const std::string& path, const httplib::Headers& headers) {
  const auto t0 = Stopwatch::now();
  auto r = http.Get(path.c_str(), headers);
  const double ms = std::chrono::duration<double, std::milli>(Stopwatch::now() - t0).count();
  if (!r || r->status != 200) Fail("GET " + path + ": " + (r ? std::to_string(r->status) : std::string("no answer")));
  return ms;
}

std::string UrlEncoded(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", c);
    out += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(hex);
  }
  return out;
}

void Row(const char* what, const std::vector<double>& ms, const char* target) {
  std::printf("%-46s %7.1f ms %7.1f ms %10s  (%zu requests)\n", what, Percentile(ms, 0.5), Percentile(ms, 0.9), target,
              ms.size());
}

}  // namespace

int main(int argc, char** argv) {
  int cases = 100000, runs = 10;
  std::string work = std::filesystem::temp_directory_path() / "relais-ui-bench";
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
  std::filesystem::create_directories(work);
  const std::string db = work + "/replica.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  client::Passphrases passphrases;
  passphrases.environment = kPassphrase;
  Must(client::PrepareReplicaKey(db, passphrases), "encrypted replica");
  bench::SampleData data;
  {
    auto replica = Must(client::Replica::Open(db, SystemClock::Instance()), "open replica");
    data = bench::FillSample(replica, {cases, 3 * cases, cases / 2, cases / 10},
                             client::LocalToday(SystemClock::Instance()));
  }
  e2e::RunResult unlocked = e2e::Run({Binary("relais"), "--db", db, "unlock"}, {{"RELAIS_PASSPHRASE", kPassphrase}});
  if (unlocked.exit_code != 0) Fail("relais unlock: " + unlocked.err);

  e2e::Listening ui = e2e::SpawnListening(
      {Binary("relais"), "--db", db, "ui", "--no-browser", "--listen", "127.0.0.1:0"}, work + "/ui.log",
      std::chrono::seconds(30), {}, "Relais est ouvert sur ce poste : ");
  const std::string base = ui.url.substr(0, ui.url.find("/ouvrir"));
  httplib::Client http("127.0.0.1", std::stoi(base.substr(base.rfind(':') + 1)));
  auto opened = http.Get(ui.url.substr(base.size()).c_str());
  if (!opened || opened->status != 303) Fail("opening link refused");
  const std::string set = opened->get_header_value("Set-Cookie");
  const httplib::Headers cookie = {{"Cookie", set.substr(0, set.find(';'))}};

  // What people type: full names, without accents or capitals (each surname is 12,500 cases here).
  const std::vector<std::string> typed = {"martin elodie", "nevache zoe", "lefevre raphael"};
  std::mt19937 rng(11);
  std::vector<double> keystroke, case_page, yardstick;
  for (int run = 0; run < runs; ++run) {
    for (const std::string& words : typed) {
      for (size_t n = 2; n <= words.size(); ++n) {
        keystroke.push_back(Timed(http, "/recherche?partiel=1&q=" + UrlEncoded(words.substr(0, n)),
                                  cookie));
      }
    }
    for (int i = 0; i < 10; ++i) {
      case_page.push_back(Timed(http, "/dossiers/" + data.case_ids[rng() % data.case_ids.size()], cookie));
      yardstick.push_back(Timed(http, "/style.css", {}));
    }
  }
  // The answers counted are real ones: people found, a case shown.
  for (const std::string& words : typed) {
    auto hits = http.Get(("/recherche?partiel=1&q=" + UrlEncoded(words)).c_str(), cookie);
    if (!hits || hits->body.find("/dossiers/") == std::string::npos) Fail("nobody found for « " + words + " »");
  }
  auto shown = http.Get(("/dossiers/" + data.case_ids.front()).c_str(), cookie);
  if (!shown || shown->body.find("Suivi (") == std::string::npos) Fail("case page without its follow-ups");
  ::kill(ui.pid, SIGTERM);
  int status = 0;
  ::waitpid(ui.pid, &status, 0);
  e2e::Run({Binary("relais"), "--db", db, "lock"});

  std::printf("replica: %d cases, %d follow-ups (encrypted, unlocked); %d runs\n\n", cases, 3 * cases, runs);
  std::printf("%-46s %10s %10s %10s\n", "request (server side, over loopback HTTP)", "median", "p90", "target");
  Row("search box: one keystroke (list of hits)", keystroke, "<= 30 ms");
  Row("case page (with its follow-ups)", case_page, "<= 20 ms");
  Row("stylesheet (yardstick: HTTP alone)", yardstick, "");
  return 0;
}
