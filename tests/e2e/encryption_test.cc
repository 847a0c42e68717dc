// The encrypted replica (docs/PRIVACY.md) through the real binaries: what a stolen laptop's files
// show, what a wrong passphrase changes, what a page altered on disk gives, unlock and lock, the
// passphrase change, and the in-place encryption of a replica made by an earlier Relais, SIGKILLed
// at many instants.
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
constexpr size_t kPage = 4096;
constexpr size_t kEnvelope = 4096;

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// `relais` on `device` with RELAIS_PASSPHRASE set to `passphrase` ("" : none).
RunResult WithPassphrase(const Device& device, const std::string& passphrase, std::vector<std::string> args) {
  std::vector<std::string> argv = {RelaisBinary(), "--db", device.db()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, {{"RELAIS_PASSPHRASE", passphrase}});
}

// Every byte of the replica's file and of its WAL, as they are on disk (the -shm is an index that
// any reader rewrites).
std::string FilesHash(const Device& device) {
  std::string all;
  for (const char* suffix : {"", "-wal"}) all += std::string(suffix) + ":" + Bytes(device.db() + suffix) + "\n";
  return relais::Sha256Hex(all);
}

TEST_CASE("a synced replica shows no name, note, token or search word in any byte of its files", "[encryption]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  const std::string token = central.Enrol("a", {kGap});
  a.Init(central, token);
  const std::string id = a.AddCase("Quetzalcoatl", "Zéphyrine", kGap);
  a.Json({"followup", "add", id, "--kind", "entretien", "--text", "Ornithorynque xylophoniste"});
  a.Sync();
  // A connection of this test holds a read transaction, so that the last `relais` cannot remove
  // its WAL on exit: the WAL and the -shm are looked at with transactions in them.
  sqlite3* holder = nullptr;
  REQUIRE(sqlite3_open_v2(a.db().c_str(), &holder, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(holder, "BEGIN; SELECT count(*) FROM cases;", nullptr, nullptr, nullptr) == SQLITE_OK);
  a.Json({"case", "edit", id, "--notes", "Capybara mélancolique", "--phone", "0699887766"});
  CHECK(a.Json({"case", "search", "quetzal"}).size() == 1);
  a.Sync();
  const std::vector<std::string> secrets = {"quetzalcoatl", "zéphyrine", "zephyrine", "ornithorynque", "xylophoniste",
                                            "capybara",     "0699887766", Lower(token)};
  CHECK(Bytes(a.db() + "-wal").size() > kPage);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string bytes = Lower(Bytes(a.db() + suffix));
    INFO("replica" << suffix << ": " << bytes.size() << " bytes");
    CHECK_FALSE(bytes.empty());
    for (const std::string& secret : secrets) {
      INFO(secret);
      CHECK(bytes.find(secret) == std::string::npos);
    }
  }
  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  // And yet everything is there for whoever has the passphrase.
  CHECK(a.Show(id)["notes"] == "Capybara mélancolique");
}

TEST_CASE("a wrong passphrase, or none, exits 5 and changes nothing", "[encryption]") {
  TempDir dir;
  Device a(dir, "a");
  a.AddCase("Lefèvre", "Élodie", kGap);
  const std::string content = a.ContentHash();
  const std::string before = FilesHash(a);
  RunResult wrong = WithPassphrase(a, "phrase de passe fausse", {"case", "add", "--last-name", "X", "--first-name", "Y"});
  CHECK(wrong.exit_code == 5);
  CHECK(wrong.err.find("phrase de passe incorrecte") != std::string::npos);
  RunResult none = WithPassphrase(a, "", {"case", "list"});
  CHECK(none.exit_code == 5);
  CHECK(none.err.find("relais unlock") != std::string::npos);
  RunResult unlock = WithPassphrase(a, "phrase de passe fausse", {"unlock"});
  CHECK(unlock.exit_code == 5);
  CHECK(FilesHash(a) == before);
  CHECK(a.ContentHash() == content);
}

