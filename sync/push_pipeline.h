// The push phase of a sync: the outbox sent in batches, first those an interrupted sync left
// unacknowledged, then new ones formed, packed and sent in a pipeline (docs/PROTOCOL.md, "Two
// batches in flight"), each answer recorded in the replica before the sync goes on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <string>

#include "sync/engine.h"
#include "sync/negotiation.h"
#include "sync/retrier.h"

namespace relais::sync {

// The sizes of the batches a push forms, one after the other: on a fast link kFirstPushBatch, then
// twice as many each time, up to `full` (kFirstPushBatch); from the first, `full` on a slow link.
class BatchRamp {
 public:
  BatchRamp(size_t full, bool slow_link) : next_(slow_link ? full : std::min(kFirstPushBatch, full)), full_(full) {}
  size_t Next() {
    const size_t size = next_;
    next_ = std::min(next_ * 2, full_);
    return size;
  }

 private:
  size_t next_;
  size_t full_;
};

// Adds a push answer's outcomes to the summary: pushed, applied, merged, review, rejected (with
// the centre's reasons). Pure.
void CountAnswer(const PushResponse& response, SyncSummary& summary);

// One push, used once. Not thread-safe; it runs its requests and compressions on threads of its
// own, and waits for them before it returns.
class PushPipeline {
 public:
  // `push_total`: the changes waiting, for the progress report. The summary counts the answers.
  PushPipeline(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
               const CentreTerms& terms, int64_t push_total, SyncSummary& summary);
  PushPipeline(const PushPipeline&) = delete;
  PushPipeline& operator=(const PushPipeline&) = delete;

  // Pushes until the outbox has nothing left to form. On an error, the batches still under way are
  // waited for (their answers are recorded by the next sync) and nothing is lost.
  SyncStatus Run();

 private:
  // A batch sent, and the answer it waits for.
  struct Flight {
    std::unique_ptr<PushRequest> request;
    std::shared_future<std::string> packed;
    std::string before;  // the batch key it names in ?after=, or empty
    std::future<SyncResult<HttpReply>> reply;
  };

  // The batches an earlier, interrupted sync left formed and unacknowledged, oldest first, each
  // resent identical and answered before the next.
  SyncStatus ResendUnacknowledged();
  // New batches, each formed and packed while the one before is on the wire, sent as soon as the
  // one before is answered (200), before that answer is recorded; two at once when the terms allow.
  SyncStatus PushOutbox();

  // Packs a batch for the wire on a thread of its own, after which the request keeps only the ids
  // of its changes.
  std::shared_future<std::string> Pack(PushRequest& request);
  // Sends a packed batch (on whatever thread calls it), naming the batch sent before it if any.
  SyncResult<HttpReply> Send(const std::shared_future<std::string>& packed, const std::string& before);
  // Records the centre's answer to a batch in the replica and the summary. True when the centre
  // refused one change of it (422): that change is marked rejected and every formed batch went back
  // to pending, to be formed anew in the outbox's order.
  SyncResult<bool> Answer(const PushRequest& request, SyncResult<HttpReply> reply);

  // Forms and packs the next batch, unless one is waiting or the outbox is drained.
  SyncStatus Form();
  // Sends the batch formed, naming the last one under way.
  void Launch();
  // Waits for the batches still under way.
  void Land();

  ReplicaPort& replica_;
  Transport& transport_;
  Retrier& retrier_;
  const SyncOptions& options_;
  const CentreTerms terms_;
  const int64_t push_total_;
  SyncSummary& summary_;
  const size_t in_flight_at_most_;
  BatchRamp ramp_;

  std::deque<Flight> flights_;  // sent, oldest first
  // The batch formed and packed, not sent yet; `drained_` once the outbox has no more to form.
  std::unique_ptr<PushRequest> next_;
  std::shared_future<std::string> next_packed_;
  bool drained_ = false;
};

}  // namespace relais::sync
