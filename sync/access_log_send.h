// Hands the device's access log to the centre (docs/PROTOCOL.md, "Access log"), after the push.
#pragma once

#include "sync/engine.h"
#include "sync/retrier.h"

namespace relais::sync {

// At most this many entries in one POST /v1/access-log: the centre's own limit
// (server/access_log.h, kMaxAccessEntriesPerRequest).
inline constexpr size_t kAccessEntriesPerPost = 5000;

// Sends the access log in parts of kAccessEntriesPerPost, oldest first; each part is forgotten once
// the centre answered 200 (it keeps each entry once by its id, so a part sent again after a cut sync
// is not counted twice). A centre that does not know the request (404) is not told: the entries stay
// for a later one. A part refused as wrong (400, 413) stays too, its reason in summary.access_refused,
// and the sync goes on. Counts the entries sent in summary.access_sent.
SyncStatus SendAccessLog(ReplicaPort& replica, Transport& transport, Retrier& retrier, SyncSummary& summary);

}  // namespace relais::sync
