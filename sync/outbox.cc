#include "sync/outbox.h"

#include <nlohmann/json.hpp>

namespace relais::sync {

using nlohmann::json;

static json ToJson(const schema::Value& v) { return v ? json(*v) : json(nullptr); }

std::string EncodeOutboxFields(Op op, const std::vector<FieldChange>& fields) {
  json out = json::object();
  for (const FieldChange& f : fields) {
    if (op == Op::kCreate) {
      if (f.value) out[f.field] = *f.value;
    } else {
      out[f.field] = json::array({ToJson(f.value), ToJson(f.base)});
    }
  }
  return out.dump();
}

Result<std::vector<FieldChange>> DecodeOutboxFields(Op op, std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  auto bad = [] { return MakeError(ErrorCode::kProtocol, "outbox entry is not in the expected form"); };
  if (!doc.is_object()) return bad();
  auto value_of = [](const json& j, schema::Value& out) {
    if (j.is_null()) {
      out = std::nullopt;
      return true;
    }
    if (!j.is_string()) return false;
    out = j.get<std::string>();
    return true;
  };
  std::vector<FieldChange> fields;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    FieldChange f;
    f.field = it.key();
    if (op == Op::kCreate) {
      if (!value_of(it.value(), f.value)) return bad();
    } else {
      if (!it.value().is_array() || it.value().size() != 2) return bad();
      if (!value_of(it.value()[0], f.value) || !value_of(it.value()[1], f.base)) return bad();
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

}  // namespace relais::sync
