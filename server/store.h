// server/ — the central endpoint: the store that is the authority over every record, the push and
// pull rules it enforces (server/push.h, sync/merge.h), device enrolment and the HTTP API
// (server/http.h). It uses sync/ and schema/; nothing of Relais uses server/.
//
// This header is the central store's contract, independent of the database that keeps it. Its logic
// is written once over a small SQL interface (server/sql_store.h, server/sql_conn.h); each database
// keeps only what is its own: the embedded SQLite store (server/sqlite_store.h) and the PostgreSQL
// store (server/pg_store.h). Every implementation must be thread-safe: the HTTP server calls it
// from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "schema/model.h"
#include "server/decoded_push.h"
#include "stats/engine.h"
#include "sync/protocol.h"

namespace relais::server {

// `device`: a counsellor's laptop or a reception point; it pushes and pulls. `staff`: central staff
// settling conflicts through the staff API (docs/PROTOCOL.md, "Staff API"); it may not push or
// pull. Both are scoped by their territories.
enum class Role { kDevice, kStaff };
const char* ToString(Role role);

// An authenticated device, as the push and pull rules see it.
struct Device {
  int64_t id = 0;
  std::string name;
  Role role = Role::kDevice;
  std::vector<std::string> territories;  // sorted, never empty
  // The greatest `since` the device has pulled from: it holds every change up to it. Kept best
  // effort (a busy centre may skip the write), so it may lag, never lead (docs/PROTOCOL.md, "Work on
  // a case that left the device's territories").
  int64_t pulled_to = 0;

  bool InScope(std::string_view territory) const;
  // "corse-bastia, corse-ajaccio": for reasons shown to people.
  std::string TerritoryList() const;
};

// A territory of the network, declared at the centre (docs/SERVER.md, "Territories"). Cases and
// devices carry its code, which never changes; a rename changes the label people read.
struct Territory {
  std::string code;
  std::string label;                          // French
  std::vector<std::string> reception_points;  // names, in byte order
};

// What the network does with a case that a device moves out of its own territories (a transfer):
// kAllow applies it, kReview holds it for central staff as a conflict on the field `territory`.
enum class TransferPolicy { kAllow, kReview };
const char* ToString(TransferPolicy policy);

// The territories declared at the centre, in code order, and the transfer policy.
struct Network {
  std::vector<Territory> territories;
  TransferPolicy transfers = TransferPolicy::kAllow;

