// relais init --reset (issue 28): a replica nobody can open any more (a forgotten passphrase) is
// replaced by a fresh one from the centre. It says before asking that pending changes are lost;
// refused, it changes nothing; confirmed, it pushes nothing and the centre's records come back.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every byte of the replica's files as they are on disk: what a refused reset must leave.
std::string FilesHash(const Device& device) {
  std::string all;
  for (const char* suffix : {"", "-wal", "-shm"}) all += std::string(suffix) + ":" + Bytes(device.db() + suffix) + "\n";
  return relais::Sha256Hex(all);
}

// `relais init --reset` of `device` without --yes, its standard input a terminal (script(1)) that
// answers `answer`. nullopt when script(1) cannot run here.
std::optional<RunResult> ResetOnTerminal(const Device& device, const Central& central, const std::string& token,
                                         const std::string& answer) {
  RunResult probe = Run({"/usr/bin/script", "--version"});
  if (probe.exit_code != 0) return std::nullopt;
  std::string line =
      RelaisBinary() + " --db '" + device.db() + "' init --reset --server " + central.url() + " --token " + token;
  return Run({"/usr/bin/script", "-qec", line, "/dev/null"}, {}, answer + "\n");
}

}  // namespace

TEST_CASE("relais init --reset says pending work is lost before asking, and changes nothing when refused",
          "[e2e][reset]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  const std::string token = central.Enrol("a", {kGap});
  a.Init(central, token);
  a.AddCase("Martin", "Zoé", kGap);
  a.Sync();
  a.AddCase("Girard", "Inès", kGap);
  const std::string before = FilesHash(a);
  const std::vector<std::string> reset = {RelaisBinary(), "--db",        a.db(),    "init", "--reset",
                                          "--server",     central.url(), "--token", token};

  // A script, no terminal and no --yes: told what would be lost, refused, nothing changed.
  RunResult scripted = Run(reset);
  CHECK(scripted.exit_code == 2);
  CHECK(scripted.err.find("les saisies qui n'avaient pas été synchronisées sont perdues") != std::string::npos);
  CHECK(scripted.err.find("confirmez avec --yes") != std::string::npos);
  CHECK(FilesHash(a) == before);

  // On a terminal: the warning comes before the question; an answer other than « oui » changes nothing.
  auto refused = ResetOnTerminal(a, central, token, "non");
  if (!refused) {
    WARN("script(1) is not available: the refusal on a terminal is not tested");
  } else {
    INFO(refused->out << refused->err);
    CHECK(refused->exit_code == 2);
    const size_t warning = refused->out.find("sont perdues");
    const size_t question = refused->out.find("Tapez « oui »");
    REQUIRE(warning != std::string::npos);
    REQUIRE(question != std::string::npos);
    CHECK(warning < question);
    CHECK(refused->out.find("rien n'a été modifié") != std::string::npos);
    CHECK(FilesHash(a) == before);
  }
  CHECK(a.Json({"status"})["pending_records"] == 1);
}

TEST_CASE("relais init --reset --yes starts a fresh replica from the centre and pushes nothing", "[e2e][reset]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  const std::string token = central.Enrol("a", {kGap});
  a.Init(central, token);
  const std::string synced = a.AddCase("Martin", "Zoé", kGap);
  a.Sync();
  a.AddCase("Girard", "Inès", kGap);
  const std::string node = a.Json({"status"})["node_id"];

  RunResult reset = a.Cmd({"init", "--reset", "--yes", "--server", central.url(), "--token", token});
  INFO(reset.err);
  REQUIRE(reset.exit_code == 0);
  CHECK(reset.err.find("sont perdues") != std::string::npos);
  json status = a.Json({"status"});
  CHECK(status["node_id"] != node);
  CHECK(status["cases"] == 0);
  CHECK(status["pending"] == 0);
  json synced_again = a.Sync();
  CHECK(synced_again["pushed"] == 0);
  json cases = a.Json({"case", "list"});
  REQUIRE(cases.size() == 1);
  CHECK(cases[0]["id"] == synced);
  // The centre never got the change that was pending.
  Device b(dir, "b");
  b.Init(central, central.Enrol("b", {kGap}));
  b.Sync();
  json seen = b.Json({"case", "list"});
  REQUIRE(seen.size() == 1);
  CHECK(seen[0]["id"] == synced);
}
