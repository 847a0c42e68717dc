#include <catch2/catch.hpp>

#include "sync/hlc.h"

#include <cstdio>
#include <random>

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

TEST_CASE("the clock's last stamp reads back from its text before any tick, and after an observed one", "[hlc]") {
  ManualClock clock(1'700'000'000'000);
  HlcClock hlc(clock, "a1b2c3d4e5");
  auto fresh = Hlc::Parse(hlc.last().ToString());
  REQUIRE(fresh.ok());
  hlc.Observe(Hlc{1'800'000'000'000, 7, "central"});
  auto saved = Hlc::Parse(hlc.last().ToString());
  REQUIRE(saved.ok());
  CHECK(*saved == Hlc{1'800'000'000'000, 7, "a1b2c3d4e5"});
  HlcClock resumed(clock, "a1b2c3d4e5");
  resumed.Observe(*saved);
  CHECK(resumed.Tick() > *saved);
}

TEST_CASE("stamps round-trip through text and bad text is refused", "[hlc]") {
  Hlc h{1700000000123, 42, "abc"};
  auto back = Hlc::Parse(h.ToString());
  REQUIRE(back.ok());
  CHECK(*back == h);
  CHECK_FALSE(Hlc::Parse("yesterday").ok());
  CHECK_FALSE(Hlc::Parse("1700000000123-00002a-a b").ok());
}

TEST_CASE("a stamp's text is the fixed-width form at every width's edge and for drawn stamps", "[hlc]") {
  // The reference: the form as printf writes it.
  auto reference = [](const Hlc& h) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%013lld-%06x-", static_cast<long long>(h.ms), h.counter);
    return buf + h.node;
  };
  std::vector<Hlc> stamps = {{0, 0, "a"},
                             {1, 1, ""},
                             {9'999'999'999'999, 0xffffff, "node-with-a-long-name-0123456789"},
                             {1'700'000'000'123, 0xabcdef, "dev1"},
                             {10'000'000'000'000, 1, "past-13-digits"},
                             {1'700'000'000'000, 0x1000000, "counter-past-6-digits"}};
  std::mt19937_64 draw(7);
  for (int i = 0; i < 10000; ++i) {
    stamps.push_back({static_cast<int64_t>(draw() % 10'000'000'000'000), static_cast<uint32_t>(draw() % 0x1000000),
                      std::string(draw() % 40, static_cast<char>('a' + draw() % 26))});
  }
  for (const Hlc& h : stamps) {
    INFO(h.ms << " " << h.counter << " " << h.node);
    REQUIRE(h.ToString() == reference(h));
  }
}
