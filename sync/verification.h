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

// Before the push, when whoami named the centre (`centre`): compares it with the centre the replica
// remembers. The same store at the same epoch, its sequence not behind the replica's cursor: nothing
// to do. Otherwise the centre lost part of its history — a new epoch (a restore the operator
// declared), the cursor ahead of its sequence (a restore it did not know of: the centre is told, POST
// /v1/restored, and begins an epoch), or another store at this address (reinstalled: it vouches
// for nothing) — and the replica takes a fresh copy in which what it holds beyond what the centre
// vouches for is pushed back (ReplicaPort::SwapInPushingBack), to go up with this sync's push.
// A replica that remembers no centre remembers this one. Sets summary.centre_restored and
// pushed_back.
SyncStatus FollowCentre(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
                        const CentreIdentity& centre, SyncSummary& summary);

// Tells the centre what recoveries pushed back (POST /v1/recovered), once, when there is a note.
// A centre that does not know the request (404) is not told.
SyncStatus SendRecoveryNote(ReplicaPort& replica, Transport& transport, Retrier& retrier);

}  // namespace relais::sync
