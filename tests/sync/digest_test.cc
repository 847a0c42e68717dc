#include <catch2/catch.hpp>

#include "sync/digest.h"

using namespace relais::sync;

TEST_CASE("a record adds the first 8 bytes of SHA-256(id:version), big-endian, to its table's sum", "[digest]") {
  // docs/PROTOCOL.md, "Divergence check": a second client computes the same.
  TableDigest d;
  d.Add("0190a1b2-0000-7000-8000-000000000001", 12, 0x5eed12);
  CHECK(d.count == 1);
  CHECK(SumToHex(d.sum) == "cdcb105d86176c0b");  // sha256("0190a1b2-0000-7000-8000-000000000001:12")[:8]
  d.Add("0190a1b2-0000-7000-8000-000000000001", 12, 0x5eed12);
  CHECK(SumToHex(d.sum) == "9b9620bb0c2ed816");  // twice that, modulo 2^64
}

TEST_CASE("a record's digest is BLAKE2b of its length-prefixed id, version and values", "[digest]") {
  // docs/PROTOCOL.md, "Divergence check": a second client computes the same.
  RecordDigester digester;
  const std::vector<relais::schema::Value> values = {"Lefèvre", std::nullopt, "0612345678"};
  CHECK(SumToHex(RecordDigest(digester, "0190a1b2-0000-7000-8000-000000000001", 12, values)) == "7ce00c11cdd679fa");
}

TEST_CASE("a record's digest changes with any value, and tells null from empty", "[digest]") {
  RecordDigester digester;
  const std::string id = "0190a1b2-0000-7000-8000-000000000001";
  const uint64_t stored = RecordDigest(digester, id, 12, {"Lefèvre", "0612345678"});
  CHECK(RecordDigest(digester, id, 12, {"Lefèvre", "06 12 34 56 78"}) != stored);
  CHECK(RecordDigest(digester, id, 12, {"Lefe\u0300vre", "0612345678"}) != stored);
  CHECK(RecordDigest(digester, id, 13, {"Lefèvre", "0612345678"}) != stored);
  CHECK(RecordDigest(digester, id, 12, {"", std::nullopt}) != RecordDigest(digester, id, 12, {std::nullopt, ""}));
  CHECK(RecordDigest(digester, id, 12, {"ab", "c"}) != RecordDigest(digester, id, 12, {"a", "bc"}));
  CHECK(RecordDigest(digester, id, 12, {"Lefèvre", "0612345678"}) == stored);
}

TEST_CASE("tables whose records differ only in their values differ; a centre without values is not asked", "[digest]") {
  TableDigest here, there;
  here.Add("x", 1, 111);
  there.Add("x", 1, 222);
  CHECK_FALSE(here.Matches(there));
  there.has_values = false;  // a centre that sends no `values`: ids and versions alone
  CHECK(here.Matches(there));
}
