#include "sync/verification.h"

#include <algorithm>

#include "sync/negotiation.h"
#include "sync/pull_pipeline.h"

namespace relais::sync {

std::optional<Divergence> CentreBehind(const PullPage& last) {
  if (last.next >= last.since) return std::nullopt;
  Divergence d;
  d.centre_behind = true;
  d.centre_seq = last.next;
  d.replica_cursor = last.since;
  return d;
}

SyncResult<Verdict> CheckDivergence(ReplicaPort& replica, const PullPage& last) {
  if (auto behind = CentreBehind(last)) return Verdict{true, std::move(behind)};
  // Follow-ups without their case are a drift whatever the digest says, and whether or not the
  // centre sent one: never kept silently.
  auto orphans = replica.Orphans();
  if (!orphans) return ReplicaFailed(orphans.error());
  Divergence d;
  d.orphans = std::move(*orphans);
  if (last.digest) {
    auto local = replica.LocalDigest();
    if (!local) return ReplicaFailed(local.error());
    d.tables = Differences(*local, *last.digest);
  }
  if (d.tables.empty() && d.orphans.empty()) return Verdict{last.digest.has_value(), std::nullopt};
  return Verdict{true, std::move(d)};
}

namespace {

// A fresh copy of the scope fetched whole into the replica's stage; returns its last page.
SyncResult<PullPage> StageFreshCopy(ReplicaPort& replica, Transport& transport, Retrier& retrier,
                                    const SyncOptions& options, SyncSummary& summary) {
  RELAIS_TRY_REPLICA(replica.BeginFreshCopy());
  options.Report("recover", 0, -1);
  return PullPages(retrier, transport, options, 0, /*without_echo=*/false, [&](const PullPage& page) -> SyncStatus {
    RELAIS_TRY_REPLICA(replica.StageFreshPage(page));
    summary.recovered_records += static_cast<int64_t>(page.records.size());
    options.Report("recover", summary.recovered_records, -1);
    return SyncOk();
  });
}

}  // namespace

SyncStatus RecoverFreshCopy(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
                            SyncSummary& summary) {
  auto fresh = StageFreshCopy(replica, transport, retrier, options, summary);
  if (!fresh) return fresh.error();
  RELAIS_TRY_REPLICA(replica.SwapInFreshCopy(fresh->next));
  auto orphans = replica.Orphans();
  if (!orphans) return ReplicaFailed(orphans.error());
  std::vector<TableDifference> still;
  if (fresh->digest) {
    auto again = replica.LocalDigest();
    if (!again) return ReplicaFailed(again.error());
    still = Differences(*again, *fresh->digest);
  }
  if (still.empty() && orphans->empty()) return SyncOk();
  SyncError e = MakeSyncError(SyncFailure::kStillDivergent, ErrorCode::kInternal,
                              "the replica differs from the centre's digest", Exchange::kPull, 200);
  e.differences = std::move(still);
  e.orphans = std::move(*orphans);
  return e;
}

namespace {

// The fresh copy of a recovery after the centre lost history: staged whole, then swapped in with
// what the centre lacks pushed back.
SyncStatus PushBackFreshCopy(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
                             const CentreIdentity& centre, int64_t lost_after, SyncSummary& summary) {
  auto fresh = StageFreshCopy(replica, transport, retrier, options, summary);
  if (!fresh) return fresh.error();
  CentreIdentity now = centre;
  now.seq = std::max(now.seq, fresh->next);
  auto pushed_back = replica.SwapInPushingBack(fresh->next, lost_after, now);
  if (!pushed_back) return ReplicaFailed(pushed_back.error());
  summary.centre_restored = true;
  summary.pushed_back += *pushed_back;
  return SyncOk();
}

}  // namespace

SyncStatus FollowCentre(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
                        const CentreIdentity& centre, SyncSummary& summary) {
  if (centre.store_id.empty()) return SyncOk();
  auto known = replica.KnownCentre();
  if (!known) return ReplicaFailed(known.error());
  auto cursor = replica.PullCursor();
  if (!cursor) return ReplicaFailed(cursor.error());
  const bool behind = *cursor > centre.seq;
  if (known->store_id != centre.store_id && !known->store_id.empty()) {
    // Another store at this address: it vouches for nothing this replica holds.
    return PushBackFreshCopy(replica, transport, retrier, options, centre, 0, summary);
  }
  if (!known->store_id.empty() && known->epoch != centre.epoch) {
    return PushBackFreshCopy(replica, transport, retrier, options, centre, centre.epoch_seq, summary);
  }
  if (!behind) {
    if (known->store_id.empty()) RELAIS_TRY_REPLICA(replica.RememberCentre(centre));
    return SyncOk();
  }
  // Restored without the centre knowing: it is told, and begins an epoch at the sequence seen.
  const std::string evidence = "{\"epoch\":" + std::to_string(centre.epoch) + ",\"seq\":" + std::to_string(centre.seq) +
                               ",\"cursor\":" + std::to_string(*cursor) + "}";
  auto answer = retrier.Run([&] { return transport.Post("/v1/restored", evidence); }, Exchange::kWhoami);
  if (!answer) return answer.error();
  CentreIdentity restored = centre;
  int64_t lost_after = centre.seq;
  if (answer->status == 200) {
    CentreIdentity told = CentreIdentityOf(answer->body);
    if (told.store_id != centre.store_id) {
      return UnreadableAnswer(MakeError(ErrorCode::kProtocol, "POST /v1/restored: no centre identity in the answer"),
                              Exchange::kWhoami);
    }
    restored = told;
    lost_after = std::min(lost_after, told.epoch_seq);
  } else if (answer->status != 404) {
    return Refused(*answer, Exchange::kWhoami);
  }
  return PushBackFreshCopy(replica, transport, retrier, options, restored, lost_after, summary);
}

SyncStatus SendRecoveryNote(ReplicaPort& replica, Transport& transport, Retrier& retrier) {
  auto note = replica.RecoveryNote();
  if (!note) return ReplicaFailed(note.error());
  if (!*note) return SyncOk();
  auto answer = retrier.Run([&] { return transport.Post("/v1/recovered", **note); }, Exchange::kPush);
  if (!answer) return answer.error();
  if (answer->status != 200 && answer->status != 404) return Refused(*answer, Exchange::kPush);
  RELAIS_TRY_REPLICA(replica.ClearRecoveryNote());
  return SyncOk();
}

}  // namespace relais::sync