  const Territory* Find(std::string_view code) const;
};

// A device as the operator lists it. Never holds the token or its hash.
struct DeviceInfo {
  std::string name;
  Role role = Role::kDevice;
  std::vector<std::string> territories;
  std::string created_at;                   // ISO 8601 UTC
  std::optional<std::string> last_seen_at;  // last authenticated request, to the minute
  std::optional<std::string> revoked_at;
  // Wipe on revocation (docs/SERVER.md, "Tokens: rotation and loss"): when `device revoke --wipe`
  // ordered it, and when the centre first answered the device's token with the order (401
  // revoked_wipe). The device erases its replica on that answer and cannot confirm it afterwards:
  // delivered is the last the centre can know.
  std::optional<std::string> wipe_ordered_at;
  std::optional<std::string> wipe_delivered_at;
  // The last count of changes the device held that the centre had not accepted (header
  // Relais-Pending), and when it said so; nullopt until it reports one.
  std::optional<int64_t> pending_changes;
  std::optional<std::string> pending_reported_at;
};

// What a device says of itself on a request, beside its token (docs/PROTOCOL.md, "Transport").
struct DeviceReport {
  std::optional<int64_t> pending_changes;  // header Relais-Pending
};

// One version of one record: the state after an accepted change (schema table `history`).
struct HistoryEntry {
  int64_t seq = 0;  // the record's version after the change
  std::string table;
  std::string record_id;
  std::string device;  // name of the device that wrote it
  std::string hlc;
  std::optional<std::string> change_id;
  std::string at;                   // server time, ISO 8601 UTC
  std::string snapshot;             // JSON object of the record (sync::EncodeRecordValues)
  std::optional<std::string> lost;  // JSON {"field": {"value", "device", "hlc"}} of values that lost
  // The record's row before this one in history (its StoredRecord::history_seq before the
  // change); nullopt for its first. CentralStore::History walks these links from the record's row.
  std::optional<int64_t> prev_seq;
};

// A value the rules could not settle, or a probable duplicate (schema table `conflicts`). Both
// sides are kept until central staff settle it.
struct Conflict {
  int64_t id = 0;
  std::string kind = "field";   // field | duplicate
  std::string status = "open";  // open | settled
  std::string table;
  std::string record_id;                // kind duplicate: the case created last
  std::optional<std::string> field;     // kind field
  std::optional<std::string> other_id;  // kind duplicate: the existing case it resembles
  // The territory of the record now (a case may have moved since the conflict was opened); for a
  // duplicate also the other case's. nullopt for shared records.
  std::optional<std::string> territory;
  std::optional<std::string> other_territory;
  schema::Value base_value;
  schema::Value server_value;
  std::string server_device;
  std::string server_hlc;
  schema::Value device_value;
  std::string device;
  std::string device_hlc;
  std::string change_id;
  int64_t opened_seq = 0;
  std::string opened_at;
  // Once settled: the sequence number of the settlement, who, when, how and the value kept (for
  // a merge, the surviving case's id).
  std::optional<int64_t> settled_seq;
  std::optional<std::string> settled_at;
  std::optional<std::string> settled_by;
  schema::Value settled_value;
  std::optional<std::string> settlement;  // server | device | value | merged | dismissed
};

// Which conflicts CentralStore::Conflicts lists.
struct ConflictFilter {
  std::optional<std::string> status = "open";  // nullopt: any status
  std::optional<std::string> record_id;
  std::optional<std::string> territory;  // the record's current territory
  // Only conflicts whose record lies in one of these territories (or is shared); nullopt: all.
  std::optional<std::vector<std::string>> scope;
  size_t limit = 1000;
};

// How central staff settle a field conflict.
struct Decision {
  enum class Keep { kServer, kDevice, kValue };
  Keep keep = Keep::kServer;
  schema::Value value;  // for kValue; validated against the field
};

// The answer to a push, and the exact JSON that was (or will be) sent for it.
struct PushReply {
  sync::PushResponse response;
  std::string json;       // sync::EncodePushResponse(response), stored verbatim for retries
  bool replayed = false;  // the batch key was seen before: this is the stored answer
  int64_t clamped = 0;    // stamps from too far in the future, brought back to the centre's time
};

// Who the centre is and where its history stands (docs/SERVER.md, "Restoring from a backup").
struct CentreIdentity {
  std::string store_id;                 // drawn when the store was made; a restored backup keeps it
  int64_t epoch = 1;                    // one more at each restore
  int64_t epoch_seq = 0;                // the sequence the store was at when the epoch began
  std::optional<std::string> epoch_at;  // when it began; nullopt for the first
  int64_t seq = 0;                      // the last sequence number given
};

// A record a device held and pushed back after a restore, as the device reports it.
struct RecoveredRecord {
  std::string table;
  std::string record_id;
  std::string op;  // "create": the record was lost; "update": a version of it was
  // The version the device held, one the centre lost; 0 when the device did not say (a client
  // older than the claim). With it, the note is a recovery claim (CentralTx::RecoveryClaims).
  int64_t version = 0;
};

// One row of `relais-central recovered`.
struct RecoveryNote {
  std::string at;
  std::string device;
  int64_t epoch = 0;  // the epoch the records were pushed back into
  RecoveredRecord record;
  std::optional<int64_t> applied_seq;  // the version its claim's change was given (recoveries.used_seq)
};

// The receipt of a person's erasure (table erasures; docs/SERVER.md, "Erasing a person"). It names
// the case by its id only: nothing of the person.
struct Erasure {
  int64_t id = 0;
  std::string case_id;
  std::string at;  // ISO 8601 UTC
  std::string by;  // the staff member or staff token
  std::string reason;
  int64_t seq = 0;               // the sequence number of its first removal
  int64_t records = 0;           // records erased: the case and the records linked to it
  std::string source = "staff";  // staff | ledger (replayed after a restore: server/erasure_ledger.h)
  // After the erasure: whether the SQLite store's write-ahead log was emptied (a checkpoint
  // TRUNCATE; false when a reader held it, or on PostgreSQL). Not stored.
  bool wal_truncated = false;
};

// One read of a person's case, or one search, in the access log (docs/PRIVACY.md, "Access log").
// It names the case by its id only, and a search by its result count, never its text.
struct AccessEntry {
  std::string id;      // a UUID: a device's entry is kept once however often it is sent
  std::string at;      // ISO 8601 UTC, when the reading was done
  std::string device;  // the device that read, or "centre"
  std::string reader;  // the system login (device) or staff member (centre) who read
  std::string action;  // server/access_log.h, kAccessActions
  std::optional<std::string> case_id;  // null for a search
  std::optional<int64_t> results;      // a search's result count
};

// Which entries `relais-central access-log` lists: those of one case, or of one device since a day.
struct AccessFilter {
  std::optional<std::string> case_id;
  std::optional<std::string> device;
  std::optional<std::string> since;  // YYYY-MM-DD: entries read on that day or later
};

// The network's retention policy (docs/PRIVACY.md, "Retention"; server/retention.h).
struct RetentionPolicy {
  int64_t closed_after_months = 36;     // at the centre: a case closed longer is erased
  int64_t device_closed_after_days = 90;  // on devices: a case closed longer leaves the replica
};

// A closed case, as retention finds it.
struct ClosedCase {
  std::string case_id;
  std::string closed_on;  // YYYY-MM-DD
};

// How a command opens a store.
enum class OpenMode {
  kCreate,    // create the store's tables when missing (serve, device add)
  kExisting,  // fail with kNotFound when there is no store yet (list, revoke, history, conflicts)
};

// The central store: the authority over every record, as the HTTP API and `relais-central` use it.
class CentralStore {
 public:
  virtual ~CentralStore() = default;

