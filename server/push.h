// The push rules of the central store, written once over small transactional primitives so that
// every store (SQLite today, PostgreSQL later) applies exactly the same decisions: scope, dedupe,
// create, three-way merge, history, conflicts, scope exits, idempotent batches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "schema/model.h"
#include "server/decoded_push.h"
#include "server/record_stamps.h"
#include "server/store.h"
#include "sync/merge.h"
#include "sync/protocol.h"

namespace relais::server {

// A merge leaves the absorbed case as a redirect (`merged_into`) to a survivor that may itself have
// been merged since; whoever follows the chain stops after this many hops (a longer one is a bug).
inline constexpr int kMaxMergeRedirects = 16;

// A record as the central store keeps it: the data, plus what the authority needs.
struct StoredRecord {
  schema::Record record;                 // id, version (= seq of its last change), values
  RecordStamps stamps;                   // the HLC of each field's last write (mutable tables)
  std::optional<std::string> territory;  // the territory that scopes it; nullopt when shared
  std::string last_device;               // name of the device that wrote its last change
  // The id of the device whose change made the record exactly what it is at this version, taken as
  // that device sent it (its row equals this record), or nullopt. That device's pulls may leave the
  // record out (docs/PROTOCOL.md, "Echo"). Any write by another rule must clear it: a copy of a
  // record that is written back with new values or a new version resets it.
  std::optional<int64_t> echo_device;
  // The sequence of the record's last row in history: where a walk of its versions starts
  // (HistoryEntry::prev_seq). Equal to the version unless the record was moved with its case
  // since (MoveScope changes a follow-up's version, not its values). Whoever writes a history
  // row for the record sets it to that row's seq.
  std::optional<int64_t> history_seq;
};

// The answer stored for a batch key.
struct StoredBatch {
  std::string request_hash;
  std::string response_json;
};

// The answer a change was given when it was taken, kept under its device and change id (table
// `change_outcomes`), and the digest of its content (sync::ChangeDigest); nullopt for outcomes
// kept before digests were, which are known by their id only.
struct ChangeOutcome {
  std::optional<std::string> digest;
  sync::ChangeResult result;  // status, version and review fields (its change_id is left empty)
};

// A device's note, before its push, that it pushes back a record (op "create") or a version of it
// (op "update") the centre lost in a restore (CentralStore::NoteRecovery).
struct RecoveryClaim {
  int64_t id = 0;  // the row of recoveries
  std::string table;
  std::string record_id;
  std::string op;
};
struct RecoveryClaims {
  int64_t epoch_seq = 0;  // the last sequence the restored centre vouches for
  std::string epoch_at;   // when the epoch began (IsoTimestamp)
  std::vector<RecoveryClaim> claims;
};

// One history row as the chain of a record's versions links it.
struct HistoryLink {
  std::optional<int64_t> prev_seq;
  std::string snapshot;  // sync::EncodeRecordValues
};

// The primitives a store offers inside ONE open write transaction. Every call sees the writes
// made before it in the same transaction. Not thread-safe: one transaction, one thread. Any
// failure returned makes the caller abandon (roll back) the whole transaction.
class CentralTx {
 public:
  virtual ~CentralTx() = default;

