// A week's backlog at a rural reception point, synced over a poor link that the test makes itself:
// a network namespace holding the centre, the device outside it, and between them 256 kbit/s,
// 300 ms one way and 1 % loss in each direction (tc netem, or the userspace emulator of
// tests/e2e/tun_link.h on a kernel without netem). Needs root. Hidden ([.]): ctest runs it once, on
// SQLite, as test_e2e_poor_link, which reports Skipped when not run as root (tests/CMakeLists.txt).
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/poor_link.h"
#include "tests/e2e/run.h"
#include "tests/pg_test_db.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

// The exit code ctest maps to Skipped (SKIP_RETURN_CODE of test_e2e_poor_link).
constexpr int kSkipped = 77;

// The week's backlog, of the bench's shape (bench/sync_bench.cc --netem): edits of cases the centre
// already holds and new cases. The cases carry fewer fields than the bench's generated ones (about
// 195 kB to send rather than 323 kB), so the whole test takes about 20 s on two shared cores.
constexpr int kEdits = 4000;
constexpr int kNewCases = 1000;
// A sync may give up ("Rien n'est perdu … relancez `relais sync`"); this many tries must finish it,
// each within this time.
constexpr int kMaxTries = 3;
constexpr auto kSyncLimit = std::chrono::seconds(180);
const std::string kTerritory = "hautes-alpes-brianconnais";

std::string ApplyEditsBinary() { return std::string(RELAIS_BINARY_DIR) + "/tests/apply_edits"; }

// Namespaces, links and qdiscs need root. Without it the test cannot run, and says so through the
// exit code rather than passing.
void ExitSkippedUnlessRoot() {
  if (geteuid() == 0) return;
  std::cerr << "needs root: network namespaces, veth or TUN interfaces and tc. Skipped; run as root "
               "(CI does): sudo ctest --test-dir build -R poor_link\n";
  std::exit(kSkipped);
}

