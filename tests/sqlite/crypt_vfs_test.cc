// The encrypting VFS (sqlite/crypt_vfs.h): the page cipher, the key envelope, and real SQLite files
// written through the VFS, read back, and read raw.
#include "sqlite/crypt_vfs.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "base/ids.h"
#include "sqlite/db.h"

namespace relais::sqlite::crypt {
namespace {

namespace fs = std::filesystem;

DataKey KeyOf(unsigned char fill) {
  DataKey key{};
  key.fill(fill);
  return key;
}

std::string Bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class TempFolder {
 public:
  TempFolder() : path_(fs::temp_directory_path() / ("relais-crypt-" + RandomHex(8))) { fs::create_directories(path_); }
  ~TempFolder() { fs::remove_all(path_); }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

constexpr char kPassphrase[] = "cheval agrafe batterie";
constexpr char kSecret[] = "Zanzibar-Quetzalcoatl";

Result<Db> OpenExisting(const std::string& path);

// A new encrypted database at `path`, its key registered, opened as the replica is.
Result<Db> CreateEncrypted(const std::string& path) {
  auto made = MakeNewKey(kPassphrase, WeakKdfLimits());
  if (!made) return made.error();
  RELAIS_TRY(WriteNewFile(path, made->envelope));
  RegisterKey(made->envelope.replica_id, made->key);
  return OpenExisting(path);
}

Result<Db> OpenExisting(const std::string& path) {
  RELAIS_TRY(RegisterVfs());
  Db::Options options;
  options.vfs = kVfsName;
  options.reserve_bytes = kReserveBytes;
  options.temp_in_memory = true;
  return Db::Open(path, options);
}

void FillSecrets(Db& db, int rows) {
  REQUIRE(db.Exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT)").ok());
  REQUIRE(db.Exec("BEGIN").ok());
  auto insert = db.Prepare("INSERT INTO notes(body) VALUES (?1)");
  REQUIRE(insert.ok());
  for (int i = 0; i < rows; ++i) {
    StmtGuard guard(*insert);
    insert->Bind(1, std::string(kSecret) + " " + std::to_string(i));
    REQUIRE(insert->Run().ok());
  }
  REQUIRE(db.Exec("COMMIT").ok());
}

int64_t CountNotes(Db& db) {
  auto count = db.Prepare("SELECT count(*) FROM notes");
  REQUIRE(count.ok());
  auto row = count->Step();
  REQUIRE(row.ok());
  return count->Int(0);
}

TEST_CASE("a sealed page opens with its key, page number and kind only", "[crypt]") {
  std::string plain(kPageSize, 'x');
  std::string page = plain;
  auto* p = reinterpret_cast<unsigned char*>(page.data());
  SealPage(KeyOf(1), 7, 'D', p, page.size());
  CHECK(page.substr(0, kPageSize - kReserveBytes).find("xxxx") == std::string::npos);
  SECTION("right key, number and kind") {
    REQUIRE(OpenPage(KeyOf(1), 7, 'D', p, page.size()));
    CHECK(page.substr(0, kPageSize - kReserveBytes) == plain.substr(0, kPageSize - kReserveBytes));
    CHECK(page.substr(kPageSize - kReserveBytes) == std::string(kReserveBytes, '\0'));
  }
  SECTION("another page number") { CHECK_FALSE(OpenPage(KeyOf(1), 8, 'D', p, page.size())); }
  SECTION("the same number in the WAL") { CHECK_FALSE(OpenPage(KeyOf(1), 7, 'W', p, page.size())); }
  SECTION("another key") { CHECK_FALSE(OpenPage(KeyOf(2), 7, 'D', p, page.size())); }
  SECTION("one bit flipped anywhere") {
    const size_t at = GENERATE(0u, 100u, 4055u, 4056u, 4080u, 4095u);
    p[at] ^= 0x01;
    CHECK_FALSE(OpenPage(KeyOf(1), 7, 'D', p, page.size()));
  }
  SECTION("too small to hold a nonce and a tag") { CHECK_FALSE(OpenPage(KeyOf(1), 7, 'D', p, kReserveBytes)); }
}

TEST_CASE("the data key unwraps with its passphrase only, from either slot", "[crypt]") {
  auto made = MakeNewKey(kPassphrase, WeakKdfLimits());
  REQUIRE(made.ok());
  auto decoded = DecodeEnvelope(EncodeEnvelope(made->envelope));
  REQUIRE(decoded.has_value());
  auto right = UnwrapKey(*decoded, kPassphrase);
  REQUIRE(right.ok());
  REQUIRE(right->has_value());
  CHECK(**right == made->key);
  auto wrong = UnwrapKey(*decoded, "cheval agrafe batteriE");
  REQUIRE(wrong.ok());
  CHECK_FALSE(wrong->has_value());

  // A passphrase change stopped after its first write: slot 1 new, slot 0 old. Both open.
  auto slot = WrapKey(made->key, *decoded, "nouvelle phrase", WeakKdfLimits());
  REQUIRE(slot.ok());
  decoded->slots[1] = *slot;
  auto old_one = UnwrapKey(*decoded, kPassphrase);
  auto new_one = UnwrapKey(*decoded, "nouvelle phrase");
  REQUIRE((old_one.ok() && new_one.ok()));
  CHECK(old_one->value() == made->key);
  CHECK(new_one->value() == made->key);

  // A slot moved to another replica's envelope does not open there.
  Envelope other = *decoded;
  other.replica_id[0] ^= 1;
  auto moved = UnwrapKey(other, kPassphrase);
  REQUIRE(moved.ok());
  CHECK_FALSE(moved->has_value());
}

TEST_CASE("no byte of an encrypted database or of its WAL shows what it holds", "[crypt]") {
  TempFolder dir;
  const std::string path = (dir / "replica.db").string();
  auto db = CreateEncrypted(path);
  REQUIRE(db.ok());
  REQUIRE(db->Exec("PRAGMA wal_autocheckpoint = 0").ok());
  FillSecrets(*db, 2000);
  REQUIRE(db->Exec("CREATE INDEX notes_body ON notes(body)").ok());
  // Open: the WAL holds every page; only the database, its WAL and its -shm exist, no journal.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"replica.db", "replica.db-shm", "replica.db-wal"});
  for (const std::string& name : names) {
    INFO(name);
    CHECK(Bytes(dir / name).find("Zanzibar") == std::string::npos);
    CHECK(Bytes(dir / name).find("notes") == std::string::npos);
  }
  CHECK(Bytes(dir / "replica.db-wal").size() > 100000);
  REQUIRE(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  CHECK(Bytes(dir / "replica.db").find("Zanzibar") == std::string::npos);
  CHECK(CountNotes(*db) == 2000);
  auto check = db->Prepare("PRAGMA integrity_check");
  REQUIRE(check.ok());
  REQUIRE(check->Step().ok());
  CHECK(check->Text(0) == "ok");
}

TEST_CASE("an encrypted database reopens, and its WAL is recovered after a crash", "[crypt]") {
  TempFolder dir;
  const std::string path = (dir / "replica.db").string();
  {
    auto db = CreateEncrypted(path);
    REQUIRE(db.ok());
    FillSecrets(*db, 300);
  }
  {
    auto db = OpenExisting(path);
    REQUIRE(db.ok());
    CHECK(CountNotes(*db) == 300);
    // A crash with transactions in the WAL only: a copy of the three files taken while open.
    REQUIRE(db->Exec("PRAGMA wal_autocheckpoint = 0").ok());
    FillSecrets(*db, 50);
    FillSecrets(*db, 7);
    for (const char* suffix : {"", "-wal"}) fs::copy_file(path + suffix, (dir / "copy.db").string() + suffix);
  }
  const std::string copy = (dir / "copy.db").string();
  SECTION("every committed transaction is recovered from the WAL") {
    auto db = OpenExisting(copy);
    REQUIRE(db.ok());
    CHECK(CountNotes(*db) == 357);
  }
  SECTION("a torn last frame ends the log before its transaction, as in plain SQLite") {
    std::string wal = Bytes(copy + "-wal");
    wal[wal.size() - 100] ^= 0x40;
    WriteBytes(copy + "-wal", wal);
    auto db = OpenExisting(copy);
    REQUIRE(db.ok());
    CHECK(CountNotes(*db) == 350);
  }
}

TEST_CASE("a page altered on disk is reported as damage, never read", "[crypt]") {
  TempFolder dir;
  const std::string path = (dir / "replica.db").string();
  {
    auto db = CreateEncrypted(path);
    REQUIRE(db.ok());
    FillSecrets(*db, 300);
  }
  std::string bytes = Bytes(path);
  REQUIRE(bytes.size() > static_cast<size_t>(kEnvelopeSize + 3 * kPageSize));
  // The last page holds notes; one bit of it flipped.
  bytes[bytes.size() - kPageSize + 10] ^= 0x01;
  WriteBytes(path, bytes);
  auto db = OpenExisting(path);
  REQUIRE(db.ok());
  auto rows = db->Prepare("SELECT body FROM notes");
  REQUIRE(rows.ok());
  Result<bool> step = true;
  while (step.ok() && *step) step = rows->Step();
  REQUIRE_FALSE(step.ok());
  CHECK(step.error().message.find("endommagée") != std::string::npos);
}

TEST_CASE("an encrypted file does not open without its key", "[crypt]") {
  TempFolder dir;
  const std::string path = (dir / "replica.db").string();
  {
    auto db = CreateEncrypted(path);
    REQUIRE(db.ok());
    FillSecrets(*db, 3);
  }
  auto envelope = ReadEnvelope(path);
  REQUIRE(envelope.ok());
  REQUIRE(envelope->has_value());
  ForgetKey((*envelope)->replica_id);
  CHECK_FALSE(OpenExisting(path).ok());
}

TEST_CASE("a plain database passes through the VFS unchanged", "[crypt]") {
  TempFolder dir;
  const std::string path = (dir / "plain.db").string();
  {
    auto db = Db::Open(path);
    REQUIRE(db.ok());
    FillSecrets(*db, 3);
  }
  auto envelope = ReadEnvelope(path);
  REQUIRE(envelope.ok());
  CHECK_FALSE(envelope->has_value());
  REQUIRE(RegisterVfs().ok());
  Db::Options options;
  options.vfs = kVfsName;
  auto db = Db::Open(path, options);
  REQUIRE(db.ok());
  CHECK(CountNotes(*db) == 3);
}

}  // namespace
}  // namespace relais::sqlite::crypt
