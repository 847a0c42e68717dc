// The JSON shapes of central staff's tools, shared by the staff HTTP API (server/http.cc) and
// `relais-central --json` (server/main.cc) so that a script and the web page read the same thing.
// Documented in docs/PROTOCOL.md, "Staff API". Include only where nlohmann/json is already used.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <vector>

#include "server/store.h"

namespace relais::server {

// {"id", "kind", "status", "table", "record", "field", "other", "territory", "other_territory",
//  "base", "server", "server_device", "server_hlc", "device_value", "device", "device_hlc", "change",
//  "opened_seq", "opened_at", "settled_seq", "settled_at", "settled_by", "settled_value", "settlement"}
// Values are text or null; absent facts are null.
nlohmann::json ConflictJson(const Conflict& conflict);

// {"version", "table", "record", "device", "hlc", "change", "at", "values": {...}, "lost": {...}|null}
nlohmann::json HistoryEntryJson(const HistoryEntry& entry);

// Every version of `history` (one record's, oldest first) as HistoryEntryJson gives it; a version
// of a case whose territory differs from the version before also holds "transfer": {"from", "to"}
// (docs/SERVER.md, "Territories").
nlohmann::json HistoryJson(const std::vector<HistoryEntry>& history);

// The values of a record at its last version in `history` (an object), or null when it is empty.
nlohmann::json LatestValuesJson(const std::vector<HistoryEntry>& history);

// A conflict with its context, as `conflicts show` and GET /v1/conflicts/{id} give it: the
// conflict's members, plus "history" (every version of its record), "record_values" (the record
// now) and, for a duplicate, "other_values" (the existing case now).
nlohmann::json ConflictDetailJson(const Conflict& conflict, const std::vector<HistoryEntry>& history,
                                  const std::optional<std::vector<HistoryEntry>>& other_history);

}  // namespace relais::server
