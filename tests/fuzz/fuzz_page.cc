// libFuzzer target: the encrypted replica's page decryption (sqlite/crypt_vfs.h) on arbitrary bytes.
// The bytes are opened as one sealed page of their own size (random and truncated pages must be
// refused without a crash, and never accepted), sealed and opened again (a round trip gives the page
// back), decoded as an envelope, and written as the pages, then as the WAL, of an encrypted database
// that SQLite reads through the VFS: every read of a page that does not authenticate must be an
// error, never a crash or an out-of-bounds access.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "sqlite/crypt_vfs.h"
#include "sqlite/db.h"
#include "tests/fuzz/fuzz_check.h"

using namespace relais;
using relais::fuzz::Require;
namespace cipher = relais::sqlite::crypt;

namespace {

struct Fixture {
  Fixture() : dir(fuzz::MakeTempDir("fuzz-page")) {
    Require(cipher::RegisterVfs().ok(), "register the VFS");
    key.fill(7);
    envelope.replica_id.fill(3);
    cipher::RegisterKey(envelope.replica_id, key);
  }
  std::filesystem::path dir;
  cipher::DataKey key{};
  cipher::Envelope envelope;
};

void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Opens `path` through the VFS and reads all it can; errors are expected, crashes are not.
void ReadAll(const std::string& path) {
  sqlite::Db::Options options;
  options.create = false;
  options.vfs = cipher::kVfsName;
  options.temp_in_memory = true;
  auto db = sqlite::Db::Open(path, options);
  if (!db) return;
  for (const char* sql : {"PRAGMA integrity_check", "SELECT * FROM sqlite_master"}) {
    auto stmt = db->Prepare(sql);
    if (!stmt) continue;
    for (int rows = 0; rows < 10000; ++rows) {
      auto step = stmt->Step();
      if (!step || !*step) break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const uint32_t page_number = size >= 4 ? (uint32_t{data[0]} | uint32_t{data[1]} << 8) : 1;

  std::vector<unsigned char> page(data, data + size);
  for (char kind : {'D', 'W'}) {
    std::vector<unsigned char> copy = page;
    Require(!cipher::OpenPage(fixture.key, page_number, kind, copy.data(), copy.size()),
            "random bytes never authenticate as a page");
  }
  if (size > static_cast<size_t>(cipher::kReserveBytes)) {
    std::vector<unsigned char> sealed = page;
    cipher::SealPage(fixture.key, page_number, 'D', sealed.data(), sealed.size());
    Require(cipher::OpenPage(fixture.key, page_number, 'D', sealed.data(), sealed.size()), "a sealed page opens");
    const size_t text = size - cipher::kReserveBytes;
    Require(std::memcmp(sealed.data(), data, text) == 0, "a sealed page opens to what was sealed");
  }

  (void)cipher::DecodeEnvelope(std::string_view(reinterpret_cast<const char*>(data), size));

  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string head = cipher::EncodeEnvelope(fixture.envelope);
  const std::string path = (fixture.dir / "replica.db").string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  WriteFile(path, head + bytes);
  ReadAll(path);
  // The same bytes as the WAL of an encrypted database whose first page is sound.
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  {
    sqlite::Db::Options options;
    options.vfs = cipher::kVfsName;
    options.reserve_bytes = cipher::kReserveBytes;
    options.temp_in_memory = true;
    Require(cipher::WriteNewFile(path, fixture.envelope).ok(), "write the envelope");
    auto db = sqlite::Db::Open(path, options);
    Require(db.ok(), "open a new encrypted database", db.ok() ? "" : db.error().message);
    Require(db->Exec("CREATE TABLE t(x)").ok(), "create a table");
  }
  WriteFile(path + "-wal", bytes);
  ReadAll(path);
  return 0;
}
