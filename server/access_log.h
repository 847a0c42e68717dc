// The access log (RGPD art. 15 and 32; docs/PRIVACY.md, "Access log"): who read which person's
// case, when, and how — on a device (sent with its syncs, POST /v1/access-log) or at the centre
// (staff reading a history, a conflict, a person's file). Written once over SqlConn for both stores.
// An entry names the case by its id only; a search is logged as its result count, never its text.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"
#include "server/sql_conn.h"
#include "server/store.h"

namespace relais::server {

// What a device reads (the `relais` command named in brackets).
inline constexpr std::array<std::string_view, 5> kDeviceAccessActions = {
    "consultation",  // a case shown (case show)
    "suivis",        // its follow-up entries listed (followup list)
    "orientations",  // its referrals listed (referral list)
    "export",        // the case written in an export file (export)
    "recherche",     // a search, with its result count (case search)
};
// What central staff read.
inline constexpr std::array<std::string_view, 3> kCentreAccessActions = {
    "historique",       // every version of a record of the case (history, GET /v1/history)
    "conflit",          // a conflict about it (conflicts show, GET /v1/conflicts/ID)
    "export-personne",  // the person's whole file (person export)
};

// The device of the entries the centre writes itself.
inline constexpr std::string_view kCentreDevice = "centre";

// At most this many entries in one POST /v1/access-log (a device sends more in several).
inline constexpr size_t kMaxAccessEntriesPerRequest = 5000;

// The entries of a device's POST /v1/access-log ({"entries": [{id, at, by, action, case_id,
// results}]}), for `device`. kUsage naming the first wrong entry and what was expected: an id
// that is not a UUID, a time that is not ISO 8601 UTC, an unknown action, a case that is not a
// UUID, a search without its count or with a case, too many entries.
Result<std::vector<AccessEntry>> ParseDeviceAccess(const nlohmann::json& body, const std::string& device);

// Inserts `entries` in one write transaction, skipping an id already held; answers how many were
// new. `received_at`: the server's time (IsoTimestamp).
Result<int64_t> InsertAccessEntries(SqlConn& conn, const std::vector<AccessEntry>& entries,
                                    const std::string& received_at);

// The entries `filter` selects, oldest first (kUsage when it selects nothing: no case, no device).
Result<std::vector<AccessEntry>> ListAccessEntries(SqlConn& conn, const AccessFilter& filter);

// The case a record is about: the record itself for a case, its `case_id` for a record of a table
// that has one, nullopt otherwise (a contact) or when the record is not held.
Result<std::optional<std::string>> CaseOfRecord(SqlConn& conn, const std::string& table, const std::string& record_id);

// An entry written by the centre at `now_ms` (Unix ms), by staff member `reader`.
AccessEntry CentreAccess(int64_t now_ms, const std::string& reader, std::string_view action,
                         const std::string& case_id);

// The French words of an action for people: "fiche consultée", "historique consulté"…
std::string AccessActionLabel(std::string_view action);

// The JSON of one entry, as the staff API and `relais-central access-log --json` write it.
nlohmann::json AccessEntryJson(const AccessEntry& entry);

}  // namespace relais::server
