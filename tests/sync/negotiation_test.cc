// The first phase of a sync (sync/negotiation.h), and the retries every request of a sync goes
// through (sync/retrier.h).

#include <catch2/catch.hpp>

#include "sync/negotiation.h"
#include "tests/sync/fakes.h"

using namespace relais;
using namespace relais::sync;
using namespace relais::sync::testing;

TEST_CASE("a centre's whoami answer says which forms it reads, and its round trip how fast the link is",
          "[negotiation]") {
  const std::string all = R"({"device":"a","territories":[],"features":["push-runs","pull-no-echo","push-after"]})";
  CentreTerms fast = TermsOf(all, std::chrono::milliseconds(3));
  CHECK(fast.runs);
  CHECK(fast.without_echo);
  CHECK(fast.after);
  CHECK_FALSE(fast.slow_link);
  CHECK(fast.gzip_level == kRequestGzipLevel);

  CentreTerms slow = TermsOf(all, std::chrono::milliseconds(kSlowLinkMs));
  CHECK(slow.slow_link);
  CHECK(slow.gzip_level == kSlowLinkGzipLevel);

  CentreTerms older = TermsOf(R"({"device":"a","territories":[]})", std::chrono::milliseconds(3));
  CHECK_FALSE(older.runs);
  CHECK_FALSE(older.without_echo);
  CHECK_FALSE(older.after);
}

TEST_CASE("a centre's whoami answer names the centre: its store id and the epoch of its history", "[negotiation]") {
  CentreTerms named = TermsOf(
      R"({"device":"a","centre":{"store_id":"5c0f","epoch":2,"epoch_seq":120,"epoch_at":"2026-12-06T10:00:00Z","seq":131}})",
      std::chrono::milliseconds(3));
  CHECK(named.centre.store_id == "5c0f");
  CHECK(named.centre.epoch == 2);
  CHECK(named.centre.epoch_seq == 120);
  CHECK(named.centre.seq == 131);
  // A centre too old to say, or an answer that does not say it whole, names no centre.
  CHECK(TermsOf(R"({"device":"a"})", std::chrono::milliseconds(3)).centre.store_id.empty());
  CHECK(TermsOf(R"({"device":"a","centre":{"store_id":"5c0f","epoch":"2","epoch_seq":0,"seq":1}})",
                std::chrono::milliseconds(3))
            .centre.store_id.empty());
  CHECK(CentreIdentityOf("not json").store_id.empty());
}

TEST_CASE("a centre's whoami answer declares the device retention limit; anything out of bounds is no limit",
          "[negotiation][retention]") {
  const auto terms = [](const std::string& body) { return TermsOf(body, std::chrono::milliseconds(3)); };
  CHECK(terms(R"({"device":"a","retention":{"device_closed_after_days":90}})").device_retention_days == 90);
  CHECK(terms(R"({"device":"a","retention":{"device_closed_after_days":3650}})").device_retention_days == 3650);
  for (const char* body : {R"({"device":"a"})", R"({"device":"a","retention":{"device_closed_after_days":0}})",
                           R"({"device":"a","retention":{"device_closed_after_days":3651}})",
                           R"({"device":"a","retention":{"device_closed_after_days":"90"}})",
                           R"({"device":"a","retention":{"device_closed_after_days":90.5}})",
                           R"({"device":"a","retention":90})"}) {
    CAPTURE(body);
    CHECK_FALSE(terms(body).device_retention_days);
  }
}

TEST_CASE("a centre that refuses the token stops the negotiation with its status and message", "[negotiation]") {
  FakeCentre centre([](const std::string&, const std::string&, const std::string&) -> Result<HttpReply> {
    return HttpReply{401, R"({"error":{"code":"unauthorized","message":"token revoked"}})", {}};
  });
  SyncOptions options;
  int64_t retries = 0;
  Retrier retrier(options, retries);
  auto terms = Negotiate(retrier, centre);
  REQUIRE_FALSE(terms.ok());
  CHECK(terms.error().failure == SyncFailure::kRefused);
  CHECK(terms.error().code == ErrorCode::kAuth);
  CHECK(terms.error().exchange == Exchange::kWhoami);
  CHECK(terms.error().http_status == 401);
  CHECK(terms.error().message == "token revoked");
  CHECK(retries == 0);  // a refusal is not retried
}

TEST_CASE("a request that keeps failing is tried max_attempts times with doubling waits, then unreachable",
          "[negotiation][retrier]") {
  const bool network = GENERATE(true, false);
  INFO((network ? "the network fails" : "the centre answers 503"));
  FakeCentre centre([network](const std::string&, const std::string&, const std::string&) -> Result<HttpReply> {
    if (network) return MakeError(ErrorCode::kNetwork, "connexion refusée");
    return HttpReply{503, "", {}};
  });
  SyncOptions options;
  options.max_attempts = 4;
  options.first_backoff_ms = 100;
  options.max_backoff_ms = 300;
  std::vector<int64_t> waits;
  options.sleep = [&waits](int64_t ms) { waits.push_back(ms); };
  int64_t retries = 0;
  Retrier retrier(options, retries);
  auto terms = Negotiate(retrier, centre);
  REQUIRE_FALSE(terms.ok());
  const SyncError& e = terms.error();
  CHECK(e.failure == SyncFailure::kUnreachable);
  CHECK(e.code == ErrorCode::kNetwork);
  CHECK(e.exchange == Exchange::kWhoami);
  CHECK(e.attempts == 4);
  CHECK(e.http_status == (network ? 0 : 503));
  CHECK(e.message == (network ? "connexion refusée" : ""));
  CHECK(centre.Asked().size() == 4);
  CHECK(waits == std::vector<int64_t>{100, 200, 300});
  CHECK(retries == 3);
}

TEST_CASE("a request that fails then gets an answer returns the answer", "[negotiation][retrier]") {
  int calls = 0;
  FakeCentre centre([&calls](const std::string&, const std::string&, const std::string&) -> Result<HttpReply> {
    if (++calls < 3) return HttpReply{429, "", {}};
    return HttpReply{200, R"({"device":"a","territories":[],"features":["push-runs"]})", {}};
  });
  SyncOptions options;
  options.sleep = [](int64_t) {};
  int64_t retries = 0;
  Retrier retrier(options, retries);
  auto terms = Negotiate(retrier, centre);
  REQUIRE(terms.ok());
  CHECK(terms->runs);
  CHECK(retries == 2);
}
