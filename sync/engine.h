#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "sync/protocol.h"

namespace relais::sync {

// What the engine needs from a replica. Each method is atomic: it happens wholly or not at all,
// so a sync cut at any instant (kill, power loss) resumes correctly.
class SyncStore {
 public:
  virtual ~SyncStore() = default;
  // A batch formed and perhaps sent earlier but never acknowledged (its answer was lost or the
  // process died), with the same key and content as then — the oldest when there are several;
  // nullopt when there is none.
  virtual Result<std::optional<PushRequest>> UnacknowledgedBatch() = 0;
  // Durably assigns a new batch key to up to `max_changes` pending changes, oldest first, and
  // returns the batch; nullopt when nothing is pending.
  virtual Result<std::optional<PushRequest>> FormBatch(size_t max_changes) = 0;
  // Applies the server's answer to a batch: accepted changes leave the outbox, rejected ones stay
  // (marked rejected with the reason, shown to the user). One transaction.
  virtual Status AcknowledgeBatch(const PushRequest& request, const PushResponse& response) = 0;
  // The server refused the whole batch because of one change (HTTP 422): that change is marked
  // rejected with `reason`; the others return to pending, to go in a new batch, and so do the
  // changes of any other batch formed and not acknowledged (formed after it: they must not overtake
  // it). One transaction.
  virtual Status RejectChange(const std::string& batch_key, const std::string& change_id,
                              const std::string& reason) = 0;
  virtual Result<int64_t> PullCursor() = 0;
  // Applies a pulled page (local pending edits stay on top) and stores page.next as the cursor,
  // in one transaction.
  virtual Status ApplyPage(const PullPage& page) = 0;
  // Changes waiting to be pushed (not rejected).
  virtual Result<int64_t> PendingCount() = 0;

  // The divergence check (sync/digest.h): the digest of the records the replica holds as the
  // centre knows them — records created here and not yet accepted are left out.
  virtual Result<ScopeDigest> LocalDigest() = 0;
  // The recovery from a divergence: a fresh copy of the scope is fetched whole into a stage first
  // (each page atomically), then swapped in by one transaction that keeps every pending local
  // edit on top, drops what the scope no longer holds (its local changes rejected and kept, as for
  // a removal) and sets the cursor.
  virtual Status BeginFreshCopy() = 0;
  virtual Status StageFreshPage(const PullPage& page) = 0;
  virtual Status SwapInFreshCopy(int64_t cursor) = 0;

  // Folds the centre's clock (a pull page's now_ms) into the replica's hybrid logical clock,
  // durably, and returns how far the device's wall clock is ahead of it (negative: behind).
  virtual Result<int64_t> ObserveCentralClock(int64_t central_ms) = 0;
};

// An HTTP answer. A network failure (no answer at all) is an Error with kNetwork instead.
struct HttpReply {
  int status = 0;
  std::string body;  // decompressed
  // The answer's headers a client reads (names in lower case): a pull page's cursor
  // (kHeaderPullNext, kHeaderPullMore). A transport that keeps none leaves this empty.
  std::map<std::string, std::string> headers;
};

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

// The network, as the engine sees it. Implementations count what crossed the wire.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<HttpReply> Post(const std::string& path, const std::string& json_body) = 0;
  // The same request with a body already gzip-compressed by the caller (a push batch is packed
  // while the batch before it is at the centre, and packed once however often it is retried).
  virtual Result<HttpReply> PostGzip(const std::string& path, const std::string& gzip_body) = 0;
  virtual Result<HttpReply> Get(const std::string& path_and_query) = 0;
  // Whether two requests may be under way at once (on two connections), each on a thread of its
  // own. A transport that cannot gets one request at a time.
  virtual bool Concurrent() const { return false; }
  virtual uint64_t bytes_sent() const = 0;
  virtual uint64_t bytes_received() const = 0;
  virtual uint64_t requests() const = 0;
};

struct Progress {
  std::string phase;  // "push" or "pull"
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
  // This device's name (as enrolled): conflict notices whose `device` is this name are about this
  // device's own edits and are reported in the summary. Empty: none are.
  std::string device_name;
};

struct Rejection {
  std::string change_id;
  std::string reason;
};

struct SyncSummary {
  int64_t pushed = 0;  // changes the server answered for
  int64_t applied = 0;
  int64_t merged = 0;
  int64_t review = 0;  // changes with at least one field held for central review
  int64_t rejected = 0;
  int64_t pulled = 0;   // records received
  int64_t removed = 0;  // records that left this device's scope
  int64_t batches = 0;
  int64_t pages = 0;
  int64_t retries = 0;
  std::vector<Rejection> rejections;
  // Conflict notices about this device's own edits (SyncOptions::device_name) pulled by this sync:
  // conflicts opened on them, and settlements of earlier ones, in the order they were pulled.
  int64_t conflicts_opened = 0;
  int64_t conflicts_settled = 0;
  std::vector<ConflictNotice> own_conflicts;
  // The divergence check: `checked` when the centre sent its digest; `divergence` describes what
  // differed (empty when nothing did), and then `recovered_records` were fetched afresh.
  // How far this device's wall clock is ahead of the centre's (negative: behind), from the last
  // page; 0 when the centre did not say.
  int64_t clock_skew_ms = 0;
  bool checked = false;
  std::string divergence;
  int64_t recovered_records = 0;
};

// Pushes the outbox in bounded batches (first any batch left unacknowledged), then pulls every
// page, then checks the replica against the centre's digest and recovers from a divergence. Every step is durable
// before the next, so a failed sync keeps what it did and the next one resumes. Network failures, 5xx and 429 are
// retried with exponential backoff up to `max_attempts`; then, or on any 4xx, returns an Error whose message says what
// to do.
Result<SyncSummary> RunSync(SyncStore& store, Transport& transport, const SyncOptions& options);

}  // namespace relais::sync
