#include <catch2/catch.hpp>

#include "sync/merge.h"
#include "tests/sync/builders.h"

using namespace relais;
using namespace relais::sync;
using relais::testing::ACase;
using relais::testing::AnUpdate;

namespace {
const schema::Table& kCases = schema::CasesTable();
schema::Value Field(const MergeResult& r, std::string_view f) {
  return r.values[static_cast<size_t>(kCases.FieldIndex(f))];
}
const std::string kEarly = "1700000000000-000000-deva";
const std::string kLate = "1700000999000-000000-devb";
}  // namespace

TEST_CASE("an update on the current version is applied as sent", "[merge]") {
  ACase base;
  auto r = MergeUpdate(kCases, base.record(), {}, AnUpdate(base, "phone", "0622334455", kLate));
  CHECK(r.status == ChangeStatus::kApplied);
  CHECK(Field(r, "phone") == std::optional<std::string>("0622334455"));
  CHECK(r.stamps.at("phone") == kLate);
}

TEST_CASE("edits of different fields merge without conflict", "[merge]") {
  ACase base;
  ACase server = base;
  server.With("phone", "0622334455").Version(9);
  auto r =
      MergeUpdate(kCases, server.record(), {{"phone", kEarly}}, AnUpdate(base, "email", "autre@exemple.fr", kLate));
  CHECK(r.status == ChangeStatus::kMerged);
  CHECK(Field(r, "phone") == std::optional<std::string>("0622334455"));
  CHECK(Field(r, "email") == std::optional<std::string>("autre@exemple.fr"));
}

TEST_CASE("same-field edits follow the field's rule", "[merge]") {
  ACase base;
  SECTION("lww: the later device stamp wins and the server value is reported as lost") {
    ACase server = base;
    server.With("phone", "0622334455").Version(9);
    auto r = MergeUpdate(kCases, server.record(), {{"phone", kEarly}}, AnUpdate(base, "phone", "0733445566", kLate));
    CHECK(r.status == ChangeStatus::kMerged);
    CHECK(Field(r, "phone") == std::optional<std::string>("0733445566"));
    REQUIRE(r.outcomes.size() == 1);
    CHECK(r.outcomes[0].how == Resolution::kLwwDevice);
    CHECK(r.outcomes[0].server == std::optional<std::string>("0622334455"));
  }
  SECTION("lww: an earlier device stamp loses and the server keeps its value") {
    ACase server = base;
    server.With("phone", "0622334455").Version(9);
    auto r = MergeUpdate(kCases, server.record(), {{"phone", kLate}}, AnUpdate(base, "phone", "0733445566", kEarly));
    CHECK(Field(r, "phone") == std::optional<std::string>("0622334455"));
    CHECK(r.outcomes[0].how == Resolution::kLwwServer);
    CHECK(r.outcomes[0].device == std::optional<std::string>("0733445566"));
  }
  SECTION("review: the server keeps its value and the device's value is held for review") {
    ACase server = base;
    server.With("last_name", "Martin-Roux").Version(9);
    auto r =
        MergeUpdate(kCases, server.record(), {{"last_name", kEarly}}, AnUpdate(base, "last_name", "Martins", kLate));
    CHECK(r.status == ChangeStatus::kReview);
    CHECK(Field(r, "last_name") == std::optional<std::string>("Martin-Roux"));
    CHECK(r.outcomes[0].how == Resolution::kForReview);
    CHECK(r.outcomes[0].device == std::optional<std::string>("Martins"));
    CHECK_FALSE(r.changed);
  }
}

TEST_CASE("an edit to the value the server already holds changes nothing", "[merge]") {
  ACase base;
  ACase server = base;
  server.With("phone", "0622334455").Version(9);
  auto r = MergeUpdate(kCases, server.record(), {{"phone", kEarly}}, AnUpdate(base, "phone", "0622334455", kLate));
  CHECK_FALSE(r.changed);
  CHECK(r.outcomes[0].how == Resolution::kSame);
}

TEST_CASE("rebasing keeps pending local fields on top of pulled values", "[merge]") {
  ACase local, pulled;
  local.With("phone", "0700000000");
  pulled.With("phone", "0611111111").With("email", "nouveau@exemple.fr");
  auto out = RebaseLocal(kCases, pulled.record().values, local.record().values, {"phone"});
  CHECK(out[static_cast<size_t>(kCases.FieldIndex("phone"))] == std::optional<std::string>("0700000000"));
  CHECK(out[static_cast<size_t>(kCases.FieldIndex("email"))] == std::optional<std::string>("nouveau@exemple.fr"));
}
