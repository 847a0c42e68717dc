#pragma once

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"
#include "client/records.h"
#include "schema/model.h"

namespace relais::client {

// A record as a JSON object in declaration order: "id", then each field (integers as numbers).
// With `with_nulls`, absent values appear as null (the CLI's --json); without, they are omitted
// (export, one line per record). With `with_version`, "version" follows "id".
nlohmann::ordered_json RecordToJson(const schema::Table& table, const schema::Record& record, bool with_nulls,
                                    bool with_version);

// The fields of a JSON object as import reads them: "id" apart, every other key a field of `table`
// (kValidation "unknown field X" otherwise); strings as they are, numbers as their decimal text,
// null as null. Anything else is kValidation naming the field.
struct JsonFields {
  std::optional<std::string> id;
  std::vector<schema::Value> values;  // one per field of the table, in declaration order
};
Result<JsonFields> RecordFromJson(const schema::Table& table, const nlohmann::json& object);

}  // namespace relais::client