  virtual Result<std::optional<StoredRecord>> GetRecord(const schema::Table& table, const std::string& id) = 0;
  // Inserts the record or replaces every column of it. A case also keeps its identity key
  // (CaseIdentityKey of its values), so that FindCasesByIdentity sees every case as written.
  virtual Status PutRecord(const schema::Table& table, const StoredRecord& record) = 0;
  // Inserts the record as PutRecord does, unless a record of the table has its id: then writes
  // nothing and answers false. A create asks once, where a read before the write would look for
  // the id in the same index twice.
  virtual Result<bool> InsertRecord(const schema::Table& table, const StoredRecord& record) = 0;
  // Ids of the cases not merged into another whose identity key is `key`, the earliest opened
  // first (opened_on, then id).
  virtual Result<std::vector<std::string>> FindCasesByIdentity(const std::string& key) = 0;
  // The next global sequence number. Numbers are never given twice, even across a rollback of a
  // later transaction (a rolled-back number may be reused, which nobody has seen).
  virtual Result<int64_t> NextSeq() = 0;
  // Gives back `seq`, the number NextSeq() returned last, unused: the next call returns it again.
  virtual void ReturnSeq(int64_t seq) = 0;
  // The greatest sequence number given so far: the store's before this transaction, or the last
  // NextSeq() answered.
  virtual int64_t LastSeq() const = 0;
  virtual Status AppendHistory(const HistoryEntry& entry) = 0;
  // Records a new open conflict (kind, table, record, field or other id, values, opened_seq…).
  virtual Status OpenConflict(const Conflict& conflict) = 0;
  // The conflict `id` as stored (its `territory` is the one recorded when it was opened).
  virtual Result<std::optional<Conflict>> GetConflict(int64_t id) = 0;
  // Writes the settlement of `conflict.id`: status, settled_seq, settled_at, settled_by,
  // settled_value and settlement.
  virtual Status SettleConflict(const Conflict& conflict) = 0;
  // `record_id` left `territory` at `seq`; `to`: the territory it went to (a case moved, its
  // follow-ups with it), nullopt when it left otherwise (moved to the survivor of a merge).
  virtual Status AddScopeExit(int64_t seq, const std::string& table, const std::string& record_id,
                              const std::string& territory, const std::optional<std::string>& to) = 0;
  // The territories `record_id` left (its scope exits) at a sequence number after `after_seq`.
  virtual Result<std::vector<std::string>> ExitsAfter(const std::string& record_id, int64_t after_seq) = 0;
  // Ids of the records of `table` that follow case `case_id` (scope kParentCase: its follow-up
  // entries, its referrals); none for another table.
  virtual Result<std::vector<std::string>> ChildrenOfCase(const schema::Table& table, const std::string& case_id) = 0;
  // Sets the territory and version of a record without touching its values (a follow-up moving
  // with its case), and clears its echo_device.
  virtual Status MoveRecord(const schema::Table& table, const std::string& id, const std::string& territory,
                            int64_t version) = 0;
  // What the push rules need to know of territory `code` when a device moves a case there from
  // outside its own territories: whether it is declared, and whether such a move waits for
  // central staff (TransferPolicy::kReview).
  struct TransferRule {
    bool declared = false;
    bool review = false;
  };
  virtual Result<TransferRule> RuleForTransfer(const std::string& code) = 0;
  // The reception points declared for territory `code`, in byte order (none: any point is taken,
  // docs/SERVER.md, "Territories").
  virtual Result<std::vector<std::string>> ReceptionPointsOf(const std::string& code) = 0;
  // What the change `change_id` of device `device_id` answered when it was taken, if it was.
  virtual Result<std::optional<ChangeOutcome>> FindChangeOutcome(int64_t device_id, const std::string& change_id) = 0;
  // Keeps the answer `result` (applied, merged or review) to the change of device `device_id` whose
  // content has the digest `digest` (sync::ChangeDigest), for the replays of that change.
  virtual Status SaveChangeOutcome(int64_t device_id, const sync::ChangeResult& result, std::string_view digest) = 0;
  // The recovery claims of device `device` in the centre's current epoch not used yet (table
  // recoveries, lost_version set: docs/PROTOCOL.md, "Centre identity"), with the epoch's start.
  virtual Result<RecoveryClaims> RecoveryClaimsOf(const std::string& device) = 0;
  // Marks the claim `claim_id` used by the change given version `seq`.
  virtual Status UseRecoveryClaim(int64_t claim_id, int64_t seq) = 0;
  // The history row of sequence `seq` (its link to the record's row before, and its snapshot);
  // nullopt when there is none.
  virtual Result<std::optional<HistoryLink>> HistoryAt(int64_t seq) = 0;
  // The day (YYYY-MM-DD) the record `record_id` was erased with its person (server/erasure.h), or
  // nullopt when it was not.
  virtual Result<std::optional<std::string>> ErasedOn(const std::string& record_id) = 0;
  virtual Result<std::optional<StoredBatch>> FindBatch(int64_t device_id, const std::string& batch_key) = 0;
  virtual Status SaveBatch(int64_t device_id, const std::string& batch_key, const StoredBatch& batch,
                           const std::string& created_at) = 0;
};

// The normalised identity of a case: FoldForMatch(last_name) "|" FoldForMatch(first_name) "|"
// birth_date, or nullopt when the birth date is unknown (names alone are too common to flag).
// Two cases with the same key are probably the same person (docs/SCHEMA.md, "Duplicates").
std::optional<std::string> CaseIdentityKey(const std::vector<schema::Value>& case_values);

// How far ahead of the centre's clock a device's stamp may be. Devices' clocks drift and NTP is not
// everywhere: within this, a stamp is taken as it is. Beyond it (a laptop whose date is a month
// ahead) the stamp is clamped to the centre's time, or it would win every last-writer-wins
// comparison until that date (docs/PROTOCOL.md, "Clocks").
inline constexpr int64_t kMaxFutureSkewMs = 5 * 60 * 1000;

// A stamp for a change made by the centre at `now_ms`, later than every stamp in `stamps`, so that
// a settlement wins over the writes it settles and loses to later ones (node "central").
std::string CentralStamp(int64_t now_ms, const sync::FieldStamps& stamps);

// The record `record_id` of `table` (scoped by its own territory) left `old_territory` for
// `new_territory`: a scope exit for it in the old territory; when it is a case, each follow-up
// takes the new territory with a new version and leaves a scope exit of its own, so that devices
// of the old territory remove them and devices of the new one pull them.
Status MoveScope(CentralTx& tx, const schema::Table& table, const std::string& record_id,
                 const std::string& old_territory, const std::string& new_territory);

// Applies `push` from `device` through `tx` (the caller commits on success, rolls back on
// failure). Per change, in request order:
//  1. a change id this device had taken before (applied, merged or review) gets its first answer
//     again (status, version, review fields) when its content is the same (its digest); with other
//     content the whole push fails with kConflict, naming the change (ReusedChangeId).
//     Change ids are the device's: another device's change of the same id is another change;
//  2. scope: a case must be (for an update: currently be) in the device's territories, a follow-up
//     must name a known case in scope; contacts are shared. Out of scope, unknown record, a create
//     of an existing id or a record that would fail validation: `rejected` with a reason, nothing
//     changed, and the rest of the batch still applies (a create the decoder validated is not
//     checked again);
//  3. a create takes the next sequence number as its version, with every set field stamped. A case
//     whose identity key matches a case not merged into another opens a conflict of kind
//     `duplicate` (record = the new case, other = the earliest opened match) at the same sequence
//     number; the create is applied all the same;
//  4. an update is merged with sync::MergeUpdate. It takes a new sequence number and a history row
//     when a value changed, a value lost a last-writer-wins comparison (kept in `lost`) or a field
//     went to review (the device's value kept in an open conflict), so that the device pulls the
//     server's settled record back. An update that changes nothing keeps the version;
//  5. a case whose territory changes leaves a scope exit (for it and each follow-up) in the old
//     territory, and its follow-ups take the new territory with a new version.
// The answer is saved under the batch key with the push's hash: the same key and hash replay it
// verbatim, the same key with another hash fails with kConflict.
// A stamp more than kMaxFutureSkewMs ahead of `now_ms` is first clamped: to `now_ms` (or just after
// the batch's previous stamp, so that the batch keeps its order), with the device's node, and
// counted in PushReply::clamped.
Result<PushReply> PushBatch(CentralTx& tx, const Device& device, const DecodedPush& push, int64_t now_ms);

// The id of the change whose id PushBatch found reused for another change, from its error (empty
// for any other error). The endpoint answers it 409 with the code kChangeIdReusedCode.
std::string ReusedChangeId(const Error& error);
// The kConflict error of a change id reused for another change (ReusedChangeId reads it back).
Error ChangeIdReused(std::string_view change_id);

}  // namespace relais::server
