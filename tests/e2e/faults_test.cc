// Sync through a proxy that refuses, cuts, answers 5xx and duplicates requests: each sync either
// completes or stops with a clear message and completes on the next try; nothing is lost or applied
// twice.
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/fault_proxy.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

// Starts `central` and returns its port, for the proxy to be built on.
int StartedPort(Central& central) {
  central.Start();
  return PortOf(central.url());
}

// A centre, a proxy before it with `schedule`, and device "a" of hautes-alpes-gap bound to the
// proxy (its `relais init` already run through it).
struct Proxied {
  explicit Proxied(std::vector<Fault> schedule)
      : central(dir.path()), proxy(StartedPort(central), std::move(schedule)) {
    const std::string token = central.Enrol("a", {"hautes-alpes-gap"});
    REQUIRE(Relais({"init", "--server", proxy.url(), "--token", token}).exit_code == 0);
  }
  RunResult Relais(std::vector<std::string> args) const {
    std::vector<std::string> argv = {RelaisBinary(), "--db", db};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  }
  TempDir dir;
  Central central;
  FaultProxy proxy;
  std::string db = dir / "a.db";
};

}  // namespace

TEST_CASE("sync through an unreliable network completes, losing and duplicating nothing", "[e2e][faults]") {
  auto fault = GENERATE(Fault::kRefuse, Fault::kCutRequest, Fault::kCutResponse, Fault::kAnswer502, Fault::kAnswer503,
                        Fault::kDeliverTwice, Fault::kTruncateBody, Fault::kStall);
  // Every connection of the first few is faulty (the first is init's): the push and the pull both
  // meet the fault.
  Proxied t({Fault::kNone, fault, fault, Fault::kNone, fault, fault});
  auto& [dir, central, proxy, db] = t;
  auto relais = [&t](std::vector<std::string> args) { return t.Relais(std::move(args)); };
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    REQUIRE(relais({"case", "add", "--last-name", "Névache", "--first-name", "Zoé" + std::to_string(i), "--territory",
                    "hautes-alpes-gap"})
                .exit_code == 0);
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

TEST_CASE("a sync's bytes sent and received are those that went over the wire", "[e2e][faults]") {
  // Small bodies (libcurl sends one under 64 KiB with the request's headers) and a large one.
  const int n = GENERATE(3, 400, 5000);
  Proxied t({});
  auto& [dir, central, proxy, db] = t;
  auto relais = [&t](std::vector<std::string> args) { return t.Relais(std::move(args)); };
  const std::string file = dir / "cases.csv";
  {
    std::ofstream out(file);
    out << "id,last_name,first_name,opened_on,territory,notes\n";
    for (int i = 0; i < n; ++i) {
      char id[40];
      std::snprintf(id, sizeof id, "0192f000-0000-7000-8000-%012d", i);
      out << id << ",Névache,Zoé" << i << ",2026-11-02,hautes-alpes-gap,Entretien " << std::hex
          << (static_cast<uint32_t>(i) * 2654435761u) << std::dec << " : projet de formation et mobilité à revoir\n";
    }
  }
  REQUIRE(relais({"import", file}).exit_code == 0);
  const uint64_t sent_before = proxy.bytes_from_clients(), received_before = proxy.bytes_to_clients();  // init's
  RunResult r = relais({"sync", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json summary = json::parse(r.out);
  CHECK(summary["pushed"] == n);
  CHECK(summary["bytes_sent"].get<uint64_t>() == proxy.bytes_from_clients() - sent_before);
  CHECK(summary["bytes_received"].get<uint64_t>() == proxy.bytes_to_clients() - received_before);
  if (n == 5000) CHECK(summary["bytes_sent"].get<uint64_t>() > 65536);  // the large body was large
}
