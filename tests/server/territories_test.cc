// Declared territories in the central store (docs/SERVER.md, "Territories"): an upgraded store
// declares what it already carries, and the push rules refuse or hold a move out of a device's
// territories. Runs on both stores.
#include "server/sqlite_store.h"
#include "sqlite/db.h"
#include "sqlite/migrate.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

std::vector<std::string> Codes(CentralStore& store) {
  auto network = store.GetNetwork();
  if (!network.ok()) FAIL(network.error().message);
  std::vector<std::string> codes;
  for (const Territory& t : network->territories) codes.push_back(t.code);
  return codes;
}

TEST_CASE("an upgraded store declares every territory its devices and cases carry", "[territories]") {
  if (relais::testing::OnPostgres()) return;  // the SQLite file is built before the step by hand
  TempDir dir;
  const std::string path = (dir.path() / "central.db").string();
  {
    auto db = sqlite::Db::Open(path, true);
    REQUIRE(db.ok());
    // Every step before the one that declares territories, whatever its number.
    std::vector<schema::Migration> before;
    for (const schema::Migration& m : schema::central_migrations()) {
      if (std::string(m.name).find("territories") != std::string::npos) break;
      before.push_back(m);
    }
    REQUIRE(before.size() < schema::central_migrations().size());
    REQUIRE(sqlite::Migrate(*db, before, "test").ok());
    REQUIRE(db->Exec("INSERT INTO devices(id, name, token_hash, created_at) VALUES (1, 'a', 'h', '2026-01-01');"
                     "INSERT INTO device_territories(device_id, territory) VALUES (1, '" +
                     kGap +
                     "');"
                     "INSERT INTO cases(id, last_name, first_name, opened_on, territory, version) VALUES ('" +
                     NewId() + "', 'Martin', 'Élodie', '2026-01-05', '" + kBastia + "', 1);")
                .ok());
  }
  ManualClock clock(kT0);
  auto store = SqliteStore::Open(path, OpenMode::kExisting, clock);
  REQUIRE(store.ok());
  CHECK(Codes(**store) == std::vector<std::string>{kBastia, kGap});
  auto network = (*store)->GetNetwork();
  REQUIRE(network.ok());
  CHECK(network->territories[0].label == kBastia);  // labelled with its code until renamed
  CHECK(network->transfers == TransferPolicy::kAllow);
}

TEST_CASE("a move to an undeclared territory is rejected and changes nothing", "[territories]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  const std::string id = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"))});
  auto response = f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"territory", "nulle-part", kGap}})});
  CHECK(response.results[0].status == sync::ChangeStatus::kRejected);
  CHECK(response.results[0].reason.find("« nulle-part » n'est pas déclaré") != std::string::npos);
  CHECK(f.store().History("cases", id)->size() == 1);
}

TEST_CASE("under review, a move out of the device's territories keeps the case and opens a conflict", "[territories]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  f.Enrol("b", {kBastia});
  REQUIRE(f.store().SetTransferPolicy(TransferPolicy::kReview).ok());
  const std::string id = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"))});
  auto response = f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"territory", kBastia, kGap}})});
  CHECK(response.results[0].status == sync::ChangeStatus::kReview);
  CHECK(response.results[0].review_fields == std::vector<std::string>{"territory"});
  auto open = f.store().Conflicts({});
  REQUIRE(open->size() == 1);
  CHECK((*open)[0].field == "territory");
  CHECK((*open)[0].server_value == kGap);
  CHECK((*open)[0].device_value == kBastia);
  CHECK((*open)[0].territory == kGap);
  auto approved = f.store().Resolve((*open)[0].id, Decision{Decision::Keep::kDevice, {}}, "camille");
  REQUIRE(approved.ok());
  auto placement = f.store().Locate(id);
  REQUIRE(placement.ok());
  CHECK(placement->territory == kBastia);
}

}  // namespace
}  // namespace relais::server::testing
