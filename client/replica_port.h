// The replica as the sync engine reaches it (sync::ReplicaPort, sync/ports.h), over the client's
// SQLite replica; and what the sync keeps in the replica for the commands (its state keys, the
// conflict notices pulled).
#pragma once

#include <functional>
#include <optional>
#include <unordered_map>

#include "client/replica.h"
#include "sync/ports.h"

namespace relais::client {

// SQL expressions over a row of `outbox`: the case the entry concerns, its id and the person's
// names ("Girard Maël"), as recorded when the centre refused it or, before that, as the replica
// holds them now; NULL when unknown (a contact, a case this replica never held).
const std::string& OutboxCaseIdSql();
const std::string& OutboxCaseNameSql();

// sync::ReplicaPort over a Replica: batches formed from the outbox, answers applied to it, pulled
// pages applied with the cursor. Every method is one transaction.
// Not thread-safe, like the Replica, which must outlive it.
class SqliteReplicaPort final : public sync::ReplicaPort {
 public:
  explicit SqliteReplicaPort(Replica& replica) : replica_(replica) {}

  // A formed batch stops before its values pass this many bytes (it always holds one change): the
  // count of changes per batch bounds little when a follow-up may hold 20,000 bytes of text, and
  // `relais sync` must stay within its memory whatever the backlog holds.
  static constexpr size_t kMaxBatchValueBytes = 4 << 20;

  Result<std::optional<sync::PushRequest>> UnacknowledgedBatch() override;
  Result<std::optional<sync::PushRequest>> FormBatch(size_t max_changes) override;
  // In named steps: the batch's entries read (BatchEntries), matched to the answer
  // (sync::MatchAnswer), each answered entry settled (an accepted create or an applied update gives
  // its row the centre's version: GiveCentreVersion; a refused change stays, rejected with the
  // reason: KeepRejected), the entries the answer did not mention released to pending
  // (ReleaseEntries), and what is left under the batch's key, the accepted, dropped (DropAccepted).
  Status AcknowledgeBatch(const sync::PushRequest& request, const sync::PushResponse& response) override;
  Status RejectChange(const std::string& batch_key, const std::string& change_id, const std::string& reason) override;
  Result<int64_t> PullCursor() override;
  // Also upserts the page's conflict notices (a later state replaces an earlier one, never the
  // reverse) and drops those of records that leave the device's scope, in the same transaction.
  Status ApplyPage(const sync::PullPage& page) override;
  Result<int64_t> PendingCount() override;
  // The records the centre has accepted: every row but those whose create is still in the outbox.
  // A record with local changes counts as the centre holds it: its digest as last pulled
  // (central_digests) when that is of its version, else its row with the base values of its
  // changes in place of theirs. A record whose digests were kept when it was pulled (its
  // digest_version is its version) counts by them, without a hash; each call checks one bucket of
  // those against their rows (kDigestChecksPerSync), and a row that differs counts as it is.
  // Writes its turn (kStateDigestCheckRound).
  Result<sync::ScopeDigest> LocalDigest() override;

  // A record whose row no longer gives the digest kept for it (altered on disk since it was pulled).
  struct AlteredRecord {
    std::string table;
    std::string id;
  };
  struct FullCheck {
    sync::ScopeDigest digest;  // as LocalDigest, every row hashed from its values
    int64_t records = 0;       // rows read (the records the centre has accepted)
    std::vector<AlteredRecord> altered;
  };
  // Called with (rows read, rows in all) at the start, every kCheckProgressEvery rows, and at the end.
  using CheckProgress = std::function<void(int64_t, int64_t)>;
  static constexpr int64_t kCheckProgressEvery = 2000;
  // `relais verify`: LocalDigest with every kept digest checked against its row, not one bucket.
  // The altered records are listed, and their kept digests dropped in the same transaction, so that
  // they count as they are from now on: the next comparison with the centre finds them, and the
  // sync repairs them by a fresh copy. Leaves LocalDigest's turn as it was.
  Result<FullCheck> CheckEveryRecord(const CheckProgress& progress);
  Result<std::vector<std::string>> Orphans() override;
  // The fresh copy is staged in a temporary table of this connection (gone if the process dies:
  // the next sync starts the check again).
  Status BeginFreshCopy() override;
  Status StageFreshPage(const sync::PullPage& page) override;
  Status SwapInFreshCopy(int64_t cursor) override;
  Result<sync::CentreIdentity> KnownCentre() override;
  Status RememberCentre(const sync::CentreIdentity& centre) override;
  Result<int64_t> SwapInPushingBack(int64_t cursor, int64_t lost_after, const sync::CentreIdentity& centre) override;
  Result<std::optional<std::string>> RecoveryNote() override;
  Status ClearRecoveryNote() override;
  Result<std::optional<sync::AccessLogChunk>> NextAccessLog(size_t limit) override;
  Status ForgetAccessLog(int64_t last_seq) override;
  Result<int64_t> ObserveCentralClock(int64_t central_ms) override;
  // client/purge.h, PurgeClosedCases.
  Result<int64_t> PurgeClosedCases(std::optional<int64_t> days) override;

