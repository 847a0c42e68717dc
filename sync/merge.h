#pragma once

#include <map>
#include <string>
#include <vector>

#include "schema/model.h"
#include "sync/protocol.h"

namespace relais::sync {

// What happened to one field of a change when it met the server's record.
enum class Resolution {
  kTookDevice,  // no concurrent edit of this field: the device's value is taken
  kSame,        // the server already holds the device's value
  kLwwDevice,   // concurrent edit, rule lww, the device's stamp is later: the server's value lost
  kLwwServer,   // concurrent edit, rule lww, the server's stamp is later: the device's value lost
  kForReview,   // concurrent edit, rule review: the server keeps its value; a conflict is opened
};

struct FieldOutcome {
  int field = -1;  // index in Table::fields
  Resolution how = Resolution::kTookDevice;
  schema::Value base;
  schema::Value server;
  schema::Value device;
  std::string server_hlc;  // the stamp of the server's value ("" when unknown)
};

// Per-field stamps of the server's record: field name → Hlc text of its last write.
using FieldStamps = std::map<std::string, std::string>;

struct MergeResult {
  ChangeStatus status = ChangeStatus::kApplied;
  std::vector<schema::Value> values;   // the record after the change
  FieldStamps stamps;                  // the stamps after the change
  std::vector<FieldOutcome> outcomes;  // one per field of the change
  bool changed = false;                // values differ from the server's record
};

// Three-way merge of an update `change` into the server's `current` record (base = the values the
// device saw, carried in the change). Fields the server did not change since the device's base
// take the device's value; fields both sides changed follow the field's MergeRule. The result is
// an outcome, never an error: a change that must be refused is refused before (see codec, scope).
// Pure and deterministic: the server and the client's tests call the same function.
MergeResult MergeUpdate(const schema::Table& table, const schema::Record& current, const FieldStamps& stamps,
                        const Change& change);

// The values a replica keeps when a pulled record arrives while local changes to it are still
// pending: the pulled values, with every field that a pending change touched kept at its local
// value (local edits stay on top until the server has answered them).
std::vector<schema::Value> RebaseLocal(const schema::Table& table, const std::vector<schema::Value>& pulled,
                                       const std::vector<schema::Value>& local,
                                       const std::vector<std::string>& pending_fields);

}  // namespace relais::sync
