#include "sync/engine.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "sync/access_log_send.h"
#include "sync/negotiation.h"
#include "sync/pull_pipeline.h"
#include "sync/push_pipeline.h"
#include "sync/retrier.h"
#include "sync/verification.h"

namespace relais::sync {

namespace {

// The push's batches were freed, but glibc keeps their memory in the arenas of the threads that
// sent them; the pull's pages would sit on top of it. Given back, a sync's peak is the larger of
// its two phases, not their sum (sync_bench's 110,000-record backlog at 5,000 per batch: 62.5 MiB
// before, 54.9 MiB with it).
void GiveBackPushMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

SyncResult<SyncSummary> RunSync(ReplicaPort& replica, Transport& transport, const SyncOptions& options) {
  SyncSummary summary;
  Retrier retrier(options, summary.retries);
  auto pending = replica.PendingCount();
  if (!pending) return ReplicaFailed(pending.error());
  if (options.push) options.Report("push", 0, *pending);

  // Negotiation, before the first push, and before anything when the replica follows a centre whose
  // identity it knows: a centre that lost history since (sync/verification.h, FollowCentre) is
  // found before a push or a pull could mix its new history with the lost one. With nothing to push
  // and no centre known, this sync made no echo, and the pull asks for everything
  // (AcknowledgeBatch gave each record the centre will skip its version).
  auto known = replica.KnownCentre();
  if (!known) return ReplicaFailed(known.error());
  CentreTerms terms;
  if (*pending > 0 || !known->store_id.empty()) {
    auto negotiated = Negotiate(retrier, transport);
    if (!negotiated) return negotiated.error();
    terms = *negotiated;
    RELAIS_TRY(FollowCentre(replica, transport, retrier, options, terms.centre, summary));
    if (summary.pushed_back > 0) {
      pending = replica.PendingCount();
      if (!pending) return ReplicaFailed(pending.error());
    }
  }

  // What is pushed back after a restore is told before it is pushed: the note is the device's claim
  // to the versions the centre lost (docs/PROTOCOL.md, "Centre identity").
  if (options.push) {
    RELAIS_TRY(SendRecoveryNote(replica, transport, retrier));
    PushPipeline push(replica, transport, retrier, options, terms, *pending, summary);
    RELAIS_TRY(push.Run());
    GiveBackPushMemory();
    RELAIS_TRY(SendAccessLog(replica, transport, retrier, summary));
  }

  auto last = Pull(replica, transport, retrier, options, terms.without_echo, summary);
  if (!last) return last.error();

  auto verdict = CheckDivergence(replica, *last);
  if (!verdict) return verdict.error();
  summary.checked = verdict->checked;
  summary.divergence = std::move(verdict->divergence);
  if (summary.divergence) RELAIS_TRY(RecoverFreshCopy(replica, transport, retrier, options, summary));

  // Last, once the replica agrees with the centre: the next check counts what it purges as held.
  auto purged = replica.PurgeClosedCases(terms.device_retention_days);
  if (!purged) return ReplicaFailed(purged.error());
  summary.purged_cases = *purged;
  return summary;
}

}  // namespace relais::sync
