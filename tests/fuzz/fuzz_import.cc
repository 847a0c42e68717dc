// libFuzzer target: the CSV/JSONL importer of client/import.h on a real replica in a temp folder.
// The format is guessed from the text (a file named without extension), the table from the header
// or the first object's keys, the separator and encoding of a CSV file from its bytes, as `relais
// import FILE` does. An input whose first byte is below 0x08 (no file starts so) is a file after
// that byte, imported with the options its bits set, as `relais import FILE --separator ';'
// --encoding windows-1252 --map "Structure=organisation" --map "Remarques="` would. Invariants:
//  - a refused import changes no row (it is all or nothing);
//  - an accepted one adds exactly its records to cases or contacts and one outbox entry each;
//  - the file passes PRAGMA integrity_check and the full-text indexes their own integrity check.
// The replica is rebuilt every kInputsPerReplica inputs so that it stays small and each input fast.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "client/import.h"
#include "client/records.h"
#include "client/replica.h"
#include "tests/fuzz/fuzz_check.h"

using namespace relais;
using relais::fuzz::Require;

namespace {

constexpr int kInputsPerReplica = 200;

int64_t Count(sqlite::Db& db, const std::string& sql) {
  auto s = db.Prepare(sql);
  Require(s.ok(), "prepare", sql);
  auto row = s->Step();
  Require(row.ok() && *row, "a count", sql);
  return s->Int(0);
}

class Device {
 public:
  Device() : clock_(1772409600000) {
    dir_ = fuzz::MakeTempDir("relais-fuzz-import");
    auto replica = client::Replica::Open((dir_ / "replica.db").string(), clock_);
    Require(replica.ok(), "open the replica", replica.ok() ? "" : replica.error().message);
    replica_.emplace(std::move(*replica));
    records_.emplace(*replica_);
  }
  ~Device() {
    records_.reset();
    replica_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Check(std::string_view text) {
    sqlite::Db& db = replica_->db();
    const int64_t rows_before = Count(db, "SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM contacts)");
    const int64_t pending_before = records_->PendingTotal()->pending;
    const std::string before = fuzz::DigestOfRows(db);
    client::ImportOptions options;
    if (!text.empty() && static_cast<unsigned char>(text[0]) < 0x08) {
      const auto bits = static_cast<unsigned char>(text[0]);
      text.remove_prefix(1);
      if (bits & 1) options.separator = ';';
      if (bits & 2) options.encoding = client::TextEncoding::kWindows1252;
      if (bits & 4) options.column_map = {"Structure=organisation", "Remarques="};
    }
    auto imported = client::ImportText(*records_, text, "input", options);
    if (!imported) {
      Require(imported.error().code != ErrorCode::kInternal && imported.error().code != ErrorCode::kIo,
              "an import fails only for the file's reason", imported.error().message);
      Require(fuzz::DigestOfRows(db) == before, "a refused import changes nothing", imported.error().message);
      return;
    }
    const auto added = static_cast<int64_t>(imported->records);
    Require(added > 0, "an accepted import holds records");
    Require(Count(db, "SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM contacts)") == rows_before + added,
            "an import adds exactly its records");
    Require(records_->PendingTotal()->pending == pending_before + added, "one pending create per record");
    const std::string integrity = fuzz::IntegrityCheck(db);
    Require(integrity == "ok", "integrity_check", integrity);
    for (const char* fts : {"cases_fts", "contacts_fts"}) {
      auto st = db.Exec(std::string("INSERT INTO ") + fts + "(" + fts + ") VALUES ('integrity-check')");
      Require(st.ok(), "full-text index integrity", st.ok() ? fts : st.error().message);
    }
  }

 private:
  std::filesystem::path dir_;
  ManualClock clock_;
  std::optional<client::Replica> replica_;
  std::optional<client::Records> records_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Device> device;
  static int inputs = 0;
  if (!device || ++inputs % kInputsPerReplica == 0) {
    device.reset();
    device = std::make_unique<Device>();
  }
  device->Check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
