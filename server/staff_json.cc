#include "server/staff_json.h"

namespace relais::server {

using nlohmann::json;

namespace {

json Text(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json TextOrNull(const std::string& v) { return v.empty() ? json(nullptr) : json(v); }

}  // namespace

json ConflictJson(const Conflict& c) {
  return json{{"id", c.id},
              {"kind", c.kind},
              {"status", c.status},
              {"table", c.table},
              {"record", c.record_id},
              {"field", Text(c.field)},
              {"other", Text(c.other_id)},
              {"territory", Text(c.territory)},
              {"other_territory", Text(c.other_territory)},
              {"base", Text(c.base_value)},
              {"server", Text(c.server_value)},
              {"server_device", TextOrNull(c.server_device)},
              {"server_hlc", TextOrNull(c.server_hlc)},
              {"device_value", Text(c.device_value)},
              {"device", TextOrNull(c.device)},
              {"device_hlc", TextOrNull(c.device_hlc)},
              {"change", TextOrNull(c.change_id)},
              {"opened_seq", c.opened_seq},
              {"opened_at", c.opened_at},
              {"settled_seq", c.settled_seq ? json(*c.settled_seq) : json(nullptr)},
              {"settled_at", Text(c.settled_at)},
              {"settled_by", Text(c.settled_by)},
              {"settled_value", Text(c.settled_value)},
              {"settlement", Text(c.settlement)}};
}

json HistoryEntryJson(const HistoryEntry& h) {
  return json{{"version", h.seq},
              {"table", h.table},
              {"record", h.record_id},
              {"device", h.device},
              {"hlc", h.hlc},
              {"change", Text(h.change_id)},
              {"at", h.at},
              {"values", json::parse(h.snapshot, nullptr, false)},
              {"lost", h.lost ? json::parse(*h.lost, nullptr, false) : json(nullptr)}};
}

json HistoryJson(const std::vector<HistoryEntry>& history) {
  json versions = json::array();
  json previous_territory;
  for (const HistoryEntry& h : history) {
    json version = HistoryEntryJson(h);
    if (h.table == "cases" && version["values"].is_object()) {
      json territory = version["values"].value("territory", json(nullptr));
      if (!versions.empty() && territory != previous_territory) {
        version["transfer"] = {{"from", previous_territory}, {"to", territory}};
      }
      previous_territory = std::move(territory);
    }
    versions.push_back(std::move(version));
  }
  return versions;
}

json LatestValuesJson(const std::vector<HistoryEntry>& history) {
  if (history.empty()) return nullptr;
  return json::parse(history.back().snapshot, nullptr, false);
}

json ConflictDetailJson(const Conflict& conflict, const std::vector<HistoryEntry>& history,
                        const std::optional<std::vector<HistoryEntry>>& other_history) {
  json out = ConflictJson(conflict);
  out["history"] = HistoryJson(history);
  out["record_values"] = LatestValuesJson(history);
  if (other_history) out["other_values"] = LatestValuesJson(*other_history);
  return out;
}

}  // namespace relais::server
