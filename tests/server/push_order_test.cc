// Two batches of one device at the centre at once (POST /v1/push?after=KEY): the order gate on its
// own, then through the real endpoint and store.
#include <atomic>
#include <future>
#include <nlohmann/json.hpp>

#include "server/push_order.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kGap = "hautes-alpes-gap";

TEST_CASE("the order gate answers at once for a batch it knows, and refuses one it does not", "[push-after]") {
  PushOrder order(50ms, 2s);
  {
    PushOrder::Ticket t = order.Begin(1, "k1");
    t.Committed();
  }
  { PushOrder::Ticket t = order.Begin(1, "k2"); }  // failed: never committed
  CHECK(order.WaitCommitted(1, "k1"));
  CHECK_FALSE(order.WaitCommitted(1, "k2"));
  CHECK_FALSE(order.WaitCommitted(2, "k1"));  // another device's batch of that key is not this one's
  const auto asked = std::chrono::steady_clock::now();
  CHECK_FALSE(order.WaitCommitted(1, "never-sent"));
  CHECK(std::chrono::steady_clock::now() - asked >= 50ms);  // it waited for the grace
}

TEST_CASE("the order gate waits for a batch under way, and for one about to begin", "[push-after]") {
  PushOrder order(5s, 5s);
  SECTION("under way, then committed") {
    std::optional<PushOrder::Ticket> first(order.Begin(1, "k1"));
    auto waiting = std::async(std::launch::async, [&] { return order.WaitCommitted(1, "k1"); });
    CHECK(waiting.wait_for(100ms) == std::future_status::timeout);
    first->Committed();  // released here, before the ticket goes
    CHECK(waiting.get());
    first.reset();
  }
  SECTION("under way, then failed") {
    std::optional<PushOrder::Ticket> first(order.Begin(1, "k1"));
    auto waiting = std::async(std::launch::async, [&] { return order.WaitCommitted(1, "k1"); });
    CHECK(waiting.wait_for(100ms) == std::future_status::timeout);
    first.reset();
    CHECK_FALSE(waiting.get());
  }
  SECTION("not begun yet when asked: it begins within the grace and is committed") {
    auto waiting = std::async(std::launch::async, [&] { return order.WaitCommitted(1, "k1"); });
    order.AwaitWaiters(1);  // it waits, for a batch not begun
    PushOrder::Ticket t = order.Begin(1, "k1");
    t.Committed();
    { PushOrder::Ticket done = std::move(t); }
    CHECK(waiting.get());
  }
  SECTION("failed, then committed by a retry: the last outcome counts") {
    { PushOrder::Ticket t = order.Begin(1, "k1"); }
    CHECK_FALSE(order.WaitCommitted(1, "k1"));
    {
      PushOrder::Ticket t = order.Begin(1, "k1");
      t.Committed();
    }
    CHECK(order.WaitCommitted(1, "k1"));
  }
}

TEST_CASE("the order gate waits no longer than its bound for a batch under way", "[push-after]") {
  PushOrder order(10ms, 100ms);
  PushOrder::Ticket stuck = order.Begin(1, "k1");
  const auto asked = std::chrono::steady_clock::now();
  CHECK_FALSE(order.WaitCommitted(1, "k1"));
  CHECK(std::chrono::steady_clock::now() - asked >= 100ms);
}

httplib::Result PushAfter(ServerFixture& f, const Enrolled& who, const sync::PushRequest& request,
                          const std::string& after) {
  const std::string path = after.empty() ? "/v1/push" : "/v1/push?after=" + after;
  return f.Client()->Post(path, ServerFixture::Headers(who.token), sync::EncodePushRequest(request),
                          "application/json");
}

std::vector<int64_t> Versions(const httplib::Result& r) {
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto response = sync::DecodePushResponse(r->body);
  REQUIRE(response.ok());
  std::vector<int64_t> v;
  for (const auto& result : response->results) v.push_back(result.version);
  return v;
}

std::vector<sync::Change> Cases(int n, const std::string& device) {
  std::vector<sync::Change> changes;
  changes.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) changes.push_back(CreateCase(NewId(), kGap, Stamp(kT0 + i, device)));
  return changes;
}

