#include "sync/access_log_send.h"

namespace relais::sync {

SyncStatus SendAccessLog(ReplicaPort& replica, Transport& transport, Retrier& retrier, SyncSummary& summary) {
  while (true) {
    auto chunk = replica.NextAccessLog(kAccessEntriesPerPost);
    if (!chunk) return ReplicaFailed(chunk.error());
    if (!*chunk) return SyncOk();
    auto answer = retrier.Run([&] { return transport.Post("/v1/access-log", (*chunk)->body); }, Exchange::kPush);
    if (!answer) return answer.error();
    if (answer->status == 404) return SyncOk();
    if (answer->status != 200) return Refused(*answer, Exchange::kPush);
    RELAIS_TRY_REPLICA(replica.ForgetAccessLog((*chunk)->last_seq));
    summary.access_sent += (*chunk)->count;
  }
}

}  // namespace relais::sync
