#include "client/record_json.h"

#include <nlohmann/json.hpp>

namespace relais::client {

nlohmann::ordered_json RecordToJson(const schema::Table& table, const schema::Record& record, bool with_nulls,
                                    bool with_version) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["id"] = record.id;
  if (with_version) out["version"] = record.version;
  for (size_t i = 0; i < table.fields.size() && i < record.values.size(); ++i) {
    const schema::Field& f = table.fields[i];
    const schema::Value& v = record.values[i];
    std::string name(f.name);
    if (!v) {
      if (with_nulls) out[name] = nullptr;
    } else if (f.type == schema::FieldType::kInt) {
      try {
        out[name] = std::stoll(*v);
      } catch (const std::exception&) {
        out[name] = *v;  // validation keeps non-numbers out; show what is there rather than fail
      }
    } else {
      out[name] = *v;
    }
  }
  return out;
}

Result<JsonFields> RecordFromJson(const schema::Table& table, const nlohmann::json& object) {
  if (!object.is_object()) return MakeError(ErrorCode::kValidation, "attendu : un objet JSON {\"champ\": valeur, …}");
  JsonFields out;
  out.values.resize(table.fields.size());
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    schema::Value value;
    if (v.is_string()) {
      value = v.get<std::string>();
    } else if (v.is_number_integer()) {
      value = v.dump();
    } else if (v.is_number()) {
      value = v.dump();  // e.g. 2.5: the field's validation refuses it with its own message
    } else if (!v.is_null()) {
      return MakeError(ErrorCode::kValidation, key + ": doit être un texte, un nombre ou null");
    }
    if (key == "id") {
      out.id = value;
      continue;
    }
    int i = table.FieldIndex(key);
    if (i < 0) {
      return MakeError(ErrorCode::kValidation, key + ": n'est pas un champ de " + std::string(table.name));
    }
    out.values[static_cast<size_t>(i)] = std::move(value);
  }
  return out;
}

}  // namespace relais::client
