// The sync engine: one sync of a replica with the centre, in four phases (negotiation, push, pull,
// verification and recovery), through the two ports of sync/ports.h. Pure: no SQLite, libcurl or
// cpp-httplib; it says what happened (SyncSummary) or what stopped it (SyncError) as facts, and
// its caller says them to people.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sync/ports.h"
#include "sync/protocol.h"
#include "sync/pull_checks.h"
#include "sync/sync_error.h"

namespace relais::sync {

// libdeflate level of request bodies (base/gzip.h). A push batch of 5,000 new cases (1.8 MB of
// text, 2026-12-03): level 5 packs it to 261 KB in 14 ms, where zlib's level 5 took 29 ms for
// 293 KB; level 9 to 241 KB in 133 ms; 12 to 228 KB in 460 ms. Level 4 packs the same batch as runs
// in 23 % less time than level 5 for 0.4 % more bytes (52.8 against 52.6 a case; the last table
// of bench/push_decode_bench): a push over a fast link waits for CPU, not for those bytes.
inline constexpr int kRequestGzipLevel = 4;
// On a slow link the bytes are what a sync waits for, and the next batch is packed while one is on
// the wire: a sync whose first question to the centre (GET /v1/whoami, retries included) takes
// kSlowLinkMs or more packs its batches at level 9, 8 % fewer bytes. Level 12 would save 6 % more
// for 3.5 times the time, about what those bytes take at 256 kbit/s: no gain on a poor link, a loss
// on a better one.
inline constexpr int kSlowLinkGzipLevel = 9;
inline constexpr int64_t kSlowLinkMs = 100;
// On a fast link the first batches of a push ramp up: kFirstPushBatch changes, then twice as many
// each time, up to SyncOptions::push_batch. The centre starts on a small batch while the next one
// is formed, instead of waiting for a full one to be formed and packed (sync_bench's backlog of
// 110,000 records at 5,000 a batch, on loopback: the first push left 128-152 ms after whoami, 15-29
// ms with the ramp, for 3 requests more; whole syncs of that backlog, median of seven: 4.50 s
// without, 4.41 s with it, the centre waiting for the larger batches later and committing three
// more). A slow link, where each request costs a round trip, gets full batches from the first.
inline constexpr size_t kFirstPushBatch = 625;

struct Progress {
  std::string phase;  // "push", "pull" or "recover"
  int64_t done = 0;
  int64_t total = -1;  // -1 when unknown
};

struct SyncOptions {
  size_t push_batch = 5000;  // changes per push request
  size_t pull_limit = 5000;  // records per pull page
  int max_attempts = 6;      // per request, for network failures, 5xx and 429
  int64_t first_backoff_ms = 500;
  int64_t max_backoff_ms = 30000;
  std::function<void(int64_t ms)> sleep;          // injectable for tests; default sleeps
  std::function<void(const Progress&)> progress;  // optional
  // Ask the centre for the scope digest on the last page, compare, recover on a difference.
  bool verify = true;
  // Push the outbox (and what a restore's recovery pushes back). False: pull and verify only
  // (`relais verify`); the changes wait for the next sync.
  bool push = true;
  // This device's name (as enrolled): conflict notices whose `device` is this name are about this
  // device's own edits and are reported in the summary. Empty: none are.
  std::string device_name;
  // Whom pulled pages may be about: a page that names a case of another territory is refused whole
  // (sync/pull_checks.h), as is one that fails the schema's validation.
  PageScope scope;

  // Calls `progress`, if any.
  void Report(const char* phase, int64_t done, int64_t total) const {
    if (progress) progress(Progress{phase, done, total});
  }
};

// How the divergence check found the replica different from the centre.
struct Divergence {
  // The centre's sequence is behind this replica's cursor: the centre was restored from a backup,
  // or the replica was bound to another centre. What the replica holds cannot be trusted to match.
  bool centre_behind = false;
  int64_t centre_seq = 0;
  int64_t replica_cursor = 0;
  // Otherwise: the tables whose digests differ,
  std::vector<TableDifference> tables;
  // and the follow-ups the centre has accepted whose case the replica lacks (ReplicaPort::Orphans).
  std::vector<std::string> orphans;
};

struct Rejection {
  std::string change_id;
  std::string reason;
};

// A value this device sent that lost to a later edit of the same field (last-writer-wins): the
// record kept the other value; the centre keeps this one in the record's history.
struct LostEdit {
  std::string table;
  std::string record_id;
  std::string field;
};

struct SyncSummary {
  int64_t pushed = 0;  // changes the server answered for
  int64_t applied = 0;
  int64_t merged = 0;
  int64_t review = 0;  // changes with at least one field held for central review
  int64_t rejected = 0;
  int64_t pulled = 0;   // records received
  int64_t removed = 0;  // records that left this device's scope
  int64_t erased = 0;   // records erased at their person's request (removals marked erased)
  int64_t purged_cases = 0;  // closed cases that left the replica, past the device limit (kept at the centre)
  int64_t access_sent = 0;  // entries of the access log the centre now holds (POST /v1/access-log)
  std::string access_refused;  // why the centre refused a part of the access log (kept here), or empty
  int64_t batches = 0;
  int64_t pages = 0;
  int64_t retries = 0;
  std::vector<Rejection> rejections;
  std::vector<LostEdit> lost_edits;  // in the order of the answers
  // Conflict notices about this device's own edits (SyncOptions::device_name) pulled by this sync:
  // conflicts opened on them, and settlements of earlier ones, in the order they were pulled.
  int64_t conflicts_opened = 0;
  int64_t conflicts_settled = 0;
  std::vector<ConflictNotice> own_conflicts;
  // How far this device's wall clock is ahead of the centre's (negative: behind), from the last
  // page; 0 when the centre did not say.
  int64_t clock_skew_ms = 0;
  // The divergence check: `checked` when the centre gave the means (its digest, or a sequence
  // behind the cursor); `divergence` says what differed (nullopt when nothing did), and then
  // `recovered_records` were fetched afresh.
  bool checked = false;
  std::optional<Divergence> divergence;
  int64_t recovered_records = 0;
  // The centre lost part of its history since the last sync (restored from a backup, or a new store
  // at the same address: docs/PROTOCOL.md, "Centre identity"): this sync took a fresh copy and
  // pushed back `pushed_back` records it held and the centre had lost, instead of dropping them.
  bool centre_restored = false;
  int64_t pushed_back = 0;
};

// One sync, its phases in order: negotiation (sync/negotiation.h), the push (sync/push_pipeline.h),
// the pull (sync/pull_pipeline.h), the divergence check and the recovery (sync/verification.h).
// Every step is durable before the next, so a failed sync keeps what it did and the next one
// resumes. Network failures, 5xx and 429 are retried with exponential backoff up to
// `max_attempts`; then, or on any 4xx, returns a SyncError that says what failed.
SyncResult<SyncSummary> RunSync(ReplicaPort& replica, Transport& transport, const SyncOptions& options);

}  // namespace relais::sync