  // OK when the store answers a read.
  virtual Status Health() = 0;

  // The centre's identity and the epoch of its history, read in one snapshot.
  virtual Result<CentreIdentity> Identity() = 0;
  // Begins a new epoch: the store was restored from a backup. `seen`, when a device gives evidence
  // (its cursor ahead of the sequence it saw): the epoch the device saw and that sequence; when
  // another epoch has begun since (another device's evidence), nothing changes. The new epoch
  // starts at the lower of the sequence seen and the store's. Returns the identity after.
  struct EpochEvidence {
    int64_t epoch = 0;
    int64_t seq = 0;
  };
  virtual Result<CentreIdentity> BeginEpoch(std::optional<EpochEvidence> seen) = 0;
  // Notes what `device` pushed back after a restore (table recoveries), in one transaction.
  virtual Status NoteRecovery(const Device& device, const std::vector<RecoveredRecord>& records) = 0;
  // The notes, latest first, at most `limit`.
  virtual Result<std::vector<RecoveryNote>> Recoveries(size_t limit) = 0;

  // Enrols a device and returns its token, in clear, this once: only its SHA-256 is kept.
  // kValidation for an empty or malformed name or territory, or a name already enrolled. A
  // territory not declared yet is declared in the same transaction, labelled with its code.
  virtual Result<std::string> AddDevice(const std::string& name, const std::vector<std::string>& territories,
                                        Role role) = 0;
  virtual Result<std::vector<DeviceInfo>> ListDevices() = 0;
  // kNotFound for an unknown name. Revoking twice is not an error. With `wipe`, the device is also
  // ordered to erase its replica at its next contact; a wipe order, once given, is never taken back
  // (a later revoke without `wipe` leaves it).
  virtual Status RevokeDevice(const std::string& name, bool wipe) = 0;
  Status RevokeDevice(const std::string& name) { return RevokeDevice(name, /*wipe=*/false); }
  // The device holding `token`. kAuth for an unknown or revoked token (one message for both, so a
  // caller learns nothing), except a token whose device was revoked with a wipe order: kWipeOrdered,
  // and the first such answer is recorded (DeviceInfo::wipe_delivered_at). Records the time the
  // device was last seen, and `report` (best effort, like that time: written when it changed or at
  // most once a minute, skipped when the store is busy writing).
  virtual Result<Device> Authenticate(std::string_view token, const DeviceReport& report) = 0;
  Result<Device> Authenticate(std::string_view token) { return Authenticate(token, DeviceReport{}); }

  // The declared territories and the transfer policy, read in one snapshot.
  virtual Result<Network> GetNetwork() = 0;
  // Declares a territory. kValidation for a malformed code, an empty label or reception point, or
  // a code already declared. On failure nothing changes.
  virtual Status AddTerritory(const Territory& territory) = 0;
  // Gives a declared territory a new label; its code, what cases carry, stays. kNotFound for an
  // unknown code, kValidation for an empty label.
  virtual Status RenameTerritory(const std::string& code, const std::string& label) = 0;
  // Adds the reception points `add` to the declared territory `code` (adding one it has is not an
  // error) and removes the points `remove` (kNotFound for one it does not have), in one
  // transaction: on failure nothing changes. Cases that carry a removed point keep it; only the
  // writes after it are checked (docs/SERVER.md, "Territories"). kNotFound for an unknown code,
  // kValidation for an empty or multi-line name.
  virtual Status EditReceptionPoints(const std::string& code, const std::vector<std::string>& add,
                                     const std::vector<std::string>& remove) = 0;
  virtual Status SetTransferPolicy(TransferPolicy policy) = 0;

  // Applies a batch in one transaction by the rules of server/push.h and answers each change's
  // fate. Idempotent: the same (device, batch key) with the same hash (DecodedPush::hash) gets the
  // stored answer, verbatim, and applies nothing again; with another hash it fails with kConflict.
  // On failure nothing is applied.
  virtual Result<PushReply> Push(const Device& device, const DecodedPush& push) = 0;

  // The records and removals after `since` that `device` may see, in sequence order, at most
  // `limit` of them, read in one snapshot. See sync::PullPage for the cursor invariant. With
  // `without_echo`, the records the device holds as they are (StoredRecord::echo_device is its id)
  // are left out of the page, though they count in `limit` and `next` passes them.
  virtual Result<sync::PullPage> Pull(const Device& device, int64_t since, size_t limit, bool without_echo) = 0;

