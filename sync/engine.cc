#include "sync/engine.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base/gzip.h"
#include "base/text.h"
#include "sync/codec.h"
#include "sync/push_runs.h"

namespace relais::sync {

namespace {

bool Retryable(int status) { return status >= 500 || status == 429 || status == 408; }

std::string ChangeIdOf(const std::string& error_body) {
  auto doc = nlohmann::json::parse(error_body, nullptr, false);
  if (doc.is_object() && doc["error"].is_object() && doc["error"]["change"].is_string()) {
    return doc["error"]["change"].get<std::string>();
  }
  return {};
}

Error ExplainStatus(const HttpReply& reply) {
  Error e = DecodeError(reply.body, ErrorCode::kHttp);
  std::string hint;
  switch (reply.status) {
    case 401:
      hint =
          " — le jeton de cet appareil est inconnu ou révoqué ; demandez-en un nouveau à l'équipe centrale, puis "
          "relancez `relais init`";
      break;
    case 413:
      hint = " — réduisez la taille des lots avec `relais sync --batch N`";
      break;
    case 400:
      if (e.code == ErrorCode::kProtocol)
        hint = " — ce Relais et le centre ne parlent pas la même version du protocole ; mettez Relais à jour";
      break;
    default:
      break;
  }
  e.message = "le centre a répondu " + std::to_string(reply.status) + " : " + e.message + hint;
  if (reply.status == 401) e.code = ErrorCode::kAuth;
  return e;
}

class Retrier {
 public:
  Retrier(const SyncOptions& o, SyncSummary& s) : o_(o), s_(s) {}

  // Runs `call` until it gets an answer that is not retryable, or attempts run out.
  template <class F>
  Result<HttpReply> Run(F&& call, const std::string& what) {
    int64_t backoff = o_.first_backoff_ms;
    std::string last;
    for (int attempt = 1; attempt <= o_.max_attempts; ++attempt) {
      Result<HttpReply> r = call();
      if (r.ok() && !Retryable(r->status)) return r;
      last = r.ok() ? "le centre a répondu " + std::to_string(r->status) : r.error().message;
      if (attempt == o_.max_attempts) break;
      {
        std::lock_guard lock(mu_);  // two pushes may be under way at once
        ++s_.retries;
      }
      Sleep(backoff);
      backoff = std::min(backoff * 2, o_.max_backoff_ms);
    }
    return MakeError(ErrorCode::kNetwork, what + " : échec après " + std::to_string(o_.max_attempts) + " tentatives (" +
                                              last +
                                              "). Rien n'est perdu : vos saisies restent dans la base ; relancez "
                                              "`relais sync` quand le réseau sera revenu.");
  }

 private:
  void Sleep(int64_t ms) {
    if (o_.sleep)
      o_.sleep(ms);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  const SyncOptions& o_;
  SyncSummary& s_;
  std::mutex mu_;
};

void Report(const SyncOptions& o, const char* phase, int64_t done, int64_t total) {
  if (o.progress) o.progress(Progress{phase, done, total});
}

// The cursor a pull answer's headers give (kHeaderPullNext, kHeaderPullMore), if it gives one.
struct HeaderCursor {
  int64_t next = 0;
  bool more = false;
};

const std::string* HeaderOf(const HttpReply& reply, std::string_view name) {
  std::string lower(name);
  LowerAsciiInPlace(lower);
  auto it = reply.headers.find(lower);
  return it == reply.headers.end() ? nullptr : &it->second;
}

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
  Result<PullPage> Next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return waiting_.has_value(); });
    std::future<Result<PullPage>> page = std::move(*waiting_);
    waiting_.reset();
    ++taken_;
    lock.unlock();
    cv_.notify_all();
    return page.get();
  }

 private:
  Result<HttpReply> Get(int64_t from) {
    std::string path = "/v1/pull?since=" + std::to_string(from) + "&limit=" + std::to_string(options_.pull_limit) +
                       "&layout=columns" + (options_.verify ? "&digest=1" : "") + (without_echo_ ? "&echo=0" : "");
    auto reply = retrier_.Run([&] { return transport_.Get(path); }, "réception des nouveautés du centre");
    if (!reply) return reply.error();
    if (reply->status != 200) return ExplainStatus(*reply);
    return reply;
  }

  static Result<PullPage> Decode(int64_t from, const std::string& body, std::optional<HeaderCursor> cursor) {
    auto page = DecodePullPage(body);
    if (!page) return page.error();
    if (page->since != from || (page->more && page->next <= from) ||
        (cursor && (cursor->next != page->next || cursor->more != page->more))) {
      return MakeError(ErrorCode::kProtocol,
                       "le centre a envoyé une page qui ne suit pas le curseur ; réessayez plus tard");
    }
    return page;
  }

  // Hands a page on once the one before it was taken; false when the pull was stopped meanwhile.
  bool Hand(std::future<Result<PullPage>> page) {
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
      Result<HttpReply> reply = Get(from);
      if (!reply) {
        Hand(Ready<Result<PullPage>>(reply.error()));
        return;
      }
      const std::optional<HeaderCursor> cursor = CursorOf(*reply);
      if (!cursor) {
        Result<PullPage> page = Decode(from, reply->body, std::nullopt);
        const bool more = page && page->more;
        const int64_t next = page ? page->next : 0;
        if (!Hand(Ready(std::move(page))) || !more) return;
        from = next;
        continue;
      }
      auto page = std::async(std::launch::async,
                             [from, body = std::move(reply->body), cursor] { return Decode(from, body, cursor); });
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
  std::optional<std::future<Result<PullPage>>> waiting_;
  std::thread fetcher_;
};

