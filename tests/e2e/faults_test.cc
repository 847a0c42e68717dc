// Sync through a proxy that refuses, cuts, answers 5xx and duplicates requests: each sync either
// completes or stops with a clear message and completes on the next try; nothing is lost or applied
// twice.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/fault_proxy.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

}  // namespace

TEST_CASE("sync through an unreliable network completes, losing and duplicating nothing", "[e2e][faults]") {
  auto fault = GENERATE(Fault::kRefuse, Fault::kCutRequest, Fault::kCutResponse, Fault::kAnswer502, Fault::kAnswer503,
                        Fault::kDeliverTwice, Fault::kTruncateBody, Fault::kStall);
  TempDir dir;
  Central central(dir.path());
  central.Start();
  // Every connection of the first few is faulty: the push and the pull both meet the fault.
  FaultProxy proxy(PortOf(central.url()), {Fault::kNone, fault, fault, Fault::kNone, fault, fault});
  std::string token = central.Enrol("a", {"hautes-alpes-gap"});
  std::string db = dir / "a.db";
  auto relais = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {RelaisBinary(), "--db", db};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  };
  REQUIRE(relais({"init", "--server", proxy.url(), "--token", token}).exit_code == 0);
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    REQUIRE(relais({"case", "add", "--last-name", "Névache", "--first-name", "Zoé" + std::to_string(i),
                    "--territory", "hautes-alpes-gap"}).exit_code == 0);
  }
  // A sync either completes or stops with a message saying nothing is lost; a few tries finish it.
  int tries = 0;
  RunResult r;
  do {
    r = relais({"sync", "--json", "--batch", "10", "--attempts", "2", "--stall-timeout", "2"});
    if (r.exit_code != 0) CHECK(r.err.find("Rien n'est perdu") != std::string::npos);
  } while (r.exit_code != 0 && ++tries < 5);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(proxy.faults_injected() > 0);
  CHECK(json::parse(relais({"status", "--json"}).out)["pending"] == 0);
  CHECK(central.Count("SELECT count(*) FROM cases") == n);
  CHECK(central.Count("SELECT count(*) FROM history") == n);  // each change applied once
  CHECK(json::parse(relais({"case", "list", "--limit", "0", "--json"}).out).size() == static_cast<size_t>(n));
}