// Requires a command to have succeeded, showing what it wrote on stderr when it did not.
void RequireOk(const RunResult& r) {
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::vector<std::string> Sorted(std::vector<std::string> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace

TEST_CASE("a week's backlog syncs over a slow, lossy, distant link, and the centre holds every change once",
          "[.][e2e][poorlink]") {
  ExitSkippedUnlessRoot();
  // The centre runs in the namespace, out of reach of the test cluster on this namespace's loopback.
  REQUIRE_FALSE(relais::testing::OnPostgres());
  LinkShape shape;  // 300 ms one way, 1 % loss, 256 kbit/s, each direction
  TempDir dir("relais-poorlink");
  PoorLink link(shape);  // declared before the centre: the server stops before its namespace goes
  INFO("link: " << link.mechanism());
  if (!link.netem_error().empty()) WARN("tc netem refused: " << link.netem_error());

  Central central(dir.path());
  central.RunInside(link.InNamespace(), link.namespace_address());
  central.Start();
  REQUIRE(central.url().find(link.namespace_address()) != std::string::npos);
  Device device(dir, "rural");
  // The namespace's address is not loopback: plain HTTP there is a choice the test makes.
  RequireOk(device.Cmd(
      {"init", "--server", central.url(), "--token", central.Enrol("rural", {kTerritory}), "--insecure-http"}));

  // Before the week, over the clean link: the cases the week will edit, on both sides.
  RequireOk(device.Cmd({"import", CasesFile(dir, kEdits, kTerritory, 0, "known.jsonl")}));
  REQUIRE(device.Sync()["pushed"] == kEdits);

  // The week: an edit of each known case, then the new cases. The edits go through the replica's
  // write path in one process (tests/e2e/tools/apply_edits.cc), as `relais case edit` makes them.
  {
    std::ofstream edits(dir / "edits.jsonl");
    for (int i = 0; i < kEdits; ++i) {
      char phone[16];
      std::snprintf(phone, sizeof phone, "07%08d", i);
      edits << json{{"id", GeneratedCaseId(i)}, {"phone", phone}}.dump() << "\n";
    }
  }
  RequireOk(Run({ApplyEditsBinary(), device.db(), "cases", dir / "edits.jsonl"}));
  RequireOk(device.Cmd({"import", CasesFile(dir, kNewCases, kTerritory, kEdits, "new.jsonl")}));
  // The backlog: the edits' outbox entries, and the new cases, whose rows are their creates until a
  // push batch gives them change ids (docs/SCHEMA.md, "The outbox").
  const std::vector<std::string> backlog = Sorted(SqliteRows(device.db(), "SELECT change_id FROM outbox"));
  REQUIRE(backlog.size() == static_cast<size_t>(kEdits));
  const std::vector<std::string> new_cases = Sorted(SqliteRows(device.db(), "SELECT id FROM cases WHERE version = 0"));
  REQUIRE(new_cases.size() == static_cast<size_t>(kNewCases));
  REQUIRE(device.Json({"status"})["pending"] == kEdits + kNewCases);
  const std::string last_seq = central.Rows("SELECT max(seq) FROM history").at(0);

  link.Impair();
  auto sync_once = [&] { return RunWithin({RelaisBinary(), "--db", device.db(), "sync", "--json"}, kSyncLimit); };
  auto started = std::chrono::steady_clock::now();
  RunResult sync;
  int tries = 0;
  do {
    ++tries;
    sync = sync_once();
    if (sync.exit_code != 0 && !sync.timed_out) {
      INFO("try " << tries << ": " << sync.err);
      CHECK(sync.err.find("Rien n'est perdu") != std::string::npos);  // a clear message, not a crash
    }
  } while (sync.exit_code != 0 && tries < kMaxTries);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  LinkCounters counters = link.Counters();
  std::ostringstream figures;
  figures << "poor link (" << shape.delay_ms << " ms one way, " << shape.loss * 100 << " % loss, "
          << shape.rate_bits_per_s / 1000 << " kbit/s, each way): " << kEdits << " edits + " << kNewCases
          << " new cases synced in " << std::fixed << std::setprecision(1) << seconds << " s, " << tries << " tr"
          << (tries == 1 ? "y" : "ies") << "; " << link.mechanism() << "; " << counters.packets << " packets, "
          << counters.dropped << " dropped";
  json summary = json::parse(sync.out, nullptr, false);
  if (summary.is_object()) {
    figures << "; last try: " << summary["bytes_sent"] << " bytes sent, " << summary["bytes_received"] << " received, "
            << summary["requests"] << " requests, " << summary["retries"] << " retries";
  }
  WARN(figures.str());
  INFO("last try" << (sync.timed_out ? " (killed at its time limit)" : "") << ": " << sync.err);
  REQUIRE(sync.exit_code == 0);
  CHECK(counters.packets > 0);  // the traffic did cross the impaired link

  // The device has nothing left to send, and a further sync moves nothing.
  CHECK(device.Json({"status"})["pending"] == 0);
  CHECK(SqliteRows(device.db(), "SELECT count(*) FROM outbox").at(0) == "0");
  RunResult again = sync_once();
  RequireOk(again);
  CHECK(json::parse(again.out)["pushed"] == 0);
  CHECK(json::parse(again.out)["pulled"] == 0);

  // The centre applied each change of the backlog once, and nothing else: the edits by their change
  // ids, the creates one per new case (a case the centre did not hold before).
  const std::string since = "FROM history WHERE seq > " + last_seq;
  const std::string known = "(SELECT record_id FROM history WHERE seq <= " + last_seq + ")";
  CHECK(Sorted(central.Rows("SELECT change_id " + since + " AND record_id IN " + known)) == backlog);
  CHECK(Sorted(central.Rows("SELECT record_id " + since + " AND record_id NOT IN " + known)) == new_cases);
  CHECK(central.Count("SELECT count(*) " + since) == kEdits + kNewCases);
  CHECK(central.Count("SELECT count(DISTINCT change_id) " + since) == kEdits + kNewCases);
  CHECK(central.Count("SELECT count(*) FROM cases") == kEdits + kNewCases);
  CHECK(central.Count("SELECT count(*) FROM cases WHERE phone LIKE '07%'") == kEdits);
  CHECK(central.Count("SELECT count(*) FROM (SELECT record_id FROM history GROUP BY record_id HAVING count(*) > 2)") ==
        0);
  CHECK(device.CaseCount() == static_cast<size_t>(kEdits + kNewCases));

  CHECK(Integrity(device.db()) == "ok");
  CHECK(central.Integrity() == "ok");
}
