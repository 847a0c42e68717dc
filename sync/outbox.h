#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sync/protocol.h"

namespace relais::sync {

// The `fields` column of a replica's outbox (docs/SCHEMA.md, "The outbox"): for a create
// {"field": "value", ...} with null fields omitted; for an update {"field": ["new", "base"], ...}
// where either may be null. Every value is a JSON string (integers as their decimal text), so the
// outbox keeps exactly what schema::Value holds.
std::string EncodeOutboxFields(Op op, const std::vector<FieldChange>& fields);

// A create entry whose `fields` is this empty text takes its values from the record's row when the
// change is put in a push batch (SqliteReplicaPort::FormBatch copies them in then, and freezes them).
// Replicas written before migration 0005 hold such entries; a create written now has no entry at all
// until it is batched (client/pending_creates.h, docs/SCHEMA.md "The outbox").
inline constexpr std::string_view kFieldsFromRow = "";

// Inverse of EncodeOutboxFields. kProtocol when the text is not in that form.
Result<std::vector<FieldChange>> DecodeOutboxFields(Op op, std::string_view json);

}  // namespace relais::sync
