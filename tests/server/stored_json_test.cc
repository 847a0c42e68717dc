// The `stamps` column's text: grouped by stamp, and the older one-stamp-per-field form still read.
#include <catch2/catch.hpp>

#include "server/stored_json.h"

namespace relais::server {
namespace {

const std::string kCreate = "1764640000000-000000-a1b2c3d4";
const std::string kEdit = "1764640900000-000003-a1b2c3d4";

TEST_CASE("stamps are stored once per stamp and read back field by field", "[stamps]") {
  sync::FieldStamps stamps = {{"last_name", kCreate}, {"first_name", kCreate}, {"phone", kEdit}, {"notes", kCreate}};
  const std::string text = EncodeStamps(stamps);
  CHECK(text == "{\"" + kCreate + "\":[\"first_name\",\"last_name\",\"notes\"],\"" + kEdit + "\":[\"phone\"]}");
  auto back = DecodeStamps(text);
  REQUIRE(back);
  CHECK(*back == stamps);
  CHECK(EncodeStamps({}) == "{}");
  auto none = DecodeStamps("{}");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("a new record's stamps are the text EncodeStamps makes of them, for every table and set of fields",
          "[stamps]") {
  // Each table, with no field set, every field set, and 200 subsets drawn from a fixed seed.
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (const schema::Table& table : schema::Tables()) {
    for (int round = 0; round < 202; ++round) {
      std::vector<schema::Value> values(table.fields.size());
      sync::FieldStamps stamps;
      for (size_t i = 0; i < values.size(); ++i) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        const bool set = round == 1 || (round > 1 && (seed >> 33) % 2 == 0);
        if (!set) continue;
        values[i].emplace(1, 'v');
        stamps[std::string(table.fields[i].name)] = kCreate;
      }
      INFO(table.name << " round " << round);
      CHECK(EncodeCreateStamps(table, values, kCreate) == EncodeStamps(stamps));
    }
  }
  CHECK(EncodeCreateStamps(schema::ContactsTable(), std::vector<schema::Value>(schema::ContactsTable().fields.size()),
                           kCreate) == "{}");
}

TEST_CASE("stamps written one per field by an older centre are still read, alone or mixed", "[stamps]") {
  auto old = DecodeStamps("{\"last_name\":\"" + kCreate + "\",\"phone\":\"" + kEdit + "\"}");
  REQUIRE(old);
  CHECK(*old == sync::FieldStamps{{"last_name", kCreate}, {"phone", kEdit}});
  auto mixed = DecodeStamps("{\"" + kCreate + "\":[\"last_name\"],\"phone\":\"" + kEdit + "\"}");
  REQUIRE(mixed);
  CHECK(*mixed == sync::FieldStamps{{"last_name", kCreate}, {"phone", kEdit}});
}

TEST_CASE("damaged stamps are an internal error, not a guess", "[stamps]") {
  for (const char* bad : {"", "[]", "{\"x\":1}", "{\"1764640000000-000000-a1b2c3d4\":[1]}", "{\"a\":null}"}) {
    INFO(bad);
    auto r = DecodeStamps(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInternal);
  }
}

}  // namespace
}  // namespace relais::server