TEST_CASE("relais unlock keeps the key for the session and relais lock forgets it", "[encryption]") {
  TempDir dir;
  Device a(dir, "a");
  a.AddCase("Lefèvre", "Élodie", kGap);
  CHECK(WithPassphrase(a, "", {"case", "list"}).exit_code == 5);
  RunResult unlock = a.Cmd({"unlock", "--for", "1h"});
  INFO(unlock.err);
  REQUIRE(unlock.exit_code == 0);
  CHECK(unlock.out.find("déverrouillée") != std::string::npos);
  RunResult unlocked = WithPassphrase(a, "", {"case", "list", "--json"});
  INFO(unlocked.err);
  CHECK(unlocked.exit_code == 0);
  CHECK(json::parse(unlocked.out).size() == 1);
  REQUIRE(a.Cmd({"lock"}).exit_code == 0);
  RunResult locked = WithPassphrase(a, "", {"case", "list"});
  CHECK(locked.exit_code == 5);
  CHECK(locked.err.find("relais unlock") != std::string::npos);
  CHECK(a.Cmd({"unlock", "--for", "3 jours"}).exit_code == 2);
}

TEST_CASE("relais status says whether the replica is encrypted, locked, and until when it is unlocked",
          "[encryption]") {
  TempDir dir;
  Device a(dir, "a");
  a.AddCase("Lefèvre", "Élodie", kGap);
  json by_env = a.Json({"status"});
  CHECK(by_env["encrypted"] == true);
  CHECK(by_env["locked"] == true);
  CHECK(by_env["key_from"] == "RELAIS_PASSPHRASE");
  CHECK(by_env["unlocked_until"].is_null());
  const std::string content = a.ContentHash();
  // Locked, and no passphrase: what it is, then exit 5 naming relais unlock.
  RunResult locked = WithPassphrase(a, "", {"status", "--json"});
  CHECK(locked.exit_code == 5);
  CHECK(locked.err.find("relais unlock") != std::string::npos);
  json locked_json = json::parse(locked.out);
  CHECK(locked_json["encrypted"] == true);
  CHECK(locked_json["locked"] == true);
  CHECK(locked_json["key_from"].is_null());
  CHECK(locked_json.find("cases") == locked_json.end());
  RunResult locked_text = WithPassphrase(a, "", {"status"});
  CHECK(locked_text.exit_code == 5);
  CHECK(locked_text.out.find("chiffrée, verrouillée : lancez relais unlock") != std::string::npos);
  CHECK(a.ContentHash() == content);

  const auto before = std::chrono::system_clock::now();
  RunResult unlock = a.Cmd({"unlock", "--for", "1h"});
  const auto after = std::chrono::system_clock::now();
  if (unlock.exit_code != 0) {
    WARN("no session keyring here: status of an unlocked replica not tested: " << unlock.err);
    return;
  }
  auto unix_s = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  };
  RunResult unlocked = WithPassphrase(a, "", {"status", "--json"});
  INFO(unlocked.err);
  REQUIRE(unlocked.exit_code == 0);
  json unlocked_json = json::parse(unlocked.out);
  CHECK(unlocked_json["locked"] == false);
  CHECK(unlocked_json["key_from"] == "keyring");
  CHECK(unlocked_json["unlocked_until_unix"].get<int64_t>() >= unix_s(before) + 3600);
  CHECK(unlocked_json["unlocked_until_unix"].get<int64_t>() <= unix_s(after) + 3600);
  CHECK(unlocked_json["unlocked_until"].get<std::string>().size() == 20);  // 2026-12-07T14:03:00Z
  CHECK(WithPassphrase(a, "", {"status"}).out.find("chiffrée, déverrouillée jusqu'au ") != std::string::npos);
  REQUIRE(a.Cmd({"lock"}).exit_code == 0);
  CHECK(WithPassphrase(a, "", {"status"}).exit_code == 5);
}

