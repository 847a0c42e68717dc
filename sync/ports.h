// The two ports through which the sync engine (sync/engine.h) reaches the world: the replica
// (ReplicaPort: the device's copy of its scope, with the outbox and the cursor) and the network
// (Transport). The client implements both (client/replica_port.h, client/http_transport.h); tests
// implement them in memory. Nothing here knows SQLite, libcurl or cpp-httplib.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/result.h"
#include "sync/protocol.h"

namespace relais::sync {

// Who the centre is and where its history stands: whoami's `centre` (docs/PROTOCOL.md, "Centre
// identity"). An empty store_id: a centre too old to say, or a replica that never heard it.
struct CentreIdentity {
  std::string store_id;
  int64_t epoch = 0;      // one more each time the centre's store was restored from a backup
  int64_t epoch_seq = 0;  // the sequence the store was at when that epoch began
  int64_t seq = 0;        // the centre's last sequence number when it answered
};

// A part of the device's access log on its way to the centre (ReplicaPort::NextAccessLog).
struct AccessLogChunk {
  std::string body;       // {"entries": [...]}
  int64_t last_seq = 0;   // the last entry's sequence number in the replica
  int64_t count = 0;      // how many entries
};

// The replica as the engine reaches it. Each method is atomic: it happens wholly or not at all,
// so a sync cut at any instant (kill, power loss) resumes correctly.
class ReplicaPort {
 public:
  virtual ~ReplicaPort() = default;
  // A batch formed and perhaps sent earlier but never acknowledged (its answer was lost or the
  // process died), with the same key and content as then — the oldest when there are several;
  // nullopt when there is none.
  virtual Result<std::optional<PushRequest>> UnacknowledgedBatch() = 0;
  // Durably assigns a new batch key to up to `max_changes` pending changes, oldest first, and
  // returns the batch; nullopt when nothing is pending.
  virtual Result<std::optional<PushRequest>> FormBatch(size_t max_changes) = 0;
  // Applies the centre's answer to a batch: accepted changes leave the outbox, rejected ones stay
  // (marked rejected with the reason, shown to the user). One transaction.
  virtual Status AcknowledgeBatch(const PushRequest& request, const PushResponse& response) = 0;
  // The centre refused the whole batch because of one change (HTTP 422): that change is marked
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
  // The ids of the follow-ups the centre has accepted (not creates of this replica waiting to be
  // sent) whose case the replica does not hold. A replica at the centre's sequence holds none: the
  // centre sends a case's follow-ups only with the case, and takes them away with it.
  virtual Result<std::vector<std::string>> Orphans() { return std::vector<std::string>(); }
  // The recovery from a divergence: a fresh copy of the scope is fetched whole into a stage first
  // (each page atomically), then swapped in by one transaction that keeps every pending local
  // edit on top, drops what the scope no longer holds (its local changes rejected and kept, as for
  // a removal) and sets the cursor.
  virtual Status BeginFreshCopy() = 0;
  virtual Status StageFreshPage(const PullPage& page) = 0;
  virtual Status SwapInFreshCopy(int64_t cursor) = 0;

  // The centre this replica follows, as last remembered (an empty store_id when none is).
  virtual Result<CentreIdentity> KnownCentre() { return CentreIdentity{}; }
  virtual Status RememberCentre(const CentreIdentity&) { return OkStatus(); }
  // The swap of a recovery after the centre lost part of its history (a restore, a new store at
  // the same address): as SwapInFreshCopy, except that what the replica holds at a version above
  // `lost_after` (the last sequence the centre vouches for) and the centre lacks, or holds with other
  // values, is not dropped but pushed back: the record as a pending create, the version as a pending
  // update of the fields that differ, based on the centre's. Pending local edits are kept as by
  // SwapInFreshCopy. `centre` is remembered and a note of what is pushed back kept (RecoveryNote),
  // in the same transaction. Returns how many records are pushed back.
  virtual Result<int64_t> SwapInPushingBack(int64_t cursor, int64_t lost_after, const CentreIdentity& centre) {
    (void)lost_after;
    RELAIS_TRY(SwapInFreshCopy(cursor));
    RELAIS_TRY(RememberCentre(centre));
    return 0;
  }
  // The body of POST /v1/recovered for what recoveries pushed back and the centre was not told yet;
  // nullopt when there is nothing to tell. Cleared once the centre has it.
  virtual Result<std::optional<std::string>> RecoveryNote() { return std::optional<std::string>(); }
  virtual Status ClearRecoveryNote() { return OkStatus(); }

  // The device's access log (docs/PROTOCOL.md, "Access log"): its oldest entries not yet sent, at
  // most `limit`, as the body of POST /v1/access-log; nullopt when there is none. Forgotten up to
  // `last_seq` once the centre holds them.
  virtual Result<std::optional<AccessLogChunk>> NextAccessLog(size_t limit) {
    (void)limit;
    return std::optional<AccessLogChunk>();
  }
  virtual Status ForgetAccessLog(int64_t last_seq) {
    (void)last_seq;
    return OkStatus();
  }

  // Closed cases leave the replica (docs/PRIVACY.md, "Retention"): `days`, the limit whoami
  // declared, is remembered (nullopt: the one remembered, if any, holds); every case closed longer
  // than that, with nothing of this device's waiting about it, is purged with its records, and
  // still counted by LocalDigest as held. Returns the cases purged. One transaction.
  virtual Result<int64_t> PurgeClosedCases(std::optional<int64_t> days) {
    (void)days;
    return int64_t{0};
  }

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

}  // namespace relais::sync
