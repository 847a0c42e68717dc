#include "sync/verification.h"

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
  if (!last.digest) return Verdict{};
  auto local = replica.LocalDigest();
  if (!local) return ReplicaFailed(local.error());
  std::vector<TableDifference> tables = Differences(*local, *last.digest);
  if (tables.empty()) return Verdict{true, std::nullopt};
  Divergence d;
  d.tables = std::move(tables);
  return Verdict{true, std::move(d)};
}

SyncStatus RecoverFreshCopy(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
                            SyncSummary& summary) {
  RELAIS_TRY_REPLICA(replica.BeginFreshCopy());
  options.Report("recover", 0, -1);
  auto fresh =
      PullPages(retrier, transport, options, 0, /*without_echo=*/false, [&](const PullPage& page) -> SyncStatus {
        RELAIS_TRY_REPLICA(replica.StageFreshPage(page));
        summary.recovered_records += static_cast<int64_t>(page.records.size());
        options.Report("recover", summary.recovered_records, -1);
        return SyncOk();
      });
  if (!fresh) return fresh.error();
  RELAIS_TRY_REPLICA(replica.SwapInFreshCopy(fresh->next));
  if (!fresh->digest) return SyncOk();
  auto again = replica.LocalDigest();
  if (!again) return ReplicaFailed(again.error());
  std::vector<TableDifference> still = Differences(*again, *fresh->digest);
  if (still.empty()) return SyncOk();
  SyncError e = MakeSyncError(SyncFailure::kStillDivergent, ErrorCode::kInternal,
                              "the replica differs from the centre's digest", Exchange::kPull, 200);
  e.differences = std::move(still);
  return e;
}

}  // namespace relais::sync
