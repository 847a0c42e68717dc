#include <catch2/catch.hpp>

#include "sync/digest.h"

using namespace relais::sync;

TEST_CASE("a record adds the first 8 bytes of SHA-256(id:version), big-endian, to its table's sum", "[digest]") {
  // docs/PROTOCOL.md, "Divergence check": a second client computes the same.
  TableDigest d;
  d.Add("0190a1b2-0000-7000-8000-000000000001", 12);
  CHECK(d.count == 1);
  CHECK(SumToHex(d.sum) == "cdcb105d86176c0b");  // sha256("0190a1b2-0000-7000-8000-000000000001:12")[:8]
  d.Add("0190a1b2-0000-7000-8000-000000000001", 12);
  CHECK(SumToHex(d.sum) == "9b9620bb0c2ed816");  // twice that, modulo 2^64
}
