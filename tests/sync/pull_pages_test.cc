// The pull's pages as the engine asks for them, decodes them and hands them to the replica: in
// cursor order, each once, whether or not the centre repeats the cursor in its headers.

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

#include "sync/codec.h"
#include "sync/engine.h"

using namespace relais;
using namespace relais::sync;

namespace {

constexpr int64_t kPageSize = 10;

// A centre holding `pages` pages of kPageSize contacts, the page after cursor c starting at c.
class PagedCentre final : public Transport {
 public:
  PagedCentre(int pages, bool cursor_headers) : pages_(pages), cursor_headers_(cursor_headers) {}

  Result<HttpReply> Post(const std::string&, const std::string&) override {
    return MakeError(ErrorCode::kInternal, "no push here");
  }
  Result<HttpReply> PostGzip(const std::string&, const std::string&) override {
    return MakeError(ErrorCode::kInternal, "no push here");
  }
  Result<HttpReply> Get(const std::string& path) override {
    const std::string prefix = "/v1/pull?since=";
    REQUIRE(path.rfind(prefix, 0) == 0);
    const int64_t since = std::stoll(path.substr(prefix.size()));
    std::lock_guard lock(mu_);
    asked.push_back(since);
    asked_more_.notify_all();
    PullPage page;
    page.since = since;
    page.next = since + kPageSize;
    page.more = page.next < pages_ * kPageSize;
    for (int64_t seq = since + 1; seq <= page.next; ++seq) {
      PulledRecord r;
      r.table = "contacts";
      r.record.id =
          "0190a1b2-0000-7000-8000-" + std::string(12 - std::to_string(seq).size(), '0') + std::to_string(seq);
      r.record.version = seq;
      r.record.values.resize(schema::ContactsTable().fields.size());
      r.record.values[static_cast<size_t>(schema::ContactsTable().FieldIndex("organisation"))] = "Mission locale";
      page.records.push_back(std::move(r));
    }
    HttpReply reply{200, EncodePullPage(page, PullLayout::kColumns), {}};
    if (cursor_headers_) {
      const bool lie = lie_at && *lie_at == since;
      reply.headers["relais-pull-next"] = std::to_string(page.next + (lie ? 1 : 0));
      reply.headers["relais-pull-more"] = page.more ? "1" : "0";
    }
    return reply;
  }
  uint64_t bytes_sent() const override { return 0; }
  uint64_t bytes_received() const override { return 0; }
  uint64_t requests() const override { return asked.size(); }

  // Waits until `n` pages have been asked for, or 10 s have passed (then the test's count of the
  // pages asked for fails).
  void WaitAsked(size_t n) {
    std::unique_lock lock(mu_);
    asked_more_.wait_for(lock, std::chrono::seconds(10), [&] { return asked.size() >= n; });
  }

  std::vector<int64_t> asked;     // the cursors asked for, in order
  std::optional<int64_t> lie_at;  // the page whose headers disagree with its body

 private:
  int pages_;
  bool cursor_headers_;
  std::mutex mu_;
  std::condition_variable asked_more_;
};

// A replica with nothing to push that records the pages it applies; it fails on page `fail_at`.
class PageLog final : public ReplicaPort {
 public:
  Result<std::optional<PushRequest>> UnacknowledgedBatch() override { return std::optional<PushRequest>(); }
  Result<std::optional<PushRequest>> FormBatch(size_t) override { return std::optional<PushRequest>(); }
  Status AcknowledgeBatch(const PushRequest&, const PushResponse&) override { return OkStatus(); }
  Status RejectChange(const std::string&, const std::string&, const std::string&) override { return OkStatus(); }
  Result<int64_t> PullCursor() override { return int64_t{0}; }
  Status ApplyPage(const PullPage& page) override {
    if (fail_at && *fail_at == page.since) {
      // Fails only once the pipeline has asked for every page it may ahead of this one.
      if (before_failing) before_failing();
      return MakeError(ErrorCode::kInternal, "disk full");
    }
    applied.push_back(page.since);
    records += page.records.size();
    return OkStatus();
  }
  Result<int64_t> PendingCount() override { return int64_t{0}; }
  Result<ScopeDigest> LocalDigest() override { return ScopeDigest{}; }
  Status BeginFreshCopy() override { return OkStatus(); }
  Status StageFreshPage(const PullPage&) override { return OkStatus(); }
  Status SwapInFreshCopy(int64_t) override { return OkStatus(); }
  Result<int64_t> ObserveCentralClock(int64_t) override { return int64_t{0}; }

  std::vector<int64_t> applied;  // the `since` of each page applied, in order
  size_t records = 0;
  std::optional<int64_t> fail_at;
  std::function<void()> before_failing;  // run on page `fail_at`, before it fails
};

std::vector<int64_t> Cursors(int pages) {
  std::vector<int64_t> c;
  c.reserve(static_cast<size_t>(pages));
  for (int i = 0; i < pages; ++i) c.push_back(i * kPageSize);
  return c;
}

}  // namespace

TEST_CASE("pages are asked for and applied in cursor order, each once, with or without cursor headers",
          "[engine][pull]") {
  const bool headers = GENERATE(true, false);
  INFO((headers ? "the centre repeats the cursor in headers" : "an older centre: the cursor is in the body only"));
  PagedCentre centre(7, headers);
  PageLog replica;
  SyncOptions options;
  options.verify = false;
  auto summary = RunSync(replica, centre, options);
  REQUIRE(summary.ok());
  CHECK(centre.asked == Cursors(7));
  CHECK(replica.applied == Cursors(7));
  CHECK(replica.records == 70);
  CHECK(summary->pulled == 70);
  CHECK(summary->pages == 7);
}

TEST_CASE("a page whose headers disagree with its body stops the pull before it is applied", "[engine][pull]") {
  PagedCentre centre(5, true);
  centre.lie_at = 20;
  PageLog replica;
  SyncOptions options;
  options.verify = false;
  auto summary = RunSync(replica, centre, options);
  REQUIRE_FALSE(summary.ok());
  CHECK(summary.error().code == ErrorCode::kProtocol);
  CHECK(replica.applied == std::vector<int64_t>{0, 10});
}

TEST_CASE("a page the replica cannot apply stops the pull; a bounded number of pages were asked for ahead of it",
          "[engine][pull]") {
  const bool headers = GENERATE(true, false);
  // Pages of the default size: two may be asked for beyond the one applied; larger ones: one.
  const size_t limit = GENERATE(size_t{5000}, size_t{10000});
  INFO("limit " << limit << (headers ? ", cursor headers" : ", no cursor headers"));
  PagedCentre centre(20, headers);
  PageLog replica;
  replica.fail_at = 30;
  // Pages 0–2 applied, page 3 refused; meanwhile 4 was decoded and, for pages of the default size, 5 asked for.
  const size_t ahead = limit > 5000 ? 5u : 6u;
  replica.before_failing = [&] { centre.WaitAsked(ahead); };
  SyncOptions options;
  options.verify = false;
  options.pull_limit = limit;
  auto summary = RunSync(replica, centre, options);
  REQUIRE_FALSE(summary.ok());
  CHECK(summary.error().message.find("disk full") != std::string::npos);
  CHECK(replica.applied == Cursors(3));
  CHECK(centre.asked.size() == ahead);
  CHECK(centre.asked == Cursors(static_cast<int>(centre.asked.size())));
}
