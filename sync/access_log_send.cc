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
    // A part the centre refuses (400: an entry it finds wrong) stays here, and the sync goes on to
    // its pull: the log never keeps the counsellor from her cases. 401 and the like stop the sync.
    if (answer->status == 400 || answer->status == 413) {
      summary.access_refused = Refused(*answer, Exchange::kPush).message;
      return SyncOk();
    }
    if (answer->status != 200) return Refused(*answer, Exchange::kPush);
    RELAIS_TRY_REPLICA(replica.ForgetAccessLog((*chunk)->last_seq));
    summary.access_sent += (*chunk)->count;
  }
}

}  // namespace relais::sync
