// The centre's identity and the epochs of its history (docs/SERVER.md, "Restoring from a backup"),
// on either store.
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

TEST_CASE("a new store draws its own store id and starts at epoch 1", "[identity]") {
  StoreFixture f, other;
  auto identity = f.store().Identity();
  REQUIRE(identity.ok());
  CHECK(identity->store_id.size() == 32);
  CHECK(identity->epoch == 1);
  CHECK(identity->epoch_seq == 0);
  CHECK_FALSE(identity->epoch_at.has_value());
  CHECK(other.store().Identity()->store_id != identity->store_id);
}

TEST_CASE("a restore begins an epoch at the store's sequence; stale evidence begins none", "[identity]") {
  StoreFixture f;
  const std::string store_id = f.store().Identity()->store_id;
  auto declared = f.store().BeginEpoch(std::nullopt);
  REQUIRE(declared.ok());
  CHECK(declared->store_id == store_id);
  CHECK(declared->epoch == 2);
  CHECK(declared->epoch_seq == declared->seq);
  CHECK(declared->epoch_at.has_value());
  // A device saw epoch 1: another device's evidence (or the operator) began epoch 2 since.
  auto stale = f.store().BeginEpoch(CentralStore::EpochEvidence{1, 0});
  REQUIRE(stale.ok());
  CHECK(stale->epoch == 2);
  auto found = f.store().BeginEpoch(CentralStore::EpochEvidence{2, 0});
  REQUIRE(found.ok());
  CHECK(found->epoch == 3);
  CHECK(found->epoch_seq == 0);
  CHECK(f.store().Identity()->epoch == 3);
}

TEST_CASE("what devices push back is noted with the device and the epoch, latest first", "[identity]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {"hautes-alpes-gap"});
  REQUIRE(f.store().BeginEpoch(std::nullopt).ok());
  REQUIRE(f.store()
              .NoteRecovery(a.device, {{"cases", "0190a1b2-0000-7000-8000-000000000001", "create"},
                                       {"cases", "0190a1b2-0000-7000-8000-000000000002", "update"}})
              .ok());
  auto notes = f.store().Recoveries(10);
  REQUIRE(notes.ok());
  REQUIRE(notes->size() == 2);
  CHECK((*notes)[0].record.record_id == "0190a1b2-0000-7000-8000-000000000002");
  CHECK((*notes)[0].record.op == "update");
  CHECK((*notes)[0].device == "a");
  CHECK((*notes)[0].epoch == 2);
  CHECK((*notes)[1].record.op == "create");
  CHECK(f.store().Recoveries(1)->size() == 1);
}

}  // namespace
}  // namespace relais::server::testing