  // A case this port's pulls took off the replica (it left the device's territories), as the
  // replica held it just before.
  struct RemovedCase {
    std::string id;
    std::string name;        // the person's names: "Girard Maël"
    std::string to;          // the declared territory it moved to; empty when the centre did not say
    int64_t followups = 0;   // follow-ups that left with it
    int64_t rejected = 0;    // this replica's changes to it, or to them, that stay here, rejected
  };
  const std::vector<RemovedCase>& removed_cases() const { return removed_cases_; }
  // How many cases this replica held that this port's pulls erased at the centre's request.
  int64_t erased_cases() const { return erased_cases_; }

 private:
  Result<sync::PushRequest> LoadBatch(const std::string& batch_key);
  // SwapInFreshCopy and SwapInPushingBack, inside the caller's transaction: what the replica holds
  // at a version above `lost_after` is pushed back (a line "op table id" added to `note` for each).
  Result<int64_t> SwapIn(int64_t cursor, int64_t lost_after, std::string& note);
  // The fields of `local` (held beyond what the centre vouches for) that differ from `fresh` (the
  // centre's) and carry no local edit yet, written as a pending update based on the centre's.
  Result<bool> PushBackVersion(const schema::Table& table, const schema::Record& local, const schema::Record& fresh);
  // A create of this replica's waiting in no batch, of a record the centre's fresh copy holds
  // (`fresh`): its entry goes and its row takes the centre's version, so that what it holds is
  // pushed back as a version. False when it stays a create (in a batch, or refused).
  Result<bool> TakeBackCreate(const schema::Table& table, const schema::Record& fresh);

  // The steps of AcknowledgeBatch, inside its transaction.
  struct BatchEntries {
    std::vector<int64_t> seqs;            // outbox seq, in outbox order
    std::vector<std::string> change_ids;  // parallel to seqs
  };
  class RowVersions;
  Result<BatchEntries> ReadBatchEntries(const std::string& batch_key);
  // An accepted create, or an update applied as sent, gives its row the centre's version: by the
  // rowid the batch was formed from (`rowid` > 0), the id checked still; else, or when the row
  // moved meanwhile, by its id.
  Status GiveCentreVersion(RowVersions& versions, const sync::Change& change, int64_t version, int64_t rowid);
  // The values the centre answered it holds for the fields of a change it normalised (docs/PROTOCOL.md,
  // "Echo") replace the row's, except for fields edited again since the batch was formed.
  Status TakeStoredValues(const sync::Change& change, const std::string& batch_key,
                          const std::vector<std::pair<std::string, schema::Value>>& stored);
  // A refused change stays in the outbox, rejected with the centre's reason and out of the batch;
  // a refused create keeps its values as sent in its entry, whatever becomes of the row.
  Status KeepRejected(sqlite::Stmt& reject, int64_t seq, const sync::Change* change, const std::string& reason,
                      const std::string& code);
  // The entries at `positions` go back to pending, for a new batch.
  Status ReleaseEntries(const std::vector<int64_t>& seqs, const std::vector<size_t>& positions);
  // What is left under the batch's key is what the centre accepted: gone in one statement (one per
  // entry took a quarter of the acknowledgement). The clock's last stamp is the batch's last.
  Status DropAccepted(const sync::PushRequest& request);
  // Field names that pending or rejected local changes of the record touched.
  Result<std::vector<std::string>> LocalFields(const std::string& table, const std::string& id);
  Status StoreNotice(const sync::ConflictNotice& notice);
  // A record that left the scope (at `seq`): deleted with a case's follow-ups and their notices;
  // its local changes are marked rejected, their values frozen first.
  // `moved`: a removal the centre sent (the record left the scope), named in removed_cases() with
  // `to`, where it went (empty: not said).
  // `keep_pending`: its pending local changes stay pending (a swap after a restore: they are pushed
  // next, and the centre judges them as work on a record the device held), rather than rejected.
  Status ApplyRemoval(const schema::Table& table, const std::string& id, int64_t seq, bool moved = false,
                      bool keep_pending = false, const std::string& to = std::string());
  // A record the centre erased with its person (a removal marked erased): it goes with everything
  // this replica holds about it, kept nowhere: for a case, the records linked to it (follow-ups,
  // visits, appointments: the tables with a `case_id` field); the changes to any of them, pending,
  // refused or given up; the conflict notices and kept digests. Marks the replica for ScrubErased
  // (kStateScrubDue), in the same transaction.
  Status EraseRecord(const schema::Table& table, const std::string& id);
  // Upserts a pulled record, local pending edits kept on top (the centre's digest of it then kept
  // in central_digests: KeepCentralDigest). `forward_only`: a record this replica holds at a later
  // version is refused (kProtocol), not overwritten; a fresh copy, which replaces what the replica
  // holds by what the centre has, passes false.
  // `digested`: the record's digests when the caller has them (sync::DigestsOf), else computed here.
  Status ApplyRecord(const schema::Table& table, const schema::Record& record, bool outbox_empty, bool forward_only,
                     const sync::StoredDigests* digested = nullptr);
  Status KeepCentralDigest(const schema::Record& record);
  // LocalDigest's work: `round` says which bucket of the kept digests is checked against the rows,
  // nullopt every one (CheckEveryRecord, which passes `full` to list the altered rows and count
  // them, and `progress`).
  Result<sync::ScopeDigest> Digest(std::optional<uint64_t> round, FullCheck* full, const CheckProgress* progress);
  // Folds the centre's clock into the replica's, writing the clock's state when it moved.
  Status FoldCentralClock(int64_t central_ms);
  // Freezes every pending create of `record_id` and, for a case, of its follow-ups.
  Status FreezeCreatesUnder(const schema::Table& table, const std::string& record_id);

