// Wipe on revocation, on the device's side (client/wipe.h): which orders are obeyed, and what
// erasing a replica's files does and does not touch.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "client/keyring.h"
#include "client/wipe.h"
#include "sqlite/crypt_vfs.h"

using namespace relais;
using namespace relais::client;

namespace {

const std::string kStore = "5c0f0a1b2c3d4e5f60718293a4b5c6d7";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// A fresh folder, removed with its content at scope exit.
struct Folder {
  Folder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "relais-wipe-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~Folder() { std::filesystem::remove_all(path); }
  Folder(const Folder&) = delete;
  Folder& operator=(const Folder&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::filesystem::path path;
};

}  // namespace

TEST_CASE("a wipe order is obeyed only when it is the replica's own centre's, not sent in clear", "[wipe]") {
  auto [known, ordered, clear_text, verdict] = GENERATE(table<std::string, std::string, bool, WipeVerdict>({
      {kStore, kStore, false, WipeVerdict::kObey},
      {kStore, "0123456789abcdef0123456789abcdef", false, WipeVerdict::kOtherCentre},
      {kStore, "", false, WipeVerdict::kOtherCentre},
      {"", kStore, false, WipeVerdict::kCentreUnknown},
      {"", "", false, WipeVerdict::kCentreUnknown},
      {kStore, kStore, true, WipeVerdict::kClearText},
  }));
  INFO(known << " / " << ordered << " / clear text " << clear_text);
  CHECK(JudgeWipeOrder(known, ordered, clear_text) == verdict);
}

TEST_CASE("an order not obeyed says nothing was erased, why, and to contact central staff", "[wipe]") {
  const std::string other =
      WipeRefusedText(WipeVerdict::kOtherCentre, "https://relais.exemple.fr", kStore, "autre");
  CHECK(other.find("n'est pas le centre de cette base (identifiant autre, attendu " + kStore + ")") !=
        std::string::npos);
  for (WipeVerdict v : {WipeVerdict::kOtherCentre, WipeVerdict::kCentreUnknown, WipeVerdict::kClearText}) {
    const std::string text = WipeRefusedText(v, "https://relais.exemple.fr", kStore, "autre");
    CHECK(text.find("Rien n'a été effacé : vos saisies en attente restent dans cette base") != std::string::npos);
    CHECK(text.find("Contactez l'équipe centrale") != std::string::npos);
  }
  CHECK(WipeRefusedText(WipeVerdict::kClearText, "http://10.0.0.1", kStore, kStore).find("en clair") !=
        std::string::npos);
}

TEST_CASE("wiping erases the replica and its companions, and nothing else of the folder", "[wipe]") {
  Folder folder;
  const std::string db = folder / "replica.db";
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) Write(db + suffix, std::string(10000, 'x'));
  Write(folder / "export.csv", "Martin;Zoé");
  Write(folder / "replica.db.bak", "a copy a person made");
  // Another name for the database: through it, what the wipe wrote before it removed the file.
  std::filesystem::create_hard_link(db, folder / "seen");

  auto erased = WipeReplicaFiles(db);
  REQUIRE(erased.ok());
  CHECK(erased->size() == 4);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) CHECK_FALSE(std::filesystem::exists(db + suffix));
  CHECK(ReadAll(folder / "seen") == std::string(10000, '\0'));
  CHECK(ReadAll(folder / "export.csv") == "Martin;Zoé");
  CHECK(ReadAll(folder / "replica.db.bak") == "a copy a person made");
}

TEST_CASE("wiping a replica whose companions are missing erases what is there", "[wipe]") {
  Folder folder;
  const std::string db = folder / "replica.db";
  Write(db, "data");
  auto erased = WipeReplicaFiles(db);
  REQUIRE(erased.ok());
  CHECK(*erased == std::vector<std::string>{std::filesystem::weakly_canonical(db).string()});
  CHECK_FALSE(std::filesystem::exists(db));
}

TEST_CASE("a companion that is a symbolic link is not followed: what it points to is left as it was", "[wipe]") {
  Folder folder;
  const std::string db = folder / "replica.db";
  Write(db, "data");
  Write(folder / "elsewhere", "someone else's file");
  std::filesystem::create_symlink(folder / "elsewhere", db + "-wal");
  auto erased = WipeReplicaFiles(db);
  REQUIRE_FALSE(erased.ok());
  CHECK(erased.error().code == ErrorCode::kIo);
  CHECK(erased.error().message.find("replica.db-wal") != std::string::npos);
  CHECK(ReadAll(folder / "elsewhere") == "someone else's file");
}

TEST_CASE("a replica reached through a symbolic link is erased where SQLite keeps it", "[wipe]") {
  Folder folder;
  std::filesystem::create_directory(folder.path / "real");
  const std::string real = folder / "real/replica.db";
  Write(real, "data");
  Write(real + "-wal", "log");
  const std::string link = folder / "replica.db";
  std::filesystem::create_symlink(real, link);
  auto erased = WipeReplicaFiles(link);
  REQUIRE(erased.ok());
  CHECK_FALSE(std::filesystem::exists(real));
  CHECK_FALSE(std::filesystem::exists(real + "-wal"));
}

TEST_CASE("wiping an encrypted replica forgets its key in the session keyring, and only its key", "[wipe]") {
  Folder folder;
  const std::string db = folder / "replica.db", other = folder / "other.db";
  auto made = sqlite::crypt::MakeNewKey("phrase de passe du test", sqlite::crypt::WeakKdfLimits());
  auto kept = sqlite::crypt::MakeNewKey("phrase de passe du test", sqlite::crypt::WeakKdfLimits());
  REQUIRE(made.ok());
  REQUIRE(kept.ok());
  REQUIRE(sqlite::crypt::WriteNewFile(db, made->envelope).ok());
  REQUIRE(sqlite::crypt::WriteNewFile(other, kept->envelope).ok());
  Status unlocked = KeepInKeyring(made->envelope.replica_id, made->key, 600);
  if (!unlocked.ok()) {
    WARN("no session keyring here, the wipe's forgetting is not tested: " << unlocked.error().message);
    return;
  }
  REQUIRE(KeepInKeyring(kept->envelope.replica_id, kept->key, 600).ok());
  REQUIRE(FindInKeyring(made->envelope.replica_id).has_value());

  REQUIRE(WipeReplicaFiles(db).ok());
  CHECK_FALSE(std::filesystem::exists(db));
  CHECK_FALSE(FindInKeyring(made->envelope.replica_id).has_value());
  CHECK(FindInKeyring(kept->envelope.replica_id) == kept->key);
  ForgetInKeyring(kept->envelope.replica_id);
}