// Pulls every page after `since`, each handed to `take` in cursor order (PagePipeline), and returns
// the last page (more = false). A page is handed to `take` only after the previous one was taken,
// so each is applied with its cursor as before. When `take` fails, the pages asked for ahead are
// dropped: a pull changes nothing on the centre.
// `without_echo`: ask the centre to leave out the records this replica holds as they are (only
// when the centre lists the feature, and never for a fresh copy, which must receive everything).
template <class Take>
Result<PullPage> PullPages(Retrier& retrier, Transport& transport, const SyncOptions& options, int64_t since,
                           bool without_echo, Take&& take) {
  PagePipeline pages(retrier, transport, options, since, without_echo);
  while (true) {
    Result<PullPage> page = pages.Next();
    if (!page) return page.error();
    RELAIS_TRY(take(*page));
    if (!page->more) return page;
  }
}

}  // namespace

Result<SyncSummary> RunSync(SyncStore& store, Transport& transport, const SyncOptions& options) {
  SyncSummary summary;
  Retrier retrier(options, summary);

  auto pending = store.PendingCount();
  if (!pending) return pending.error();
  int64_t push_total = *pending;
  Report(options, "push", 0, push_total);

  // Before the first push, one cheap question: which forms the centre reads. It also stops a revoked
  // token before megabytes go up a poor link. A centre that lists no features gets rows.
  // A centre that leaves the echo out of pulls is asked to only then: with nothing to push, this
  // sync made no echo (AcknowledgeBatch gave each record the centre will skip its version).
  bool runs = false;
  bool without_echo = false;
  bool after = false;
  int gzip_level = kRequestGzipLevel;
  bool slow_link = false;
  if (push_total > 0) {
    const auto asked = std::chrono::steady_clock::now();
    auto who = retrier.Run([&] { return transport.Get("/v1/whoami"); }, "connexion au centre");
    if (!who) return who.error();
    slow_link = std::chrono::steady_clock::now() - asked >= std::chrono::milliseconds(kSlowLinkMs);
    if (slow_link) gzip_level = kSlowLinkGzipLevel;
    if (who->status != 200) return ExplainStatus(*who);
    runs = CentreHasFeature(who->body, kFeaturePushRuns);
    without_echo = CentreHasFeature(who->body, kFeaturePullNoEcho);
    after = CentreHasFeature(who->body, kFeaturePushAfter);
  }

  // A batch's text, after which the batch keeps only what its answer needs: the ids of its changes
  // (AcknowledgeBatch), not their values. Up to three formed batches are held at once; without their
  // values they cost a few hundred bytes a change instead of a few kilobytes. The centre hashes the
  // batch's row form whichever form it was sent in, so a batch first sent as rows may be resent as
  // runs and is still the same batch.
  auto encode = [runs](PushRequest& request) {
    std::string body = runs ? EncodePushRequestRuns(request) : EncodePushRequest(request);
    for (Change& c : request.changes) {
      c.fields.clear();
      c.fields.shrink_to_fit();
    }
    return body;
  };
  // A batch packed for the wire: its text made here, compressed on a thread of its own, so that the
  // next batch is packed while the one before is at the centre and goes as soon as it may.
  // The text is freed once compressed: the packed batch is kept until its answer (to be sent again
  // after a 409), and with it the task that made it.
  auto pack = [&encode, gzip_level](PushRequest& request) {
    return std::async(std::launch::async,
                      [text = encode(request), gzip_level]() mutable {
                        std::string packed = GzipCompress(text, gzip_level);
                        std::string().swap(text);
                        return packed;
                      })
        .share();
  };
  // Sends a packed batch (on whatever thread calls it), naming the batch sent before it if any.
  auto send = [&retrier, &transport](std::shared_future<std::string> packed, std::string before) -> Result<HttpReply> {
    const std::string& body = packed.get();
    const std::string path = before.empty() ? std::string("/v1/push") : "/v1/push?after=" + before;
    return retrier.Run([&] { return transport.PostGzip(path, body); }, "envoi des saisies au centre");
  };
  auto start = [&send](std::shared_future<std::string> packed, std::string before) {
    return std::async(std::launch::async, send, std::move(packed), std::move(before));
  };
  // Applies the centre's answer to a batch. True when the centre refused one change of it (422):
  // that change is marked rejected and every formed batch goes back to pending, to be formed anew
  // in the outbox's order.
  auto answer = [&](const PushRequest& request, Result<HttpReply> reply) -> Result<bool> {
    if (!reply) return reply.error();
    if (reply->status == 422) {
      std::string change_id = ChangeIdOf(reply->body);
      Error e = DecodeError(reply->body, ErrorCode::kValidation);
      if (change_id.empty()) return ExplainStatus(*reply);
      RELAIS_TRY(store.RejectChange(request.batch_key, change_id, e.message));
      ++summary.rejected;
      summary.rejections.push_back({change_id, e.message});
      return true;
    }
    if (reply->status != 200) return ExplainStatus(*reply);
    auto response = DecodePushResponse(reply->body);
    if (!response) return response.error();
    if (response->batch_key != request.batch_key || response->results.size() != request.changes.size()) {
      return MakeError(ErrorCode::kProtocol,
                       "la réponse du centre ne correspond pas au lot envoyé ; rien n'est perdu, réessayez plus tard");
    }
    RELAIS_TRY(store.AcknowledgeBatch(request, *response));
    ++summary.batches;
    for (const ChangeResult& r : response->results) {
      ++summary.pushed;
      switch (r.status) {
        case ChangeStatus::kApplied:
          ++summary.applied;
          break;
        case ChangeStatus::kMerged:
          ++summary.merged;
          break;
        case ChangeStatus::kReview:
          ++summary.review;
          break;
        case ChangeStatus::kRejected:
          ++summary.rejected;
          summary.rejections.push_back({r.change_id, r.reason});
          break;
      }
    }
    Report(options, "push", summary.pushed, push_total);
    return false;
  };

  // Push: first the batches an earlier, interrupted sync left formed and unacknowledged, oldest
  // first, each resent identical and answered before the next.
  while (true) {
    auto left = store.UnacknowledgedBatch();
    if (!left) return left.error();
    if (!*left) break;
    auto answered = answer(**left, send(pack(**left), std::string()));
    if (!answered) return answered.error();
  }
  // Then new batches, each formed and packed while the one before is on the wire and at the centre,
  // and sent as soon as the one before is answered (200), before that answer is recorded: the
  // centre applies a batch while the replica records the answer to the one before.
  // On a fast link to a centre that lists kFeaturePushAfter, two batches are at the centre at once:
  // the second names the first (?after=), and the centre decodes it while it applies the first, then
  // applies it as soon as the first is committed (docs/PROTOCOL.md, "Two batches in flight"). The
  // centre never waits for the replica between two batches, nor for a batch to be decoded.
  // A sync that stops in between leaves at most three formed batches, resent in order by the loop
  // above, one at a time.
  const size_t in_flight_at_most = after && !slow_link && transport.Concurrent() ? 2 : 1;
  // The size of each batch formed from here on: ramped up on a fast link (kFirstPushBatch).
  size_t batch_size = slow_link ? options.push_batch : std::min(kFirstPushBatch, options.push_batch);
  auto next_batch_size = [&batch_size, &options] {
    const size_t size = batch_size;
    batch_size = std::min(batch_size * 2, options.push_batch);
    return size;
  };
  struct Flight {
    std::unique_ptr<PushRequest> request;
    std::shared_future<std::string> packed;
    std::string before;  // the batch key it names in ?after=, or empty
    std::future<Result<HttpReply>> reply;
  };
  std::deque<Flight> flights;  // sent, oldest first
  // The batch formed and packed, not sent yet; `drained` once the outbox has no more to form.
  std::unique_ptr<PushRequest> next;
  std::shared_future<std::string> next_packed;
  bool drained = false;
  auto form = [&]() -> Status {
    if (next || drained) return OkStatus();
    auto formed = store.FormBatch(next_batch_size());
    if (!formed) return formed.error();
    if (!*formed) {
      drained = true;
      return OkStatus();
    }
    next = std::make_unique<PushRequest>(std::move(**formed));
    next_packed = pack(*next);
    return OkStatus();
  };
  auto launch = [&] {
    Flight f;
    if (!flights.empty()) f.before = flights.back().request->batch_key;
    f.request = std::move(next);
    f.packed = std::move(next_packed);
    f.reply = start(f.packed, f.before);
    flights.push_back(std::move(f));
  };
  // Waits for the batches still under way: their answers are recorded by the next sync.
  auto land = [&flights] {
    for (Flight& f : flights) {
      if (f.reply.valid()) f.reply.wait();
    }
    flights.clear();
  };
  RELAIS_TRY(form());
  if (next) launch();
  while (!flights.empty()) {
    Status formed = form();
    if (formed.ok() && next && flights.size() < in_flight_at_most) {
      launch();
      formed = form();
    }
    if (!formed.ok()) {
      land();
      return formed.error();
    }
    Flight head = std::move(flights.front());
    flights.pop_front();
    Result<HttpReply> reply = head.reply.get();
    if (reply.ok() && reply->status == 409 && !head.before.empty()) {
      // The centre did not know the batch before as committed when this one came (it restarted, or
      // the one before failed). That one is answered by now: this one goes again on its own.
      reply = send(head.packed, std::string());
    }
    if (next && reply.ok() && reply->status == 200 && flights.size() < in_flight_at_most) launch();
    auto answered = answer(*head.request, std::move(reply));
    if (!answered) {
      land();
      return answered.error();
    }
    if (*answered) {
      // A refused change (422) sent every formed batch back to pending, those sent after it too:
      // they named it, so the centre refused them (409) and applied nothing. They are formed anew,
      // in the outbox's order.
      land();
      next.reset();
      drained = false;
      RELAIS_TRY(form());
      if (next) launch();
    }
  }

#if defined(__GLIBC__)
  // The push's batches were freed, but glibc keeps their memory in the arenas of the threads that
  // sent them; the pull's pages would sit on top of it. Given back, a sync's peak is the larger of
  // its two phases, not their sum (sync_bench's 110,000-record backlog at 5,000 per batch: 62.5 MiB
  // before, 54.9 MiB with it).
  malloc_trim(0);
#endif
  // Pull every page after the cursor; each page is applied with its cursor in one transaction.
  auto cursor = store.PullCursor();
  if (!cursor) return cursor.error();
  Report(options, "pull", 0, -1);
  auto last = PullPages(retrier, transport, options, *cursor, without_echo, [&](const PullPage& page) -> Status {
    RELAIS_TRY(store.ApplyPage(page));
    if (page.now_ms > 0) {
      auto skew = store.ObserveCentralClock(page.now_ms);
      if (!skew) return skew.error();
      summary.clock_skew_ms = *skew;
    }
    ++summary.pages;
    summary.pulled += static_cast<int64_t>(page.records.size());
    summary.removed += static_cast<int64_t>(page.removed.size());
    for (const ConflictNotice& n : page.conflicts) {
      if (options.device_name.empty() || n.device != options.device_name) continue;
      if (n.status == "open")
        ++summary.conflicts_opened;
      else if (n.status == "settled")
        ++summary.conflicts_settled;
      else
        continue;
      summary.own_conflicts.push_back(n);
    }
    Report(options, "pull", summary.pulled, -1);
    return OkStatus();
  });
  if (!last) return last.error();
  if (last->next < last->since) {
    // The centre's sequence is behind this replica's cursor: it was restored from a backup, or the
    // replica was bound to another centre. What this replica holds cannot be trusted to match.
    summary.checked = true;
    summary.divergence = "le centre est à la séquence " + std::to_string(last->next) + ", cette base en était à " +
                         std::to_string(last->since) + " (centre restauré d'une sauvegarde ?)";
  } else {
    if (!last->digest) return summary;
    // The divergence check: the replica must hold exactly the centre's view of the scope.
    summary.checked = true;
    auto local = store.LocalDigest();
    if (!local) return local.error();
    summary.divergence = DescribeDifference(*local, *last->digest);
    if (summary.divergence.empty()) return summary;
  }

  // Recovery: a fresh copy of the whole scope, staged first, then swapped in at once.
  RELAIS_TRY(store.BeginFreshCopy());
  Report(options, "recover", 0, -1);
  auto fresh = PullPages(retrier, transport, options, 0, /*without_echo=*/false, [&](const PullPage& page) -> Status {
    RELAIS_TRY(store.StageFreshPage(page));
    summary.recovered_records += static_cast<int64_t>(page.records.size());
    Report(options, "recover", summary.recovered_records, -1);
    return OkStatus();
  });
  if (!fresh) return fresh.error();
  RELAIS_TRY(store.SwapInFreshCopy(fresh->next));
  if (fresh->digest) {
    auto again = store.LocalDigest();
    if (!again) return again.error();
    std::string still = DescribeDifference(*again, *fresh->digest);
    if (!still.empty()) {
      return MakeError(ErrorCode::kInternal, "la base locale diffère encore du centre après une copie fraîche (" +
                                                 still +
                                                 "). Vos saisies restent dans la base ; relancez relais sync, et si "
                                                 "l'écart persiste signalez-le au support.");
    }
  }
  return summary;
}

}  // namespace relais::sync