  // Writes into `request`'s batch the entries of at most `room` creates held by their rows alone,
  // while the batch's values stay within kMaxBatchValueBytes (`bytes` so far, updated), and adds
  // them to `request.changes`.
  Status BatchUnsentCreates(sync::PushRequest& request, size_t room, size_t& bytes);

  Replica& replica_;
  sync::RecordDigester digester_;
  std::vector<RemovedCase> removed_cases_;
  int64_t erased_cases_ = 0;
  // Per table (declaration order): the rowid of the last pending create this port put in a batch.
  // Later ones have larger rowids (a row gets the largest rowid + 1, and rows are removed only by a
  // pull, after the push), so a sync's batches do not scan the rows already sent again. Only a
  // shortcut: a new port (a new sync) starts from the first row.
  std::vector<int64_t> unsent_after_;
  // By batch key, until its answer: the rowid of each change of the batch, by its position in the
  // batch, for the creates this port took from their rows (0 for the others). The accepted
  // create's row takes its version by rowid, not by a search of its id (a sixth of acknowledging a
  // batch of creates). Only a shortcut too: without it, the row is found by id.
  std::unordered_map<std::string, std::vector<int64_t>> batched_rowids_;
};

// Conflict notices the centre sent about this replica's records (table `conflicts`, docs/PROTOCOL.md
// "Conflict notices"), each in its latest known state.
struct ConflictQuery {
  bool settled_too = false;  // false: open ones only
  std::string record_id;     // when set: those whose record (or, for a duplicate, other case) it is
};
// Ordered by id (the order the centre opened them). Errors only on a failure to read the replica.
Result<std::vector<sync::ConflictNotice>> StoredConflicts(Replica& replica, const ConflictQuery& query);

// sync_state keys shared by the sync commands.
inline constexpr const char* kStateServerUrl = "server_url";
// "1" when `relais init --insecure-http` accepted an http:// address to another machine, "0" otherwise.
inline constexpr const char* kStateInsecureHttp = "insecure_http";
inline constexpr const char* kStateToken = "token";
// The PEM file of CA certificates `relais init --ca-file` trusts for this centre; absent: the system's.
inline constexpr const char* kStateCaFile = "ca_file";
inline constexpr const char* kStateDeviceName = "device_name";
inline constexpr const char* kStateTerritories = "territories";
inline constexpr const char* kStateDefaultTerritory = "default_territory";
inline constexpr const char* kStatePullCursor = "pull_cursor";
// "1" from the pull that erased a record until ScrubErased has emptied the free pages and the log.
inline constexpr const char* kStateScrubDue = "erasure_scrub_due";

// Makes what an erasure deleted unreadable in the replica's files: the search index rebuilt (its
// segments kept the deleted words), the file rewritten (VACUUM: no free page keeps old content) and
// the write-ahead log emptied (checkpoint TRUNCATE). Runs when kStateScrubDue says so, then clears
// it; must run outside any transaction. Does nothing otherwise.
Status ScrubErased(Replica& replica);
// LocalDigest's turn: which bucket of the kept digests it checks against the rows next.
inline constexpr const char* kStateDigestCheckRound = "digest_check_round";
// How many kept digests LocalDigest checks against their rows, about, per table and per sync.
inline constexpr uint64_t kDigestChecksPerSync = 4096;
inline constexpr const char* kStateLastSyncAt = "last_sync_at";
inline constexpr const char* kStateHlcLast = "hlc_last";
// The centre followed (docs/PROTOCOL.md, "Centre identity"): its store id and the epoch last seen.
inline constexpr const char* kStateCentreStoreId = "centre_store_id";
inline constexpr const char* kStateCentreEpoch = "centre_epoch";
// What recoveries pushed back and the centre was not told yet: lines "op table id".
inline constexpr const char* kStateRecoveryNote = "recovery_note";
// "1" when the centre's last whoami (at `init`, or at the end of a sync) listed `pending-report`:
// the sync's requests then carry Relais-Pending (docs/PROTOCOL.md, "Transport").
inline constexpr const char* kStateCentreReadsPending = "centre_reads_pending";

}  // namespace relais::client