  // The digest of every record `device` may see (sync/digest.h), read in one snapshot, and the last
  // sequence number of that snapshot: it vouches for a replica that pulled exactly up to `at`.
  struct ScopeDigestAt {
    int64_t at = 0;
    sync::ScopeDigest digest;
  };
  virtual Result<ScopeDigestAt> Digest(const Device& device) = 0;

  // Every version of a record, oldest first. An empty `table` searches every table.
  virtual Result<std::vector<HistoryEntry>> History(std::string_view table, std::string_view record_id) = 0;

  // The records of a synced table as the centre holds them, at most `limit` (0: all), by id: what
  // staff list (`relais-central permanences list`).
  virtual Result<std::vector<schema::Record>> Records(const schema::Table& table, size_t limit) = 0;
  // The records of `table` whose declared field `field` holds `value` (a case's follow-ups: field
  // "case_id"), by id. kInternal for a field the table does not declare.
  virtual Result<std::vector<schema::Record>> RecordsWhere(const schema::Table& table, std::string_view field,
                                                           const std::string& value) = 0;

  // The statistics of `query` over every record the centre holds (query.territory narrows them),
  // read in one snapshot (stats::Compute; docs/STATISTICS.md). kUsage for a bad query.
  virtual Result<stats::StatsTable> Stats(const stats::Query& query) = 0;
  // Gives `use` the store as the statistics engine reads it, in one snapshot (the annual report's
  // tables all count the same records). Returns what `use` returns.
  virtual Status ReadForStats(const std::function<Status(stats::Database&)>& use) = 0;

  // Conflicts, oldest first.
  virtual Result<std::vector<Conflict>> Conflicts(const ConflictFilter& filter) = 0;
  // One conflict; kNotFound for an unknown id.
  virtual Result<Conflict> GetConflict(int64_t id) = 0;
  // The territory that scopes a record now (nullopt for a shared record), and its table.
  // kNotFound when no table holds `record_id`.
  struct Placement {
    std::string table;
    std::optional<std::string> territory;
  };
  virtual Result<Placement> Locate(std::string_view record_id) = 0;

  // Settlements, by the rules of server/settle.h, each in one transaction; `by` names the person
  // or staff token. They return the settled conflict. kNotFound (unknown id), kConflict (already
  // settled, or a merge that no longer makes sense), kUsage (wrong kind of conflict, unknown
  // field), kValidation (a value that fails the schema); on failure nothing changes.
  virtual Result<Conflict> Resolve(int64_t id, const Decision& decision, const std::string& by) = 0;
  virtual Result<Conflict> Merge(int64_t id, const std::vector<std::string>& take, const std::string& by) = 0;
  virtual Result<Conflict> Dismiss(int64_t id, const std::string& by) = 0;

  // Erases the person of case `case_id` (server/erasure.h says what goes and what stays), in one
  // transaction, and leaves the receipt. `by`: who asked; `source`: "staff", or "ledger" for an
  // erasure replayed from the ledger, which records a case the store does not hold (a backup older
  // than the case) so that a later push of it is refused. kNotFound (no such case), kConflict
  // (already erased), kUsage (a case merged into another: erase the survivor), kValidation (an
  // empty reason); on failure nothing changes.
  virtual Result<Erasure> ErasePerson(const std::string& case_id, const std::string& reason, const std::string& by,
                                      const std::string& source) = 0;
  // The receipts, oldest first.
  virtual Result<std::vector<Erasure>> Erasures() = 0;

  // Keeps `entries` in the access log, each once: an id already held is skipped (a device that
  // resends after a cut sync). Answers how many were new.
  virtual Result<int64_t> RecordAccess(const std::vector<AccessEntry>& entries) = 0;
  // The entries `filter` selects, oldest first.
  virtual Result<std::vector<AccessEntry>> AccessLog(const AccessFilter& filter) = 0;
  // Logs that staff member `reader` read record `record_id` of `table` (`action`: server/
  // access_log.h, kCentreAccessActions), now, under the case the record is about; nothing for a
  // record about no case (a contact).
  virtual Status NoteStaffRead(const std::string& reader, std::string_view action, const std::string& table,
                               const std::string& record_id) = 0;

  // The retention policy (server/retention.h), and its change (kValidation out of bounds).
  virtual Result<RetentionPolicy> Retention() = 0;
  virtual Status SetRetention(const RetentionPolicy& policy) = 0;
  // The cases closed before `day`, oldest closure first, merged ones left out.
  virtual Result<std::vector<ClosedCase>> ClosedBefore(const std::string& day) = 0;
};

}  // namespace relais::server
