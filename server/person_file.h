// Everything the centre holds about one person, for the person (RGPD art. 15, right of access):
// `relais-central person export CASE_ID [--format json|html]`. Docs: docs/PRIVACY.md, "Right of
// access"; docs/SERVER.md.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "base/result.h"
#include "server/store.h"

namespace relais::server {

// The person's file: {"case_id", "made_at", "case" (values now), "versions" (every version of the
// case, HistoryJson), "conflicts" (ConflictJson, any status), "related": {TABLE: [{"id",
// "version", "values": {...}}]} for every declared table whose records name the case in `case_id`
// (follow-ups with their rectifications, visits, appointments…). kNotFound for a case the centre
// has never held.
Result<nlohmann::json> PersonFileJson(CentralStore& store, const std::string& case_id, const std::string& made_at);

// The same file as a standalone HTML page in French (no script, no outside resource), values
// escaped, enumeration codes in words: what a counsellor prints or hands over.
std::string PersonFileHtml(const nlohmann::json& file);

}  // namespace relais::server
