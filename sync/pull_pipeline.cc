#include "sync/pull_pipeline.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string_view>
#include <thread>

#include "base/text.h"
#include "sync/centre_answer.h"
#include "sync/codec.h"
#include "sync/pull_checks.h"
#include "sync/pull_codec.h"

namespace relais::sync {

namespace {

const std::string* HeaderOf(const HttpReply& reply, std::string_view name) {
  std::string lower(name);
  LowerAsciiInPlace(lower);
  auto it = reply.headers.find(lower);
  return it == reply.headers.end() ? nullptr : &it->second;
}

}  // namespace

std::optional<HeaderCursor> CursorOf(const HttpReply& reply) {
  const std::string* next = HeaderOf(reply, kHeaderPullNext);
  const std::string* more = HeaderOf(reply, kHeaderPullMore);
  if (!next || !more || (*more != "0" && *more != "1")) return std::nullopt;
  HeaderCursor c;
  auto [end, ec] = std::from_chars(next->data(), next->data() + next->size(), c.next);
  if (ec != std::errc() || end != next->data() + next->size()) return std::nullopt;
  c.more = *more == "1";
  return c;
}

namespace {

// The pages of one pull, in cursor order, made on threads of their own: one thread asks the centre
// for each page in turn (the only user of the transport meanwhile, one request at a time), and
// each answer is decoded on a thread of its own. A centre that repeats the cursor in its headers
// is asked for the next page as soon as an answer arrives, so the centre's work on a page, the
// decoding of the page before and the replica's applying of the one before that all overlap. From
// a centre that does not, the next page is asked for once the answer is decoded.
//
// Memory stays bounded whatever the backlog: at most one decoded page waits to be taken, and the
// pages asked for beyond the one being applied hold kRecordsAhead records at most (two pages of the
// default 5,000; one page, as before this pipeline, when pages are larger).
class PagePipeline {
 public:
  PagePipeline(Retrier& retrier, Transport& transport, const SyncOptions& options, int64_t since, bool without_echo)
      : retrier_(retrier), transport_(transport), options_(options), without_echo_(without_echo) {
    fetcher_ = std::thread([this, since] { Fetch(since); });
  }
  ~PagePipeline() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
    fetcher_.join();
  }
  PagePipeline(const PagePipeline&) = delete;
  PagePipeline& operator=(const PagePipeline&) = delete;

