// The last phase of a sync (sync/verification.h) alone: the divergence check and the recovery by a
// fresh copy.

#include <catch2/catch.hpp>

#include "sync/verification.h"
#include "tests/sync/fakes.h"

using namespace relais;
using namespace relais::sync;
using namespace relais::sync::testing;

namespace {

ScopeDigest Holding(int cases) {
  ScopeDigest d;
  for (int i = 0; i < cases; ++i) d["cases"].Add("case-" + std::to_string(i), 1, 0x5eed1);
  return d;
}

PullPage LastPage(int64_t since, int64_t next, std::optional<ScopeDigest> digest) {
  PullPage page;
  page.since = since;
  page.next = next;
  page.more = false;
  page.digest = std::move(digest);
  return page;
}

// A centre whose scope is `pages` pages of no record, the last with `digest`.
FakeCentre FreshCopyCentre(int pages, ScopeDigest digest) {
  return FakeCentre([=](const std::string&, const std::string& path, const std::string&) -> Result<HttpReply> {
    const int64_t since = std::stoll(path.substr(path.find("since=") + 6));
    PullPage page = LastPage(since, since + 10, std::nullopt);
    page.more = page.next < pages * 10;
    if (!page.more) page.digest = digest;
    return HttpReply{200, EncodePullPage(page), {}};
  });
}

}  // namespace

TEST_CASE("a centre whose sequence is behind the cursor is a divergence, digest or not", "[verification]") {
  FakeReplica replica;
  auto verdict = CheckDivergence(replica, LastPage(120, 80, std::nullopt));
  REQUIRE(verdict.ok());
  CHECK(verdict->checked);
  REQUIRE(verdict->divergence.has_value());
  CHECK(verdict->divergence->centre_behind);
  CHECK(verdict->divergence->centre_seq == 80);
  CHECK(verdict->divergence->replica_cursor == 120);
  CHECK(replica.digests_read == 0);
}

TEST_CASE("without the centre's digest nothing is checked", "[verification]") {
  FakeReplica replica;
  auto verdict = CheckDivergence(replica, LastPage(120, 130, std::nullopt));
  REQUIRE(verdict.ok());
  CHECK_FALSE(verdict->checked);
  CHECK_FALSE(verdict->divergence.has_value());
}

TEST_CASE("the replica's digest is compared with the centre's, table by table", "[verification]") {
  FakeReplica replica;
  replica.digest = Holding(3);
  auto same = CheckDivergence(replica, LastPage(0, 10, Holding(3)));
  REQUIRE(same.ok());
  CHECK(same->checked);
  CHECK_FALSE(same->divergence.has_value());
  auto other = CheckDivergence(replica, LastPage(0, 10, Holding(4)));
  REQUIRE(other.ok());
  CHECK(other->checked);
  REQUIRE(other->divergence.has_value());
  CHECK_FALSE(other->divergence->centre_behind);
  CHECK(other->divergence->tables == std::vector<TableDifference>{{"cases", 3, 4}});
}

TEST_CASE("a fresh copy stages every page from the start, then swaps them in with the last cursor", "[verification]") {
  FakeReplica replica;
  replica.digest_after_copy = Holding(2);
  FakeCentre centre = FreshCopyCentre(3, Holding(2));
  SyncOptions options;
  SyncSummary summary;
  Retrier retrier(options, summary.retries);
  REQUIRE(RecoverFreshCopy(replica, centre, retrier, options, summary).ok());
  CHECK(replica.staged == std::vector<int64_t>{0, 10, 20});
  CHECK(replica.swapped);
  CHECK(replica.cursor == 30);
  for (const std::string& asked : centre.Asked()) CHECK(asked.find("echo=0") == std::string::npos);
}

TEST_CASE("a fresh copy that still differs from the centre's digest is an error that names the difference",
          "[verification]") {
  FakeReplica replica;
  replica.digest_after_copy = Holding(1);
  FakeCentre centre = FreshCopyCentre(1, Holding(2));
  SyncOptions options;
  SyncSummary summary;
  Retrier retrier(options, summary.retries);
  auto recovered = RecoverFreshCopy(replica, centre, retrier, options, summary);
  REQUIRE_FALSE(recovered.ok());
  CHECK(recovered.error().failure == SyncFailure::kStillDivergent);
  CHECK(recovered.error().code == ErrorCode::kInternal);
  CHECK(recovered.error().differences == std::vector<TableDifference>{{"cases", 1, 2}});
}
