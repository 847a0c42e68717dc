#include "server/stored_json.h"

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
  // (a case's stamps: ~190 bytes instead of ~640). Written directly, one per record written: the
  // stamps in the order they first appear, each then with its fields, found in one more pass over
  // the map (a record has one to a few stamps; one after its create).
  std::vector<std::string_view> order;
  for (const auto& entry : stamps) {
    if (std::find(order.begin(), order.end(), entry.second) == order.end()) order.push_back(entry.second);
  }
  std::string out;
  out.reserve(2 + order.size() * 36 + stamps.size() * 16);
  out += '{';
  for (const std::string_view hlc : order) {
    if (out.size() > 1) out += ',';
    sync::AppendJsonString(out, hlc);
    out += ":[";
    bool first = true;
    for (const auto& entry : stamps) {
      if (entry.second != hlc) continue;
      if (!first) out += ',';
      first = false;
      sync::AppendJsonString(out, entry.first);
    }
    out += ']';
  }
  out += '}';
  return out;
}

std::string EncodeCreateStamps(const schema::Table& table, const std::vector<schema::Value>& values,
                               std::string_view hlc) {
  // The fields in the order a FieldStamps map keeps them: by name, byte-wise.
  std::string out;
  out.reserve(8 + hlc.size() + values.size() * 18);
  out += '{';
  bool first = true;
  for (size_t i : sync::FieldsByName(table)) {
    if (!values[i]) continue;
    if (first) {
      sync::AppendJsonString(out, hlc);
      out += ":[";
      first = false;
    } else {
      out += ',';
    }
    sync::AppendJsonString(out, table.fields[i].name);
  }
  if (!first) out += ']';
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
    if (!it.value().is_array())
      return MakeError(ErrorCode::kInternal, "stored stamp " + it.key() + " is neither text nor a list");
    for (const json& field : it.value()) {
      if (!field.is_string())
        return MakeError(ErrorCode::kInternal, "stored stamp " + it.key() + " lists a field that is not text");
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
