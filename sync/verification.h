// The last phase of a sync: the divergence check (docs/PROTOCOL.md, "Divergence check"), and the
// recovery from a divergence by a fresh copy of the scope.
#pragma once

#include <optional>

#include "sync/engine.h"
#include "sync/retrier.h"

namespace relais::sync {

// What the divergence check found.
struct Verdict {
  bool checked = false;  // the centre gave the means: its digest, or a sequence behind the cursor
  std::optional<Divergence> divergence;
};

// The divergence the last page of a pull shows by itself: the centre's sequence behind the cursor
// the pull started from. Pure.
std::optional<Divergence> CentreBehind(const PullPage& last);

// Checks the replica against the last page of the pull: the centre's sequence, then its digest
// (compared with ReplicaPort::LocalDigest). Not checked when the page carries no digest.
SyncResult<Verdict> CheckDivergence(ReplicaPort& replica, const PullPage& last);

// Replaces the replica's scope by a fresh copy: every page from 0 staged, then swapped in at once,
// pending local edits kept on top. Counts the records in summary.recovered_records. When the
// centre sends its digest, the copy is checked against it: kStillDivergent when it differs still.
SyncStatus RecoverFreshCopy(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
                            SyncSummary& summary);

}  // namespace relais::sync
