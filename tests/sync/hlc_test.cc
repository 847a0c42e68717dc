#include <catch2/catch.hpp>

#include "sync/hlc.h"

using namespace relais;
using namespace relais::sync;

TEST_CASE("stamps keep increasing when the wall clock goes backwards", "[hlc]") {
  ManualClock clock(1'700'000'000'000);
  HlcClock hlc(clock, "dev1");
  Hlc a = hlc.Tick();
  clock.Advance(-30LL * 24 * 3600 * 1000);  // the device's clock jumps a month back
  Hlc b = hlc.Tick();
  CHECK(a < b);
  CHECK(a.ToString() < b.ToString());
}

TEST_CASE("a stamp observed from elsewhere orders later local stamps after it", "[hlc]") {
  ManualClock clock(1'700'000'000'000);
  HlcClock hlc(clock, "dev1");
  auto remote = Hlc::Parse("1800000000000-000003-dev2");
  REQUIRE(remote.ok());
  hlc.Observe(*remote);
  Hlc next = hlc.Tick();
  CHECK(next.ms == remote->ms);
  CHECK(next.counter == 4);
  CHECK(remote->ToString() < next.ToString());
}

TEST_CASE("stamps round-trip through text and bad text is refused", "[hlc]") {
  Hlc h{1700000000123, 42, "abc"};
  auto back = Hlc::Parse(h.ToString());
  REQUIRE(back.ok());
  CHECK(*back == h);
  CHECK_FALSE(Hlc::Parse("yesterday").ok());
  CHECK_FALSE(Hlc::Parse("1700000000123-00002a-a b").ok());
}
