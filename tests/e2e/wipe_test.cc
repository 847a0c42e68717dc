// Wipe on revocation (issue 28): `relais-central device revoke NAME --wipe` makes the device erase
// its replica at its next contact with its centre — every file, pending changes included — and say
// so; without --wipe the device keeps everything; staff are warned of the changes the device last
// reported pending; a server that is not the device's centre cannot make it erase anything.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/loopback_http.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

bool Says(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

RunResult CentralCmd(const Central& central, std::vector<std::string> args, const std::string& stdin_text = "") {
  args.insert(args.begin(), CentralBinary());
  for (const std::string& s : central.StoreArgs()) args.push_back(s);
  return Run(args, {}, stdin_text);
}

// The row of `device list --json` for `name`.
json Listed(const Central& central, const std::string& name) {
  RunResult r = CentralCmd(central, {"device", "list", "--json"});
  REQUIRE(r.exit_code == 0);
  for (const json& d : json::parse(r.out)) {
    if (d["name"] == name) return d;
  }
  FAIL("no device " << name);
  return {};
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool Exists(const std::string& path) { return std::filesystem::exists(std::filesystem::symlink_status(path)); }

// A read connection on a replica, held open: while it is, `relais` closing the replica leaves its
// write-ahead log and shared-memory index on the disk (SQLite removes them with the last connection),
// as another Relais process on the same replica would.
class HeldOpen {
 public:
  explicit HeldOpen(const std::string& db) {
    REQUIRE(sqlite3_open_v2(db.c_str(), &h_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_exec(h_, "SELECT count(*) FROM cases", nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  ~HeldOpen() { sqlite3_close(h_); }
  HeldOpen(const HeldOpen&) = delete;
  HeldOpen& operator=(const HeldOpen&) = delete;

 private:
  sqlite3* h_ = nullptr;
};

// A centre, and its device "a" that synced one case (so its replica knows the centre's store id)
// then wrote another, pending.
struct SyncedThenPending {
  SyncedThenPending() : central(dir.path()), a(dir, "a") {
    central.Start();
    a.Init(central, central.Enrol("a", {kGap}));
    a.AddCase("Martin", "Zoé", kGap);
    a.Sync();
    a.AddCase("Girard", "Inès", kGap);
  }
  TempDir dir;
  Central central;
  Device a;
};

}  // namespace

TEST_CASE("a device revoked with --wipe erases every file of its replica at its next sync, and says so",
          "[e2e][wipe]") {
  SyncedThenPending f;
  Central& central = f.central;
  Device& a = f.a;
  const std::vector<std::string> files = {a.db(), a.db() + "-wal", a.db() + "-shm"};
  HeldOpen held(a.db());
  REQUIRE(a.Json({"status"})["pending"] == 1);
  for (const std::string& file : files) REQUIRE(Exists(file));
  // A second name for the database and its log, outside the wipe's reach: through it the test reads
  // what the wipe wrote over the files before it removed them.
  std::vector<std::string> seen;
  for (const std::string& file : {a.db(), a.db() + "-wal"}) {
    seen.push_back(f.dir / (std::filesystem::path(file).filename().string() + ".seen"));
    std::filesystem::create_hard_link(file, seen.back());
  }

  RunResult revoked = CentralCmd(central, {"device", "revoke", "a", "--wipe", "--yes"});
  INFO(revoked.err);
  REQUIRE(revoked.exit_code == 0);
  CHECK(Listed(central, "a")["state"] == "wipe_pending");

  RunResult wiped = a.Cmd({"sync"});
  INFO(wiped.err);
  CHECK(wiped.exit_code == 6);
  CHECK(Says(wiped.err, "révoqué par le centre, avec ordre d'effacement"));
  CHECK(Says(wiped.err, "a été effacée"));
  CHECK(Says(wiped.err, "1 modification(s) que le centre n'avait pas acceptées"));
  CHECK(Says(wiped.err, "contactez l'équipe centrale"));
  CHECK(Says(wiped.err, "relais init --server ADRESSE --token NOUVEAU"));
  for (const std::string& file : files) CHECK_FALSE(Exists(file));
  CHECK_FALSE(Exists(a.db() + "-journal"));
  // Overwritten with zeros, whole (the log may have been checkpointed down to nothing by then).
  CHECK(ReadAll(seen[0]).size() >= 4096);
  for (const std::string& file : seen) {
    INFO(file);
    CHECK(ReadAll(file).find_first_not_of('\0') == std::string::npos);
  }

  const json listed = Listed(central, "a");
  CHECK(listed["state"] == "wipe_delivered");
  CHECK(listed["wipe_delivered_at"].is_string());
  CHECK(listed["revoked_at"].is_string());
}

TEST_CASE("a device revoked without --wipe keeps its replica unchanged and is told what to do",
          "[e2e][wipe]") {
  SyncedThenPending f;
  Central& central = f.central;
  Device& a = f.a;
  RunResult revoked = CentralCmd(central, {"device", "revoke", "a"});
  INFO(revoked.err);
  REQUIRE(revoked.exit_code == 0);
  CHECK(Says(revoked.out, "Il garde sa base locale"));
  CHECK(Listed(central, "a")["state"] == "revoked");
  const std::string hash = a.ContentHash();

  RunResult refused = a.Cmd({"sync"});
  INFO(refused.err);
  CHECK(refused.exit_code == 1);
  CHECK(Says(refused.err, "vos saisies en attente restent dans cette base"));
  CHECK(Says(refused.err, "relais init --server ADRESSE --token NOUVEAU"));
  CHECK(Exists(a.db()));
  CHECK(a.ContentHash() == hash);
  CHECK(Listed(central, "a")["wipe_delivered_at"].is_null());
}

TEST_CASE("before a wipe, staff are told how many changes the device last reported pending, and must confirm",
          "[e2e][wipe]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  central.Enrol("b", {kBastia});  // Bastia declared: device a may write there, the centre refuses it
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  CHECK(Listed(central, "a")["pending_changes"].is_null());
  // Five unaccepted before the sync; after it, the three refused ones stay on the device.
  a.AddCase("Martin", "Zoé", kGap);
  a.AddCase("Girard", "Inès", kGap);
  for (const char* name : {"Santoni", "Casanova", "Rossi"}) a.AddCase(name, "Léa", kBastia);
  REQUIRE(a.Sync()["rejected"] == 3);
  const json listed = Listed(central, "a");
  CHECK(listed["pending_changes"] == 3);
  CHECK(listed["pending_reported_at"].is_string());

  RunResult declined = CentralCmd(central, {"device", "revoke", "a", "--wipe"}, "non\n");
  INFO(declined.err);
  CHECK(declined.exit_code == 1);
  CHECK(Says(declined.err, "Il a signalé 3 modification(s) non acceptée(s) par le centre"));
  CHECK(Says(declined.err, "Rien n'a été fait"));
  CHECK(Listed(central, "a")["state"] == "active");
  a.Sync();  // the token still works

  RunResult confirmed = CentralCmd(central, {"device", "revoke", "a", "--wipe", "--json"}, "oui\n");
  INFO(confirmed.err);
  CHECK(confirmed.exit_code == 0);
  CHECK(Says(confirmed.err, "Il a signalé 3 modification(s)"));
  const json out = json::parse(confirmed.out);
  CHECK(out["wipe"] == true);
  CHECK(out["pending_changes"] == 3);
  CHECK(Listed(central, "a")["state"] == "wipe_pending");
}

TEST_CASE("a server that is not the device's centre cannot make it erase its replica", "[e2e][wipe]") {
  SyncedThenPending f;
  Device& a = f.a;
  // A hostile server at the replica's address, answering every request with a wipe order in due
  // form, in the name of a store it is not.
  LoopbackHttp hostile([](const httplib::Request&, httplib::Response& res) {
    res.status = 401;
    res.set_content(
        R"({"error":{"code":"revoked_wipe","message":"wipe","centre":{"store_id":"0123456789abcdef0123456789abcdef"}}})",
        "application/json");
  });
  Exec(a.db(), "UPDATE sync_state SET value = '" + hostile.url() + "' WHERE key = 'server_url'");
  const std::string hash = a.ContentHash();

  RunResult refused = a.Cmd({"sync"});
  INFO(refused.err);
  CHECK(refused.exit_code == 1);
  CHECK(Says(refused.err, "n'est pas le centre de cette base"));
  CHECK(Says(refused.err, "Rien n'a été effacé"));
  CHECK(Exists(a.db()));
  CHECK(a.ContentHash() == hash);
}
