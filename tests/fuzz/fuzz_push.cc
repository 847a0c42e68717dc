// libFuzzer target: the push handler against a real central store. Each input is decoded as a push
// body (server::DecodedPush, as the HTTP endpoint does) and pushed by an enrolled device to a SQLite store in a temp
// folder holding a case of the device's territory, a case of another territory, a follow-up and a
// contact (the seed corpus names them). Invariants:
//  - a push the store refuses (an error, e.g. a batch key reused with other content) changes no row;
//  - an accepted push answers one result per change, in order, with versions that exist;
//  - the same batch sent again gets the very same answer bytes and changes no row (idempotency);
//  - the file passes PRAGMA integrity_check.
// The store is rebuilt every kInputsPerStore inputs so that it stays small and each input fast.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/ids.h"
#include "server/sqlite_store.h"
#include "sync/codec.h"
#include "sync/hlc.h"
#include "tests/fuzz/fuzz_check.h"

using namespace relais;
using relais::fuzz::Require;

namespace {

constexpr int64_t kT0 = 1798761600000;  // 2027-01-01T00:00:00Z
constexpr int kInputsPerStore = 500;

// Fixed ids, so that the seed corpus can aim at records that exist.
constexpr const char* kGapCase = "0190a1b2-0000-7000-8000-000000000001";
constexpr const char* kBastiaCase = "0190a1b2-0000-7000-8000-000000000002";
constexpr const char* kFollowup = "0190a1b2-0000-7000-8000-000000000003";
constexpr const char* kContact = "0190a1b2-0000-7000-8000-000000000004";

sync::Change Create(const std::string& table, const std::string& id, int n,
                    std::vector<std::pair<std::string, std::string>> values) {
  sync::Change c;
  c.change_id = "0190a1b2-0000-7000-8000-0000000000" + std::to_string(10 + n);
  c.table = table;
  c.record_id = id;
  c.op = sync::Op::kCreate;
  c.hlc = sync::Hlc{kT0, 0, "seed"}.ToString();
  for (auto& [field, value] : values) c.fields.push_back({field, value, std::nullopt});
  return c;
}

class Central {
 public:
  Central() : clock_(kT0) {
    dir_ = fuzz::MakeTempDir("relais-fuzz-push");
    auto store = server::SqliteStore::Open((dir_ / "central.db").string(), server::OpenMode::kCreate, clock_);
    Require(store.ok(), "open the store", store.ok() ? "" : store.error().message);
    store_ = std::move(*store);
    auto token = store_->AddDevice("pae-gap", {"hautes-alpes-gap"}, server::Role::kDevice);
    auto other = store_->AddDevice("pae-bastia", {"corse-bastia"}, server::Role::kDevice);
    Require(token.ok() && other.ok(), "enrol devices");
    auto device = store_->Authenticate(*token);
    auto other_device = store_->Authenticate(*other);
    Require(device.ok() && other_device.ok(), "authenticate");
    device_ = *device;
    Seed(*other_device, {Create("cases", kBastiaCase, 2,
                                {{"last_name", "Santoni"},
                                 {"first_name", "Marc"},
                                 {"opened_on", "2026-01-05"},
                                 {"territory", "corse-bastia"}})});
    Seed(
        device_,
        {Create("cases", kGapCase, 1,
                {{"last_name", "Martin"},
                 {"first_name", "Élodie"},
                 {"birth_date", "1990-04-12"},
                 {"opened_on", "2026-01-05"},
                 {"territory", "hautes-alpes-gap"}}),
         Create("followups", kFollowup, 3,
                {{"case_id", kGapCase}, {"kind", "entretien"}, {"date", "2026-02-03"}, {"text", "Premier entretien."}}),
         Create("contacts", kContact, 4, {{"organisation", "Mission locale"}, {"phone", "0492000000"}})});
    // Authentication writes last_seen_at at most once a minute: done now, before any digest.
    auto reader = sqlite::Db::Open((dir_ / "central.db").string(), false);
    Require(reader.ok(), "open a reader");
    reader_.emplace(std::move(*reader));
  }
  ~Central() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Check(const server::DecodedPush& push) {
    const sync::PushRequest& request = push.request();
    const std::string before = fuzz::DigestOfRows(*reader_);
    auto reply = store_->Push(device_, push);
    if (!reply) {
      Require(reply.error().code != ErrorCode::kInternal && reply.error().code != ErrorCode::kIo,
              "a push fails only for the caller's reason", reply.error().message);
      Require(fuzz::DigestOfRows(*reader_) == before, "a refused push changes nothing", reply.error().message);
      return;
    }
    Require(reply->response.batch_key == request.batch_key, "the answer names the batch");
    Require(reply->response.results.size() == request.changes.size(), "one result per change");
    for (size_t i = 0; i < request.changes.size(); ++i) {
      const sync::ChangeResult& r = reply->response.results[i];
      Require(r.change_id == request.changes[i].change_id, "results in request order");
      if (r.status == sync::ChangeStatus::kRejected) {
        Require(r.version == 0 && !r.reason.empty(), "a rejection says why and has no version");
      } else {
        Require(r.version > 0, "an accepted change has a version");
      }
    }
    const std::string after = fuzz::DigestOfRows(*reader_);
    auto again = store_->Push(device_, push);
    Require(again.ok(), "a retried batch is answered", again.ok() ? "" : again.error().message);
    Require(again->json == reply->json, "a retried batch gets the same answer");
    Require(fuzz::DigestOfRows(*reader_) == after, "a retried batch changes nothing");
    if (++checked_ % 50 == 0) {
      const std::string integrity = fuzz::IntegrityCheck(*reader_);
      Require(integrity == "ok", "integrity_check", integrity);
    }
  }

 private:
  void Seed(const server::Device& device, std::vector<sync::Change> changes) {
    auto reply = store_->Push(device, server::DecodedPush::Unchecked({"seed-" + device.name, std::move(changes)}));
    Require(reply.ok(), "seed the store", reply.ok() ? "" : reply.error().message);
    for (const auto& r : reply->response.results)
      Require(r.status == sync::ChangeStatus::kApplied, "seed applied", r.reason);
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  std::unique_ptr<server::SqliteStore> store_;
  server::Device device_;
  std::optional<sqlite::Db> reader_;
  int checked_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Central> central;
  static int inputs = 0;
  auto push = server::DecodedPush::Decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!push) return 0;
  if (!central || ++inputs % kInputsPerStore == 0) {
    central.reset();
    central = std::make_unique<Central>();
  }
  central->Check(*push);
  return 0;
}