TEST_CASE("a key kept for a short while expires, and the next command says to run relais unlock", "[encryption]") {
  TempDir dir;
  Device a(dir, "a");
  a.AddCase("Lefèvre", "Élodie", kGap);
  constexpr int kSeconds = 5;
  RunResult unlock = a.Cmd({"unlock", "--for", std::to_string(kSeconds) + "s"});
  if (unlock.exit_code != 0) {
    WARN("no session keyring here: the expiry of an unlock is not tested: " << unlock.err);
    return;
  }
  // Seen unlocked unless the machine took longer than the unlock itself to get here.
  RunResult first = WithPassphrase(a, "", {"status", "--json"});
  if (first.exit_code == 0) {
    json status = json::parse(first.out);
    CHECK(status["key_from"] == "keyring");
    CHECK(
        status["unlocked_until_unix"].get<int64_t>() <=
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
            kSeconds);
  } else {
    WARN("the unlocked state was not seen: the key had expired before the first status");
  }
  // The kernel forgets the key by itself: wait for the keyring to say so (bounded), then a command.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool expired = false;
  while (!expired && std::chrono::steady_clock::now() < deadline) {
    RunResult status = WithPassphrase(a, "", {"status", "--json"});
    expired = status.exit_code == 5 && json::parse(status.out)["locked"] == true;
    if (!expired) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  REQUIRE(expired);
  RunResult after = WithPassphrase(a, "", {"case", "list"});
  CHECK(after.exit_code == 5);
  CHECK(after.err.find("relais unlock") != std::string::npos);
}

TEST_CASE("relais passphrase change re-wraps the key and leaves the pages as they are", "[encryption]") {
  TempDir dir;
  Device a(dir, "a");
  a.AddCase("Lefèvre", "Élodie", kGap);
  const std::string pages = Bytes(a.db()).substr(kEnvelope);
  std::vector<std::string> argv = {RelaisBinary(), "--db", a.db(), "passphrase", "change"};
  RunResult change = Run(argv, {{"RELAIS_NEW_PASSPHRASE", "une toute nouvelle phrase"}});
  INFO(change.err);
  REQUIRE(change.exit_code == 0);
  CHECK(Bytes(a.db()).substr(kEnvelope) == pages);
  CHECK(WithPassphrase(a, kTestPassphrase, {"case", "list"}).exit_code == 5);
  RunResult opened = WithPassphrase(a, "une toute nouvelle phrase", {"case", "list", "--json"});
  INFO(opened.err);
  CHECK(opened.exit_code == 0);
  CHECK(json::parse(opened.out).size() == 1);
}

TEST_CASE("a page altered on disk is reported as damage, never read as data", "[encryption]") {
  TempDir dir;
  Device a(dir, "a");
  for (int i = 0; i < 3; ++i) a.AddCase("Quetzalcoatl", "Zéphyrine", kGap);
  const std::string original = Bytes(a.db());
  REQUIRE(original.size() >= kEnvelope + 3 * kPage);
  SECTION("one bit of every page but the first") {
    std::string bytes = original;
    for (size_t at = kEnvelope + kPage + 100; at < bytes.size(); at += kPage) bytes[at] ^= 0x01;
    WriteBytes(a.db(), bytes);
  }
  SECTION("one bit of the first page") {
    std::string bytes = original;
    bytes[kEnvelope + 50] ^= 0x01;
    WriteBytes(a.db(), bytes);
  }
  RunResult list = a.Cmd({"case", "list", "--json"});
  CHECK(list.exit_code == 1);
  CHECK(list.err.find("endommagée") != std::string::npos);
  CHECK(list.out.find("Quetzalcoatl") == std::string::npos);
}

// A replica as Relais made them before encryption: apply_edits creates it plain.
std::string PlainReplica(const TempDir& dir, int cases) {
  const std::string jsonl = dir / "cases.jsonl";
  {
    std::ofstream out(jsonl);
    for (int i = 0; i < cases; ++i) {
      char id[40];
      std::snprintf(id, sizeof id, "0190a1b2-0000-7000-8000-%012d", i + 1);
      out << json{{"op", "create"},        {"id", id},
                  {"last_name", "Ancien"}, {"first_name", "Dossier " + std::to_string(i)},
                  {"territory", kGap},     {"opened_on", "2026-11-02"}}
                 .dump()
          << "\n";
    }
  }
  std::string plain = dir / "plain.db";
  RunResult made = Run({std::string(RELAIS_BINARY_DIR) + "/tests/apply_edits", plain, "cases", jsonl});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  REQUIRE(Bytes(plain).rfind("SQLite format 3", 0) == 0);
  return plain;
}

TEST_CASE("a replica made by an earlier Relais is encrypted in place on first use", "[encryption]") {
  TempDir dir;
  const std::string plain = PlainReplica(dir, 40);
  Device a(dir, "plain");  // plain.db
  RunResult list = a.Cmd({"case", "list", "--limit", "0", "--json"});
  INFO(list.err);
  REQUIRE(list.exit_code == 0);
  CHECK(json::parse(list.out).size() == 40);
  CHECK(Bytes(plain).rfind("RelaisEncrypted", 0) == 0);
  CHECK(Lower(Bytes(plain)).find("ancien") == std::string::npos);
  CHECK(Integrity(plain) == "ok");
  CHECK(a.Json({"encrypt"})["was_plain"] == false);
}

TEST_CASE("SIGKILL at any instant of relais encrypt leaves the old file or the new one, with every record",
          "[encryption][crash]") {
  TempDir dir;
  const int kCases = 300;
  const std::string plain = PlainReplica(dir, kCases);
  const std::string template_copy = dir / "template.db";
  std::filesystem::copy_file(plain, template_copy);
  const std::string replica = dir / "replica.db";
  // How long a whole encryption takes here, to spread the kills over it.
  std::filesystem::copy_file(template_copy, replica);
  auto started = std::chrono::steady_clock::now();
  REQUIRE(Run({RelaisBinary(), "--db", replica, "encrypt"}).exit_code == 0);
  const auto whole = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  int kept_plain = 0, encrypted = 0;
  const int kInstants = 40;
  for (int i = 0; i <= kInstants; ++i) {
    for (const char* suffix : {"", "-wal", "-shm", ".chiffrement", ".chiffrement-wal", ".chiffrement-shm"}) {
      std::filesystem::remove(replica + suffix);
    }
    std::filesystem::copy_file(template_copy, replica);
    // From the start to a quarter past the whole run's length: before, during and after the rename.
    const auto limit = std::chrono::milliseconds(1 + whole.count() * 5 * i / (4 * static_cast<int64_t>(kInstants)));
    RunResult killed = RunWithin({RelaisBinary(), "--db", replica, "encrypt"}, limit);
    INFO("killed after " << limit.count() << " ms of " << whole.count() << ": " << killed.err);
    REQUIRE(std::filesystem::exists(replica));
    const bool is_encrypted = Bytes(replica).rfind("RelaisEncrypted", 0) == 0;
    (is_encrypted ? encrypted : kept_plain) += 1;
    CHECK(Integrity(replica) == "ok");
    CHECK(Count(replica, "SELECT count(*) FROM cases") == kCases);
    // And the next command finds it whole, encrypting it if it was not.
    RunResult after = Run({RelaisBinary(), "--db", replica, "case", "list", "--limit", "0", "--json"});
    INFO(after.err);
    REQUIRE(after.exit_code == 0);
    CHECK(json::parse(after.out).size() == static_cast<size_t>(kCases));
  }
  WARN("relais encrypt killed at " << kInstants + 1 << " instants over " << whole.count() << " ms: " << kept_plain
                                   << " left the plain file, " << encrypted << " the encrypted one");
  CHECK(kept_plain + encrypted == kInstants + 1);
}

}  // namespace
