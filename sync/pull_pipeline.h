// The pull phase of a sync: every page after the replica's cursor, asked for, decoded and applied
// in cursor order, the centre's work on a page, the decoding of the one before and the replica's
// applying of the one before that overlapping (docs/PROTOCOL.md, `GET /v1/pull`). The fresh copy of
// a recovery (sync/verification.h) pulls its pages the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "sync/engine.h"
#include "sync/retrier.h"

namespace relais::sync {

// The cursor a pull answer's headers repeat (kHeaderPullNext, kHeaderPullMore); nullopt when they
// are missing or malformed (an older centre: the cursor is in the body only). Pure.
struct HeaderCursor {
  int64_t next = 0;
  bool more = false;
};
std::optional<HeaderCursor> CursorOf(const HttpReply& reply);

// Pulls every page after `since`, each handed to `take` in cursor order, and returns the last page
// (more = false). A page is handed to `take` only after the previous one was taken, so each is
// applied with its cursor. When `take` fails, the pages asked for ahead are dropped: a pull changes
// nothing on the centre.
// Memory stays bounded whatever the backlog: at most one decoded page waits to be taken, and the
// pages asked for beyond the one being applied hold 10,000 records at most (two pages of the
// default 5,000; one page when pages are larger).
// `without_echo`: ask the centre to leave out the records this replica holds as they are (only
// when the centre lists the feature, and never for a fresh copy, which must receive everything).
SyncResult<PullPage> PullPages(Retrier& retrier, Transport& transport, const SyncOptions& options, int64_t since,
                               bool without_echo, const std::function<SyncStatus(const PullPage&)>& take);

// Adds an applied page to the summary: a page, its records and removals, and the conflict notices
// about this device's own edits (SyncOptions::device_name; none when it is empty). Pure.
void CountPage(const PullPage& page, const std::string& device_name, SyncSummary& summary);

// The pull phase: every page after the replica's cursor, each applied with its cursor in one
// transaction, the centre's clock observed, the summary counted. Returns the last page, which the
// divergence check reads.
SyncResult<PullPage> Pull(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
                          bool without_echo, SyncSummary& summary);

}  // namespace relais::sync
