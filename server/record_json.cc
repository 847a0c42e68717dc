#include "server/record_json.h"

#include <nlohmann/json.hpp>

#include "sync/json_text.h"

namespace relais::server {

using nlohmann::json;

std::string EncodeStamps(const sync::FieldStamps& stamps) {
  // Written directly (one per record written); the map's order is nlohmann's.
  std::string out = "{";
  for (const auto& [field, hlc] : stamps) {
    if (out.size() > 1) out += ',';
    sync::AppendJsonString(out, field);
    out += ':';
    sync::AppendJsonString(out, hlc);
  }
  out += '}';
  return out;
}

Result<sync::FieldStamps> DecodeStamps(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return MakeError(ErrorCode::kInternal, "stored stamps are not a JSON object");
  sync::FieldStamps stamps;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) return MakeError(ErrorCode::kInternal, "stored stamp of " + it.key() + " is not text");
    stamps[it.key()] = it.value().get<std::string>();
  }
  return stamps;
}

std::string EncodeLost(const std::vector<LostValue>& lost) {
  json j = json::object();
  for (const LostValue& l : lost) {
    j[l.field] = {{"value", l.value ? json(*l.value) : json(nullptr)}, {"device", l.device}, {"hlc", l.hlc}};
  }
  return j.dump();
}

std::string EncodeTextList(const std::vector<std::string>& texts) { return json(texts).dump(); }

}  // namespace relais::server
