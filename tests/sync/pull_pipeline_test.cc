// The pull phase (sync/pull_pipeline.h) alone: the cursor a page's headers repeat, and what a page
// adds to the summary. The order, the pipelining and the bounds of the pages are in
// pull_pages_test.cc.

#include <catch2/catch.hpp>

#include "sync/pull_pipeline.h"
#include "tests/sync/fakes.h"

using namespace relais;
using namespace relais::sync;
using namespace relais::sync::testing;

TEST_CASE("a pull answer's headers give its cursor only when both are there and well formed", "[pull]") {
  auto with = [](std::map<std::string, std::string> headers) { return HttpReply{200, "", std::move(headers)}; };
  auto c = CursorOf(with({{"relais-pull-next", "120"}, {"relais-pull-more", "1"}}));
  REQUIRE(c.has_value());
  CHECK(c->next == 120);
  CHECK(c->more);
  c = CursorOf(with({{"relais-pull-next", "0"}, {"relais-pull-more", "0"}}));
  REQUIRE(c.has_value());
  CHECK_FALSE(c->more);
  CHECK_FALSE(CursorOf(with({})).has_value());  // an older centre
  CHECK_FALSE(CursorOf(with({{"relais-pull-next", "120"}})).has_value());
  CHECK_FALSE(CursorOf(with({{"relais-pull-next", "12x"}, {"relais-pull-more", "1"}})).has_value());
  CHECK_FALSE(CursorOf(with({{"relais-pull-next", "120"}, {"relais-pull-more", "yes"}})).has_value());
}

TEST_CASE("a page counts its records, its removals and the conflict notices about this device's own edits", "[pull]") {
  PullPage page;
  page.records.resize(3);
  page.removed.push_back({"cases", "x", 9});
  auto notice = [](int64_t id, const std::string& device, const std::string& status) {
    ConflictNotice n;
    n.id = id;
    n.device = device;
    n.status = status;
    return n;
  };
  page.conflicts = {notice(1, "a", "open"), notice(2, "b", "open"), notice(3, "a", "settled"),
                    notice(4, "a", "dismissed")};
  SyncSummary s;
  CountPage(page, "a", s);
  CHECK(s.pages == 1);
  CHECK(s.pulled == 3);
  CHECK(s.removed == 1);
  CHECK(s.conflicts_opened == 1);
  CHECK(s.conflicts_settled == 1);
  REQUIRE(s.own_conflicts.size() == 2);
  CHECK(s.own_conflicts[0].id == 1);
  CHECK(s.own_conflicts[1].id == 3);

  SyncSummary nameless;
  CountPage(page, "", nameless);  // a device without a name has no own conflicts
  CHECK(nameless.own_conflicts.empty());
  CHECK(nameless.pulled == 3);
}

TEST_CASE("a pull page the centre refuses stops the pull with its status", "[pull]") {
  FakeCentre centre([](const std::string&, const std::string&, const std::string&) -> Result<HttpReply> {
    return HttpReply{403, R"({"error":{"code":"forbidden","message":"out of scope"}})", {}};
  });
  FakeReplica replica;
  SyncOptions options;
  SyncSummary summary;
  Retrier retrier(options, summary.retries);
  auto last = Pull(replica, centre, retrier, options, false, summary);
  REQUIRE_FALSE(last.ok());
  CHECK(last.error().failure == SyncFailure::kRefused);
  CHECK(last.error().exchange == Exchange::kPull);
  CHECK(last.error().http_status == 403);
  CHECK(last.error().code == ErrorCode::kForbidden);
  CHECK(replica.applied.empty());
}