TEST_CASE("a push naming a batch the centre has not applied gets 409 and changes nothing", "[http][push-after]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  const std::string before = f.Dump();
  auto r = PushAfter(f, a, Batch(Cases(3, "a")), "never-sent");
  REQUIRE(r);
  CHECK(r->status == 409);
  CHECK(json::parse(r->body)["error"]["code"] == "conflict");
  CHECK(std::string(json::parse(r->body)["error"]["message"]).find("after=") != std::string::npos);
  CHECK(f.Dump() == before);

  SECTION("named after a batch another device sent: 409 too") {
    Enrolled b = f.Enrol("b", {kGap});
    auto theirs = Batch(Cases(1, "b"));
    REQUIRE(PushAfter(f, b, theirs, "")->status == 200);
    const std::string with_theirs = f.Dump();
    auto mine = PushAfter(f, a, Batch(Cases(1, "a")), theirs.batch_key);
    REQUIRE(mine);
    CHECK(mine->status == 409);
    CHECK(f.Dump() == with_theirs);
  }
}

TEST_CASE("a malformed after= gets 400 and changes nothing", "[http][push-after]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  const std::string before = f.Dump();
  auto request = Batch(Cases(1, "a"));
  for (const std::string& after : {std::string(""), std::string("k%20y"), std::string(101, 'k'), request.batch_key}) {
    const std::string path = "/v1/push?after=" + after;
    auto bad = f.Client()->Post(path, ServerFixture::Headers(a.token),
                                sync::EncodePushRequest(Batch(Cases(1, "a"), request.batch_key)), "application/json");
    REQUIRE(bad);
    INFO("after=" << after);
    CHECK(bad->status == 400);
    CHECK(json::parse(bad->body)["error"]["code"] == "bad_request");
    CHECK(json::parse(bad->body)["error"]["message"] == "after= doit nommer la clé du lot envoyé juste avant celui-ci");
  }
  CHECK(f.Dump() == before);
}

TEST_CASE("a push naming the batch before it is applied after that one, whichever arrives first",
          "[http][push-after]") {
  // Opened when the second push waits at the order gate for the first.
  std::promise<void> second_waits;
  std::atomic<bool> told{false};
  HttpOptions options = ServerFixture::QuietOptions();
  options.on_order_wait = [&] {
    if (!told.exchange(true)) second_waits.set_value();
  };
  ServerFixture f(options);
  Enrolled a = f.Enrol("a", {kGap});
  auto first = Batch(Cases(400, "a"));
  auto second = Batch(Cases(3, "a"));
  SECTION("the first committed before the second comes") {
    auto v1 = Versions(PushAfter(f, a, first, ""));
    auto v2 = Versions(PushAfter(f, a, second, first.batch_key));
    CHECK(v2.front() > v1.back());
  }
  SECTION("the second comes first and waits for the first") {
    auto second_reply = std::async(std::launch::async, [&] { return PushAfter(f, a, second, first.batch_key); });
    second_waits.get_future().wait();  // the second is at the gate before the first is sent
    auto v1 = Versions(PushAfter(f, a, first, ""));
    auto v2 = Versions(second_reply.get());
    // Without the gate the second, which came first, would hold the lower versions.
    CHECK(v2.front() > v1.back());
  }
  SECTION("both at once, many times over") {
    for (int round = 0; round < 5; ++round) {
      auto one = Batch(Cases(200, "a"));
      auto two = Batch(Cases(200, "a"));
      auto one_reply = std::async(std::launch::async, [&] { return PushAfter(f, a, one, ""); });
      auto two_reply = std::async(std::launch::async, [&] { return PushAfter(f, a, two, one.batch_key); });
      auto v1 = Versions(one_reply.get());
      auto v2 = Versions(two_reply.get());
      CHECK(v2.front() > v1.back());
    }
  }
}

TEST_CASE("a push naming a batch that failed gets 409 and changes nothing", "[http][push-after]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto refused = Batch({CreateCase(NewId(), kGap, Stamp(kT0, "a"), {{"birth_date", "pas une date"}})});
  auto r = PushAfter(f, a, refused, "");
  REQUIRE(r);
  REQUIRE(r->status == 422);
  const std::string before = f.Dump();
  auto next = PushAfter(f, a, Batch(Cases(2, "a")), refused.batch_key);
  REQUIRE(next);
  CHECK(next->status == 409);
  CHECK(f.Dump() == before);
}

}  // namespace
}  // namespace relais::server::testing
