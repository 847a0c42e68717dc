#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/replica.h"
#include "sync/protocol.h"

namespace relais::client {

// Creates the centre has not seen yet (docs/SCHEMA.md, "The outbox").
//
// A record written on this device starts at version 0, and a pulled record always has a version
// above 0 (the centre's sequence). So a row at version 0 with no outbox entry IS its pending create:
// a create writes the row only, in one transaction, and costs no outbox entry. The entry (change id,
// HLC stamp, the row's values frozen) is written when the create must be ordered or kept apart from
// the row:
//   - when a push batch takes it (SqliteReplicaPort::FormBatch), so that a retried batch is the same;
//   - before the record's first local edit, and before an edit of a case, the creates of its
//     follow-ups: every update then comes after the create it depends on, as outbox order;
//   - before the row can be lost or overwritten (the record leaves the scope, a pulled record has
//     its id), so that the create is kept, rejected and shown, never dropped.
// Once accepted, the centre's version is stored on the row (AcknowledgeBatch); once rejected, the
// entry stays with state 'rejected'. Either way the row is no longer a pending create.
//
// Not thread-safe, like the Replica; every function runs inside the caller's transaction.

// The SQL condition, over a synced table's row named `alias`, that the row is a pending create
// without its outbox entry yet.
std::string UnsentCreateCondition(const std::string& alias);

// The fields of a create of a record holding `values` (one per field of `table`): every value set,
// in declaration order, without a base.
std::vector<sync::FieldChange> CreateFields(const schema::Table& table, const std::vector<schema::Value>& values);
std::vector<sync::FieldChange> CreateFields(const schema::Table& table, std::vector<schema::Value>&& values);

// The fields of a create of record `id` as its row holds them now; nullopt when the row is gone.
Result<std::optional<std::vector<sync::FieldChange>>> RowCreateFields(Replica& replica, const schema::Table& table,
                                                                      const std::string& id);

// Where a create entry holds its values.
//   kFrozen: in the entry, whatever becomes of the row.
//   kFromRow: in the row (fields = sync::kFieldsFromRow) for as long as the row stays as it is: the
//     first write to the row (MaterializeCreate) or its loss (SqliteReplicaPort::FreezeCreatesUnder)
//     freezes them first. A push batch takes creates this way: their values are read from the row
//     again to resend the batch, and writing them all into the outbox as well would cost every
//     create of a backlog an encoding and a copy (a tenth of `relais sync`'s push time).
enum class CreateValues { kFrozen, kFromRow };

// Writes the outbox entry of the create of `record` (as held by its row now): op create, base
// version 0, a new change id and HLC stamp, the values as `how` says; in push batch `batch_key` when
// given. Returns the change as written, with its values: the one LoadBatch() would read back.
Result<sync::Change> WriteCreateEntry(Replica& replica, const schema::Table& table, const schema::Record& record,
                                      const std::optional<std::string>& batch_key = std::nullopt,
                                      CreateValues how = CreateValues::kFrozen);
// The same, taking the values out of `record` (its id stays).
Result<sync::Change> WriteCreateEntry(Replica& replica, const schema::Table& table, schema::Record&& record,
                                      const std::optional<std::string>& batch_key, CreateValues how);

// Writes the values of the create entry `seq` of record `id` from its row into the entry, if it
// still reads them from the row. Returns false (and changes nothing) when the row is gone.
Result<bool> FreezeCreateEntry(Replica& replica, const schema::Table& table, const std::string& id, int64_t seq);

// Before a write to the row of record `id`: writes its create entry if the row is a pending create
// without one, or freezes its entry if that still reads its values from the row. Returns whether it
// wrote a new entry; a missing row writes nothing.
Result<bool> MaterializeCreate(Replica& replica, const schema::Table& table, const std::string& id);

// For a case: writes the create entries of the records that follow it (scope kParentCase: its
// follow-ups, its referrals) that are pending creates without one, table by table in declaration
// order, each in the order they were written. Does nothing for another table.
Status MaterializeChildCreates(Replica& replica, const schema::Table& table, const std::string& case_id);

// Number of rows of `table` that are pending creates without an outbox entry (a scan of the table).
Result<int64_t> CountUnsentCreates(Replica& replica, const schema::Table& table);

}  // namespace relais::client
