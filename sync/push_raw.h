// Internal to the push decoder (sync/codec.cc) and the create runs (sync/push_runs.cc): a push
// request's changes as the SAX reader keeps them before they are checked (the reader of a push's
// answer, sync/push_answer.cc, keeps its values as Scalars too). Not a public interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "schema/model.h"
#include "sync/codec.h"
#include "sync/protocol.h"

namespace relais::sync::internal {

// A JSON value as the checks see it: its kind, and its number or text when it has one.
struct Scalar {
  enum Kind : uint8_t { kMissing, kNull, kBool, kInt, kFloat, kString, kObject, kArray };
  Kind kind = kMissing;
  int64_t number = 0;  // kInt (an unsigned one as nlohmann's get<int64_t>() reads it)
  std::string text;    // kString
};

struct RawMember {
  std::string key;
  Scalar value;
};

// One member of a run's `columns`: `value` is the member as read (of kind kArray for a column),
// `cells` its elements (an element that is an object or an array is kept as its kind only).
struct RawColumn {
  std::string name;
  Scalar value;
  std::vector<Scalar> cells;
};

// One element of `changes` as read: its members, and those of its values, set and base objects;
// for a run (docs/PROTOCOL.md, "Create runs"), `run` and its columns.
struct RawChange {
  bool is_object = false;
  std::optional<std::string> unknown_key;  // the first unknown member in key order
  Scalar id, table, record, op, hlc, base_version, values, set, base, run, columns;
  std::vector<RawMember> values_members, set_members, base_members;  // when that member is an object
  std::vector<RawColumn> column_members;                             // when `columns` is an object
};

// The pieces of DecodeChange, in the order it runs them, shared with ExpandRun so that a create
// in a run passes the very checks of a create in row form. Each takes the text out of its Scalar.
// `where` names the change in errors ("changes[3]", "changes[3][17]").
Status TakeId(Scalar& id, const std::string& where, Change& c);
Status TakeRecord(Scalar& record, const std::string& where, Change& c, ChangeFacts& facts);  // sets facts.normalized
Status TakeHlc(Scalar& hlc, const std::string& where, Change& c);

// One value of a create as read: its key, the index of that field in the table (-1: unknown) and
// its wire value.
struct CreateValue {
  std::string_view key;
  int index;
  Scalar* value;
};

// Checks and takes a create's values, given in key order, into c.fields (in the table's order,
// nulls left out), and sets facts.validated (and facts.normalized when a value was normalised).
// `record` is scratch space, reused from one create to the next.
Status TakeCreateValues(const schema::Table& table, const std::vector<CreateValue>& in_key_order,
                        const std::string& where, Change& c, ChangeFacts& facts, std::vector<schema::Value>& record);

// Checks one change in row form and decodes it, with its facts into `facts`; `where` names it in
// errors ("changes[3]"). Takes the texts out of `raw` (its ids, stamp and values) rather than
// copying them.
Result<Change> DecodeChange(RawChange& raw, const std::string& where, ChangeFacts& facts);

// Whether `raw` is written as a run (it has a `run` or a `columns` member).
inline bool IsRun(const RawChange& raw) {
  return raw.run.kind != Scalar::kMissing || raw.columns.kind != Scalar::kMissing;
}

// The number of changes a run holds as written (the length of its `id` column; 0 when it has none),
// for the batch limit before it is decoded.
size_t RunLength(const RawChange& raw);

// Checks a run (element `where` of `changes`) and expands it into its creates, in order, each
// decoded as DecodeChange decodes a create; its k-th change is named where + "[k]" in errors.
// `facts` is set to the facts of the changes, one per change in order. Consumes the cells of `raw`.
Result<std::vector<Change>> ExpandRun(RawChange& raw, const std::string& where, std::vector<ChangeFacts>& facts);

// Appends one change in row form, in the bytes EncodePushRequest writes for it.
void AppendChangeRow(std::string& out, const Change& change);

}  // namespace relais::sync::internal
