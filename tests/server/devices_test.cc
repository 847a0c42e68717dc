// Device enrolment and authentication in the central store (SQLite or PostgreSQL).
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

TEST_CASE("a new store is created with its tables on first use", "[devices]") {
  StoreFixture f;
  CHECK(f.store().Health().ok());
  if (!f.on_postgres()) CHECK(std::filesystem::exists(f.db_path()));
}

namespace {
int64_t PageSizeOf(const std::string& path) {
  auto db = sqlite::Db::Open(path, false);
  REQUIRE(db.ok());
  auto s = db->Prepare("PRAGMA page_size");
  REQUIRE(s.ok());
  REQUIRE(*s->Step());
  return s->Int(0);
}
}  // namespace

TEST_CASE("a new SQLite store has 16 KiB pages, and a store created before keeps its own", "[devices]") {
  if (relais::testing::OnPostgres()) return;
  {
    StoreFixture f;
    f.Enrol("a", {"hautes-alpes-gap"});
    CHECK(PageSizeOf(f.db_path()) == 16384);
  }
  TempDir dir;
  const std::string path = (dir.path() / "old.db").string();
  {
    auto old = sqlite::Db::Open(path, true);  // SQLite's default pages, as stores had before
    REQUIRE(old.ok());
    REQUIRE(old->Exec("CREATE TABLE before_relais(x)").ok());
  }
  REQUIRE(PageSizeOf(path) == 4096);
  ManualClock clock(kT0);
  auto store = OpenStore(path, OpenMode::kExisting, clock);
  REQUIRE(store.ok());
  REQUIRE((*store)->AddDevice("a", {"hautes-alpes-gap"}, Role::kDevice).ok());
  CHECK(PageSizeOf(path) == 4096);
}

TEST_CASE("opening a store that does not exist without creating it is not found", "[devices]") {
  if (relais::testing::OnPostgres()) {
    relais::testing::PgTestDatabase empty;
    auto store = OpenStore(empty.url(), OpenMode::kExisting);
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().code == ErrorCode::kNotFound);
    CHECK(empty.Admin().Count("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0);
    return;
  }
  TempDir dir;
  auto store = OpenStore((dir.path() / "missing.db").string(), OpenMode::kExisting);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ErrorCode::kNotFound);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "missing.db"));
}

TEST_CASE("the store keeps only the hash of a token, never the token", "[devices]") {
  StoreFixture f;
  auto token = f.store().AddDevice("pae-gap", {"hautes-alpes-gap"}, Role::kDevice);
  REQUIRE(token.ok());
  CHECK(token->size() == 64);
  std::string files = f.RawFiles();
  CHECK(files.find(*token) == std::string::npos);
  CHECK(files.find(Sha256Hex(*token)) != std::string::npos);
}

TEST_CASE("a token authenticates its device with its territories", "[devices]") {
  StoreFixture f;
  auto token = f.store().AddDevice("pae-bastia", {"corse-bastia", "corse-ajaccio"}, Role::kDevice);
  REQUIRE(token.ok());
  auto device = f.store().Authenticate(*token);
  REQUIRE(device.ok());
  CHECK(device->name == "pae-bastia");
  CHECK(device->territories == std::vector<std::string>{"corse-ajaccio", "corse-bastia"});
  CHECK(device->InScope("corse-bastia"));
  CHECK_FALSE(device->InScope("hautes-alpes-gap"));
}

TEST_CASE("an unknown token is refused", "[devices]") {
  StoreFixture f;
  f.Enrol("pae-gap", {"hautes-alpes-gap"});
  auto device = f.store().Authenticate(RandomHex(32));
  REQUIRE_FALSE(device.ok());
  CHECK(device.error().code == ErrorCode::kAuth);
}

TEST_CASE("a revoked token is refused", "[devices]") {
  StoreFixture f;
  Enrolled a = f.Enrol("pae-gap", {"hautes-alpes-gap"});
  REQUIRE(f.store().RevokeDevice("pae-gap").ok());
  auto device = f.store().Authenticate(a.token);
  REQUIRE_FALSE(device.ok());
  CHECK(device.error().code == ErrorCode::kAuth);
}

TEST_CASE("a device name can be enrolled only once", "[devices]") {
  StoreFixture f;
  f.Enrol("pae-gap", {"hautes-alpes-gap"});
  auto again = f.store().AddDevice("pae-gap", {"corse-bastia"}, Role::kDevice);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kValidation);
  CHECK(again.error().message.find("pae-gap") != std::string::npos);
}

TEST_CASE("a device needs a well-formed name and at least one territory", "[devices]") {
  StoreFixture f;
  CHECK(f.store().AddDevice("bad name", {"corse-bastia"}, Role::kDevice).error().code == ErrorCode::kValidation);
  CHECK(f.store().AddDevice("ok-name", {}, Role::kDevice).error().code == ErrorCode::kValidation);
  CHECK(f.store().AddDevice("ok-name", {" padded "}, Role::kDevice).error().code == ErrorCode::kValidation);
}

TEST_CASE("revoking an unknown device is not found", "[devices]") {
  StoreFixture f;
  auto revoked = f.store().RevokeDevice("nobody");
  REQUIRE_FALSE(revoked.ok());
  CHECK(revoked.error().code == ErrorCode::kNotFound);
}

TEST_CASE("the device list shows names, roles, territories and revocation, never a token", "[devices]") {
  StoreFixture f;
  f.Enrol("pae-gap", {"hautes-alpes-gap"});
  REQUIRE(f.store().AddDevice("siege", {"corse-bastia"}, Role::kStaff).ok());
  REQUIRE(f.store().RevokeDevice("pae-gap").ok());
  auto devices = f.store().ListDevices();
  REQUIRE(devices.ok());
  REQUIRE(devices->size() == 2);
  CHECK((*devices)[0].name == "pae-gap");
  CHECK((*devices)[0].revoked_at.has_value());
  CHECK((*devices)[0].last_seen_at.has_value());
  CHECK((*devices)[1].role == Role::kStaff);
  CHECK_FALSE((*devices)[1].revoked_at.has_value());
}

// Device::InScope searches the territories byte-wise: both stores must give them in that order,
// whatever the database's locale (a locale sorts "alpha" before "Zeta" and "Écrins" before "vallée").
TEST_CASE("territories and device names come in byte order from every store", "[devices]") {
  StoreFixture f;
  Enrolled a = f.Enrol("b-poste", {"vallée", "Zeta", "Écrins", "alpha"});
  CHECK(a.device.territories == std::vector<std::string>{"Zeta", "alpha", "vallée", "Écrins"});
  CHECK(a.device.InScope("Écrins"));
  f.Enrol("a-poste", {"alpha"});
  f.Enrol("B-poste", {"alpha"});
  auto devices = f.store().ListDevices();
  REQUIRE(devices.ok());
  std::vector<std::string> names;
  for (const DeviceInfo& d : *devices) names.push_back(d.name);
  CHECK(names == std::vector<std::string>{"B-poste", "a-poste", "b-poste"});
  CHECK((*devices)[2].territories == a.device.territories);
}

}  // namespace
}  // namespace relais::server::testing
