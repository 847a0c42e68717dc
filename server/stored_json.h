// The small JSON texts the central store keeps beside records: per-field stamps and the values
// that lost a merge. Kept here so that only one translation unit of the store parses JSON. (Records
// as JSON for people and files are client/record_json.h's.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "schema/model.h"
#include "sync/merge.h"

namespace relais::server {

// FieldStamps <-> the `stamps` column: {"hlc": ["field", ...], ...}, each stamp once with the fields
// it dates. Decoding also reads the older {"field": "hlc", ...} form (and a mix of both). It fails
// with kInternal on a malformed text (the store wrote it, so that is a bug or a damaged file).
std::string EncodeStamps(const sync::FieldStamps& stamps);
Result<sync::FieldStamps> DecodeStamps(std::string_view json);
// The stamps of a new record of `table` holding `values` (one per field): every set field at `hlc`.
// The same text as EncodeStamps of that map, made without building it (a push of new records made
// one map per record: 9 % of the centre's instructions).
std::string EncodeCreateStamps(const schema::Table& table, const std::vector<schema::Value>& values,
                               std::string_view hlc);

// One value that lost a comparison, and who had written it.
struct LostValue {
  std::string field;
  schema::Value value;
  std::string device;
  std::string hlc;
};

// {"field": {"value": v, "device": d, "hlc": h}, ...}; v is the value's text or null.
std::string EncodeLost(const std::vector<LostValue>& lost);

// ["a", "b"]: a list of texts, as SQLite's json_each() reads it for an IN (...) test.
std::string EncodeTextList(const std::vector<std::string>& texts);

}  // namespace relais::server
