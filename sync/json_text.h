// Writing JSON text straight into a string, for the messages sent by the thousand (push batches,
// pull pages, history snapshots). What it writes is byte for byte what nlohmann::json::dump() writes
// for the same document: no spaces; strings escaped as nlohmann escapes them (`"`, `\`, \b \f \n \r
// \t, other control characters as \u00xx, UTF-8 left as it is); object members in nlohmann's order,
// keys sorted byte-wise — the callers write them so. That equality matters: the centre hashes the
// canonical text of a push request to recognise a retried batch, and batches stored before this
// writer existed must still be recognised.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schema/model.h"

namespace relais::sync {

// Appends `s` as a JSON string (quoted, escaped). `s` must be valid UTF-8 (every value is checked
// before it gets here).
void AppendJsonString(std::string& out, std::string_view s);

void AppendJsonInt(std::string& out, int64_t n);

// Appends a field's value as the wire carries it: null; an integer field as a JSON number (its text
// kept as a string if it is not one, which validation prevents); any other as a JSON string.
void AppendJsonValue(std::string& out, const schema::Field& field, const schema::Value& value);

// The indexes of `table`'s fields ordered by name, byte-wise: the order of a JSON object's members
// as nlohmann writes them.
const std::vector<size_t>& FieldsByName(const schema::Table& table);

}  // namespace relais::sync
