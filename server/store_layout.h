// Where each column of the central store sits, built from the schema declaration, and the SQL both
// stores (SQLite, PostgreSQL) generate from it: the record columns, the conflict columns, the pull
// queries. Written once so that the two stores read and write the same tables the same way; what
// differs between the databases' SQL is in SqlDialect (server/sql_conn.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "schema/model.h"
#include "server/push.h"
#include "server/sql_conn.h"
#include "server/store.h"
#include "server/stored_json.h"
#include "sync/digest.h"

namespace relais::server {

// `id`, the data fields in declaration order, `version`, then `stamps` (mutable tables),
// `territory` (tables scoped by their parent case), `last_device`, `echo_device`, `history_seq`,
// `digest_key` and `digest_values` (the record's digests, sync::DigestsOf, kept on write).
struct TableLayout {
  const schema::Table* table = nullptr;
  bool has_stamps = false;
  bool has_territory_column = false;
  std::string columns;
  int version_col = 0;
  int stamps_col = -1;
  int territory_col = -1;
  int last_device_col = 0;
  int echo_device_col = 0;
  int history_seq_col = 0;
  int digest_key_col = 0;
  int digest_values_col = 0;
  int column_count = 0;
  // Cases also keep their identity key (CaseIdentityKey), written after every column of `columns`;
  // it is never read back into a record.
  bool has_identity_key = false;
};

// One layout per schema::Tables(), in the same order.
const std::vector<TableLayout>& Layouts();
const TableLayout& LayoutFor(const schema::Table& table);
size_t TableIndex(const schema::Table& table);

// Shared tables (the partner directory) are not filtered by territory in pull.
inline bool IsScoped(const schema::Table& table) { return table.scope != schema::Scope::kShared; }

// Every column of a conflict (alias `c`), as ReadConflict reads them from its first column on.
// `territory` is the record's territory now (the one recorded at opening when the record is gone).
const std::string& ConflictColumns();

// The statements of a pull, each bound with (1) since, (2) the device's territories as a list
// (SqlDialect::in_list), (3) how many rows at most; each returns rows in sequence order. Records: the columns of
// the table's layout. Exits: seq, tbl, record_id, the territory it went to when that is a declared one
// (else NULL: docs/PROTOCOL.md, `removed`), and 1 when the record was erased (else 0). Conflict events: event_seq then ConflictColumns.
struct PullQueries {
  std::vector<std::string> records;  // parallel to Layouts()
  // For a scoped table, its records in one territory, bound with (2) that territory as text: read
  // in order from the (territory, version) index, where the list form makes SQLite read and sort
  // every record after (1) before it keeps (3). Empty for a shared table. Parallel to Layouts().
  std::vector<std::string> records_in_territory;
  std::string exits;
  std::string opened;
  std::string settled;
};
const PullQueries& PullQueriesFor(const SqlDialect& dialect);

// Every version of one record, oldest first, as ReadHistory reads them: bound with (1) its id and
// (2) its table's name, or '' for whichever table holds it. Walks the chain of history rows
// (prev_seq) from the record's last one (history_seq), each step a lookup by sequence number.
const std::string& HistorySql();

// The statements of the divergence check's digest (CentralStore::Digest), parallel to Layouts(), each
// bound with (1) a device's territories as a list (SqlDialect::in_list). `sums`: one row, over the
// records the device may see whose digests were kept on write: their count, then the sums of the
// high halves (arithmetic shift by 32) and of the low halves (the low 32 bits) of digest_key, then
// of digest_values: sums of 32-bit parts, exact in 64 bits for up to 2^31 records on either
// database, which SumOfHalves folds modulo 2^64. `undigested`: the id, version and field values
// (in declaration order) of the records it may see whose digests are not known (NULL).
struct DigestQueries {
  std::vector<std::string> sums;
  std::vector<std::string> undigested;
};
const DigestQueries& DigestQueriesFor(const SqlDialect& dialect);

// The digests a record is written with (sync::DigestsOf), by a digester of the calling thread.
sync::StoredDigests StoredDigestsOf(const schema::Record& record);

// sum(x >> 32) * 2^32 + sum(x & 0xffffffff), modulo 2^64: the sum of the x modulo 2^64.
inline uint64_t SumOfHalves(int64_t high, int64_t low) {
  return (static_cast<uint64_t>(high) << 32) + static_cast<uint64_t>(low);
}

// Statements both stores run as they are, written in SQLite's syntax (SqlDialect::translate gives
// PostgreSQL's).
namespace sql {
// A change's outcome, known by its device and id (ReadOutcome reads the columns).
inline constexpr const char* kFindChange =
    "SELECT digest, status, version, review, lost FROM change_outcomes WHERE device_id = ?1 AND change_id = ?2";
inline constexpr const char* kSaveChange =
    "INSERT INTO change_outcomes(device_id, change_id, digest, status, version, review, lost) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
inline constexpr const char* kInsertHistory =
    "INSERT INTO history(seq, tbl, record_id, device, hlc, change_id, at, snapshot, lost, prev_seq) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
inline constexpr const char* kInsertConflict =
    "INSERT INTO conflicts(kind, status, tbl, record_id, field, territory, base_value, server_value, "
    "server_device, server_hlc, device_value, device, device_hlc, change_id, opened_seq, opened_at, other_id) "
    "VALUES (?15, 'open', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?16)";
inline constexpr const char* kFindIdentity =
    "SELECT id FROM cases WHERE identity_key = ?1 AND merged_into IS NULL "
    "ORDER BY opened_on COLLATE BINARY, id COLLATE BINARY";
inline constexpr const char* kSettleConflict =
    "UPDATE conflicts SET status = 'settled', settled_seq = ?2, settled_at = ?3, settled_by = ?4, "
    "settled_value = ?5, settlement = ?6 WHERE id = ?1 AND status = 'open'";
inline constexpr const char* kInsertExit =
    "INSERT INTO scope_exits(seq, tbl, record_id, territory, to_territory) VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr const char* kExitsOfRecord = "SELECT territory FROM scope_exits WHERE record_id = ?1 AND seq > ?2";
inline constexpr const char* kFindBatch =
    "SELECT request_hash, response FROM push_batches WHERE device_id = ?1 AND batch_key = ?2";
inline constexpr const char* kSaveBatch =
    "INSERT INTO push_batches(device_id, batch_key, request_hash, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
// The recovery claims of a device (bound as its name) in the current epoch, not used yet: one row
// per claim (id, table, record, op), each with the epoch's epoch_seq and epoch_at; one row of NULLs
// but those two when there is none.
inline constexpr const char* kRecoveryClaims =
    "SELECT r.id, r.tbl, r.record_id, r.op, m.epoch_seq, m.epoch_at FROM meta m LEFT JOIN recoveries r ON "
    "r.device = ?1 AND r.epoch = m.epoch AND r.lost_version IS NOT NULL AND r.used_seq IS NULL WHERE m.id = 1";
inline constexpr const char* kUseRecoveryClaim = "UPDATE recoveries SET used_seq = ?2 WHERE id = ?1";
inline constexpr const char* kHistoryAt = "SELECT prev_seq, snapshot FROM history WHERE seq = ?1";
// RuleForTransfer: bound with (1) a territory code; one row: 1 when declared, and the transfer
// policy (NULL: allow).
inline constexpr const char* kTransferRule =
    "SELECT (SELECT count(*) FROM territories WHERE code = ?1), "
    "(SELECT value FROM network_settings WHERE name = 'transfers')";
// ReceptionPointsOf: bound with (1) a territory code; its reception points' names, one per row.
inline constexpr const char* kReceptionPointsOf =
    "SELECT name FROM reception_points WHERE territory = ?1 ORDER BY name COLLATE BINARY";
inline constexpr const char* kReadSeq = "SELECT last_seq FROM meta WHERE id = 1";
inline constexpr const char* kWriteSeq = "UPDATE meta SET last_seq = ?1 WHERE id = 1";
}  // namespace sql

// The statements of a synced table: read one record, insert or replace one, move one (tables with
// a territory column), in SQLite's syntax; `upsert_tail` turns the insert into a replace in
// PostgreSQL (" ON CONFLICT (id) DO UPDATE SET …").
struct TableStatements {
  std::string get;
  std::string put;  // "INSERT INTO t(columns) VALUES (?1, …)"
  std::string upsert_tail;
  std::string move;
  std::string children;  // tables with a territory column (scope kParentCase): ids of a case's records
};
const TableStatements& StatementsFor(const TableLayout& layout);

// A territory code as `territory add` and enrolment accept it (the rules of the cases' field
// `territory`): OK, or kValidation naming what is wrong.
Status CheckTerritory(std::string_view territory);

// Device names and territories as enrolment accepts them: OK, or kValidation naming what is wrong.
Status CheckEnrolment(const std::string& name, const std::vector<std::string>& territories);
// The refusal of a name already enrolled.
Error NameTaken(const std::string& name);
inline Role RoleFromText(const std::string& text) { return text == "staff" ? Role::kStaff : Role::kDevice; }

// Readers of a result row, for any row type with Text(col), Int(col), Val(col) and IsNull(col)
// (SqlRow, and the hot paths' sqlite::Stmt and pg::Row).
// The record alone (id, values, version), as a pull page sends it: none of what only the
// authority needs (its stamps are JSON to decode, and a page has thousands of rows).
template <class Row>
schema::Record ReadRecord(const TableLayout& l, const Row& s) {
  schema::Record record;
  record.id = s.Text(0);
  record.values.reserve(l.table->fields.size());
  for (size_t i = 0; i < l.table->fields.size(); ++i) record.values.push_back(s.Val(static_cast<int>(i) + 1));
  record.version = s.Int(l.version_col);
  return record;
}

template <class Row>
Result<StoredRecord> ReadStored(const TableLayout& l, const Row& s) {
  StoredRecord r;
  r.record = ReadRecord(l, s);
  if (l.has_stamps) {
    auto stamps = DecodeStamps(s.Text(l.stamps_col));
    if (!stamps) return stamps.error();
    r.stamps = RecordStamps(std::move(*stamps));
  }
  if (l.has_territory_column) {
    r.territory = s.Val(l.territory_col);
  } else if (l.table->scope == schema::Scope::kTerritory) {
    int index = l.table->FieldIndex("territory");
    if (index >= 0) r.territory = r.record.values[static_cast<size_t>(index)];
  }
  r.last_device = s.Text(l.last_device_col);
  if (!s.IsNull(l.echo_device_col)) r.echo_device = s.Int(l.echo_device_col);
  if (!s.IsNull(l.history_seq_col)) r.history_seq = s.Int(l.history_seq_col);
  return r;
}

template <class Row>
Conflict ReadConflict(const Row& s, int first) {
  Conflict c;
  int i = first;
  c.id = s.Int(i++);
  c.kind = s.Text(i++);
  c.status = s.Text(i++);
  c.table = s.Text(i++);
  c.record_id = s.Text(i++);
  c.field = s.Val(i++);
  c.other_id = s.Val(i++);
  c.territory = s.Val(i++);
  c.other_territory = s.Val(i++);
  c.base_value = s.Val(i++);
  c.server_value = s.Val(i++);
  c.server_device = s.Text(i++);
  c.server_hlc = s.Text(i++);
  c.device_value = s.Val(i++);
  c.device = s.Text(i++);
  c.device_hlc = s.Text(i++);
  c.change_id = s.Text(i++);
  c.opened_seq = s.Int(i++);
  c.opened_at = s.Text(i++);
  if (!s.IsNull(i)) c.settled_seq = s.Int(i);
  ++i;
  c.settled_at = s.Val(i++);
  c.settled_by = s.Val(i++);
  c.settled_value = s.Val(i++);
  c.settlement = s.Val(i++);
  return c;
}

// The review fields (or the lost fields) of a ChangeResult as change_outcomes keeps them:
// "field,field", or null.
schema::Value ReviewColumn(const std::vector<std::string>& fields);

// A row of change_outcomes as kFindChange selects it (digest, status, version, review, lost), from
// column `first` on.
template <class Row>
ChangeOutcome ReadOutcome(const Row& s, int first) {
  ChangeOutcome o;
  o.digest = s.Val(first);
  const std::string status = s.Text(first + 1);
  o.result.status = status == "merged"   ? sync::ChangeStatus::kMerged
                    : status == "review" ? sync::ChangeStatus::kReview
                                         : sync::ChangeStatus::kApplied;
  o.result.version = s.Int(first + 2);
  for (auto [column, fields] :
       {std::pair(first + 3, &o.result.review_fields), std::pair(first + 4, &o.result.lost_fields)}) {
    if (s.IsNull(column)) continue;
    const std::string list = s.Text(column);
    for (size_t at = 0; at <= list.size();) {
      const size_t comma = std::min(list.find(',', at), list.size());
      fields->push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
  }
  return o;
}

// Adds a row of sql::kRecoveryClaims to `claims`.
template <class Row>
void AddRecoveryClaimRow(const Row& s, RecoveryClaims& claims) {
  claims.epoch_seq = s.Int(4);
  claims.epoch_at = s.IsNull(5) ? std::string() : s.Text(5);
  if (!s.IsNull(0)) claims.claims.push_back(RecoveryClaim{s.Int(0), s.Text(1), s.Text(2), s.Text(3)});
}

template <class Row>
DeviceInfo ReadDeviceInfo(const Row& s) {
  DeviceInfo d;
  d.name = s.Text(1);
  d.role = RoleFromText(s.Text(2));
  d.created_at = s.Text(3);
  d.last_seen_at = s.Val(4);
  d.revoked_at = s.Val(5);
  d.wipe_ordered_at = s.Val(6);
  d.wipe_delivered_at = s.Val(7);
  if (!s.IsNull(8)) d.pending_changes = s.Int(8);
  d.pending_reported_at = s.Val(9);
  return d;
}

template <class Row>
HistoryEntry ReadHistory(const Row& s) {
  HistoryEntry h;
  h.seq = s.Int(0);
  h.table = s.Text(1);
  h.record_id = s.Text(2);
  h.device = s.Text(3);
  h.hlc = s.Text(4);
  h.change_id = s.Val(5);
  h.at = s.Text(6);
  h.snapshot = s.Text(7);
  h.lost = s.Val(8);
  if (!s.IsNull(9)) h.prev_seq = s.Int(9);
  return h;
}

}  // namespace relais::server