  // The next page; an error ends the pull.
  SyncResult<PullPage> Next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return waiting_.has_value(); });
    std::future<SyncResult<PullPage>> page = std::move(*waiting_);
    waiting_.reset();
    ++taken_;
    lock.unlock();
    cv_.notify_all();
    return page.get();
  }

 private:
  SyncResult<HttpReply> Get(int64_t from) {
    std::string path = "/v1/pull?since=" + std::to_string(from) + "&limit=" + std::to_string(options_.pull_limit) +
                       "&layout=columns" + (options_.verify ? "&digest=1" : "") + (without_echo_ ? "&echo=0" : "");
    auto reply = retrier_.Run([&] { return transport_.Get(path); }, Exchange::kPull);
    if (!reply) return reply.error();
    if (reply->status != 200) return Refused(*reply, Exchange::kPull);
    return reply;
  }

  // Decodes and checks a page (sync/pull_checks.h) on the thread that decodes it, off the replica's.
  static SyncResult<PullPage> Decode(int64_t from, const std::string& body, std::optional<HeaderCursor> cursor,
                                     const PageScope& scope) {
    auto page = DecodePullPage(body);
    if (!page) {
      if (auto what = NotRelaisAnswer(body, "protocol")) {
        return MakeSyncError(SyncFailure::kNotACentre, ErrorCode::kProtocol, *what, Exchange::kPull, 200);
      }
      return UnreadableAnswer(page.error(), Exchange::kPull);
    }
    if (page->since != from || (page->more && page->next <= from) ||
        (cursor && (cursor->next != page->next || cursor->more != page->more))) {
      return MakeSyncError(SyncFailure::kPageOffCursor, ErrorCode::kProtocol,
                           "page asked after " + std::to_string(from) + ": since " + std::to_string(page->since) +
                               ", next " + std::to_string(page->next) +
                               (cursor ? ", headers' next " + std::to_string(cursor->next) : std::string()),
                           Exchange::kPull, 200);
    }
    Status checked = CheckPulledPage(*page, scope);
    if (!checked.ok()) {
      return MakeSyncError(SyncFailure::kPageRefused, checked.error().code, checked.error().message, Exchange::kPull,
                           200);
    }
    // The digests the replica keeps with each record, hashed here rather than on the replica's thread.
    RecordDigester digester;
    for (PulledRecord& r : page->records)
      r.digests = DigestsOf(digester, r.record.id, r.record.version, r.record.values);
    return std::move(*page);
  }

  // Hands a page on once the one before it was taken; false when the pull was stopped meanwhile.
  bool Hand(std::future<SyncResult<PullPage>> page) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stopped_ || !waiting_.has_value(); });
    if (stopped_) return false;
    waiting_ = std::move(page);
    ++handed_;
    lock.unlock();
    cv_.notify_all();
    return true;
  }

  // Waits until another page may be asked for; false when the pull was stopped meanwhile.
  bool Room() {
    const size_t pages_ahead = std::max<size_t>(1, kRecordsAhead / std::max<size_t>(1, options_.pull_limit));
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopped_ || handed_ - taken_ < pages_ahead; });
    return !stopped_;
  }

  template <class T>
  static std::future<T> Ready(T value) {
    std::promise<T> p;
    p.set_value(std::move(value));
    return p.get_future();
  }

  void Fetch(int64_t from) {
    while (true) {
      if (!Room()) return;
      SyncResult<HttpReply> reply = Get(from);
      if (!reply) {
        Hand(Ready<SyncResult<PullPage>>(reply.error()));
        return;
      }
      const std::optional<HeaderCursor> cursor = CursorOf(*reply);
      if (!cursor) {
        SyncResult<PullPage> page = Decode(from, reply->body, std::nullopt, options_.scope);
        const bool more = page && page->more;
        const int64_t next = page ? page->next : 0;
        if (!Hand(Ready(std::move(page))) || !more) return;
        from = next;
        continue;
      }
      auto page =
          std::async(std::launch::async, [from, body = std::move(reply->body), cursor, scope = &options_.scope] {
            return Decode(from, body, cursor, *scope);
          });
      if (!Hand(std::move(page)) || !cursor->more) return;
      from = cursor->next;
    }
  }

  Retrier& retrier_;
  Transport& transport_;
  const SyncOptions& options_;
  const bool without_echo_;
  std::mutex mu_;
  std::condition_variable cv_;
  static constexpr size_t kRecordsAhead = 10000;
  bool stopped_ = false;
  size_t handed_ = 0;  // pages handed on, and taken by Next()
  size_t taken_ = 0;
  std::optional<std::future<SyncResult<PullPage>>> waiting_;
  std::thread fetcher_;
};

}  // namespace

SyncResult<PullPage> PullPages(Retrier& retrier, Transport& transport, const SyncOptions& options, int64_t since,
                               bool without_echo, const std::function<SyncStatus(const PullPage&)>& take) {
  PagePipeline pages(retrier, transport, options, since, without_echo);
  while (true) {
    SyncResult<PullPage> page = pages.Next();
    if (!page) return page.error();
    RELAIS_TRY(take(*page));
    if (!page->more) return page;
  }
}

void CountPage(const PullPage& page, const std::string& device_name, SyncSummary& summary) {
  ++summary.pages;
  summary.pulled += static_cast<int64_t>(page.records.size());
  for (const Removal& r : page.removed) ++(r.erased ? summary.erased : summary.removed);
  for (const ConflictNotice& n : page.conflicts) {
    if (device_name.empty() || n.device != device_name) continue;
    if (n.status == "open")
      ++summary.conflicts_opened;
    else if (n.status == "settled")
      ++summary.conflicts_settled;
    else
      continue;
    summary.own_conflicts.push_back(n);
  }
}

SyncResult<PullPage> Pull(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
                          bool without_echo, SyncSummary& summary) {
  auto cursor = replica.PullCursor();
  if (!cursor) return ReplicaFailed(cursor.error());
  options.Report("pull", 0, -1);
  return PullPages(retrier, transport, options, *cursor, without_echo, [&](const PullPage& page) -> SyncStatus {
    RELAIS_TRY_REPLICA(replica.ApplyPage(page));
    if (page.now_ms > 0) {
      auto skew = replica.ObserveCentralClock(page.now_ms);
      if (!skew) return ReplicaFailed(skew.error());
      summary.clock_skew_ms = *skew;
    }
    CountPage(page, options.device_name, summary);
    options.Report("pull", summary.pulled, -1);
    return SyncOk();
  });
}

}  // namespace relais::sync
