#include "server/record_json.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sync/json_text.h"

namespace relais::server {

using nlohmann::json;

std::string EncodeStamps(const sync::FieldStamps& stamps) {
  // Grouped by stamp: a create stamps every field it sets with the same HLC, and a record keeps
  // its stamps for life, so {"hlc": ["field", ...]} stores each stamp once instead of once a field
  // (a case's stamps: ~190 bytes instead of ~640). Written directly, one per record written.
  std::vector<std::pair<std::string_view, std::vector<std::string_view>>> groups;
  for (const auto& entry : stamps) {
    const std::string& hlc = entry.second;  // not a structured binding: clang 14 cannot capture one
    auto group = std::find_if(groups.begin(), groups.end(), [&hlc](const auto& g) { return g.first == hlc; });
    if (group == groups.end()) {
      groups.emplace_back(hlc, std::vector<std::string_view>{entry.first});
    } else {
      group->second.push_back(entry.first);
    }
  }
  std::string out = "{";
  for (const auto& [hlc, fields] : groups) {
    if (out.size() > 1) out += ',';
    sync::AppendJsonString(out, hlc);
    out += ":[";
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) out += ',';
      sync::AppendJsonString(out, fields[i]);
    }
    out += ']';
  }
  out += '}';
  return out;
}

Result<sync::FieldStamps> DecodeStamps(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return MakeError(ErrorCode::kInternal, "stored stamps are not a JSON object");
  sync::FieldStamps stamps;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_string()) {
      // {"field": "hlc"}: the form stores written before stamps were grouped.
      stamps[it.key()] = it.value().get<std::string>();
      continue;
    }
    if (!it.value().is_array()) return MakeError(ErrorCode::kInternal, "stored stamp " + it.key() + " is neither text nor a list");
    for (const json& field : it.value()) {
      if (!field.is_string()) return MakeError(ErrorCode::kInternal, "stored stamp " + it.key() + " lists a field that is not text");
      stamps[field.get<std::string>()] = it.key();
    }
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
