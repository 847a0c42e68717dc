#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "schema/model.h"
#include "sync/digest.h"

namespace relais::sync {

// The protocol version this build speaks (docs/PROTOCOL.md). A peer speaking another is refused.
inline constexpr int kProtocolVersion = 1;

// Headers of a pull answer that repeat its body's `next` and `more` (docs/PROTOCOL.md, section
// `GET /v1/pull`): a client can ask for the following page as soon as an answer arrives, before
// decoding it.
inline constexpr char kHeaderPullNext[] = "Relais-Pull-Next";
inline constexpr char kHeaderPullMore[] = "Relais-Pull-More";
// A request header by which a device tells the centre how many of its changes the centre has not
// accepted (waiting to be sent, or refused and kept): docs/PROTOCOL.md, "Transport". Central staff
// see the last one before they order a wipe.
inline constexpr char kHeaderPending[] = "Relais-Pending";
// The largest limit whoami's `retention.device_closed_after_days` may declare: ten years. Closed
// cases leave a device after that many days (docs/PRIVACY.md, "Retention").
inline constexpr int64_t kMaxDeviceRetentionDays = 3650;

enum class Op { kCreate, kUpdate };

// One field of a change: its new value and, for an update, the value the device saw before it.
struct FieldChange {
  std::string field;
  schema::Value value;
  schema::Value base;  // always null for a create
};

// One local write, as the outbox keeps it and the wire carries it.
struct Change {
  std::string change_id;  // UUID made on the device; the server applies a change id at most once
  std::string table;
  std::string record_id;
  Op op = Op::kUpdate;
  int64_t base_version = 0;  // the record's server version when the device wrote; 0 for a create
  std::string hlc;           // Hlc::ToString()
  std::vector<FieldChange> fields;
};

struct PushRequest {
  std::string batch_key;  // idempotency key: the same key gets the same answer, applied once
  std::vector<Change> changes;
};

// What happened to one pushed change. A conflict is an outcome, not an error.
enum class ChangeStatus {
  kApplied,   // taken as sent
  kMerged,    // taken, merged with concurrent edits by the declared rules (nothing lost: see history)
  kReview,    // taken except the listed fields, which are kept for central review
  kRejected,  // refused (scope, closed table…): nothing applied; `reason` says why
};

struct ChangeResult {
  std::string change_id;
  ChangeStatus status = ChangeStatus::kApplied;
  int64_t version = 0;                     // the record's version after this change (0 if rejected)
  std::string reason;                      // for kRejected: French, for the counsellor
  std::vector<std::string> review_fields;  // for kReview
  std::string code;                        // for kRejected: machine-readable (docs/PROTOCOL.md, "Rejection codes")
  // For kMerged: the fields whose value from the device lost to a later one by last-writer-wins
  // (kept in the record's history at the centre). Its initialiser lets a result still be written
  // as an aggregate of the members above.
  std::vector<std::string> lost_fields = {};
  // The values the centre holds for the fields of the change, when it stored them otherwise than
  // sent (normalised) and no new version brings them back by the pull (docs/PROTOCOL.md, "Echo").
  // (Initialised so that results written as {id, status, version, reason, review} need not name it.)
  std::vector<std::pair<std::string, schema::Value>> stored = {};
};

struct PushResponse {
  std::string batch_key;
  std::vector<ChangeResult> results;  // one per change, in request order
};

struct PulledRecord {
  std::string table;
  schema::Record record;  // full state at record.version
  // Its digests (sync::DigestsOf), when the thread that decoded the page computed them; not on the
  // wire.
  std::optional<StoredDigests> digests = std::nullopt;
};

// A record that left the device's scope (its case moved to another territory).
struct Removal {
  std::string table;
  std::string record_id;
  int64_t seq = 0;
  // The declared territory the record went to (a case moved there, its follow-ups with it); empty
  // when it left otherwise (merged away, erased…) or the centre does not say (kFeatureRemovedTo).
  // Initialised so that a removal written {table, id, seq} needs no fourth member.
  std::string to = {};
  // The record was erased at its person's request (docs/PROTOCOL.md, "Erasure"): the device erases
  // it with everything it holds about it, rather than only dropping it.
  bool erased = false;
};

// A conflict that central staff must settle (or just settled), as devices of its record's scope see
// it: opened when a device's value could not be merged (kind "field") or a new case looks like an
// existing person (kind "duplicate"). `seq` is the sequence at which it was opened or settled.
struct ConflictNotice {
  int64_t id = 0;
  std::string kind;    // "field" or "duplicate"
  std::string status;  // "open" or "settled"
  std::string table;
  std::string record_id;
  std::string field;     // kind field
  std::string other_id;  // kind duplicate: the existing case it resembles
  schema::Value base_value, server_value, device_value;
  std::string device;         // the device whose value was held for review
  std::string server_device;  // the device that wrote the server's value
  schema::Value settled_value;
  std::string settlement;  // "server", "device", "value", "merged", "dismissed"
  int64_t seq = 0;
};

// One page of pull. Invariant: every change with since < seq <= next that the device may see is in
// `records` (at its latest version) or `removed`; the device stores `next` as its new cursor in the
// same transaction that applies the page.
struct PullPage {
  int64_t since = 0;
  int64_t next = 0;
  bool more = false;
  std::vector<PulledRecord> records;
  std::vector<Removal> removed;
  std::vector<ConflictNotice> conflicts;  // opened or settled with since < seq <= next, in scope
  // On the last page (more = false) of a pull: the digest of every record in the device's scope as
  // of `next`, for the divergence check (sync/digest.h). Absent when the centre cannot vouch for
  // one (e.g. changes after `next` were already committed when the page was read).
  std::optional<ScopeDigest> digest;
  // The centre's wall clock when it answered (ms since the epoch; 0: not sent). A device folds it
  // into its hybrid logical clock, so that its next stamps come after what it has seen even when its
  // own clock is behind, and tells the user when its clock is far off.
  int64_t now_ms = 0;
};

const char* ToString(ChangeStatus s);
const char* ToString(Op op);

}  // namespace relais::sync
