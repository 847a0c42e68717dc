// How central staff settle what the push rules could not: a field conflict (keep the server's
// value, keep the device's, or write another), a probable duplicate (merge the two cases, or
// dismiss). Written once over CentralTx, like the push rules, so that every store settles alike.
//
// A settlement is a change like any other: it takes new sequence numbers (the record's new
// version, and conflicts.settled_seq), writes history rows by "central:<by>" and so reaches every
// device in scope through pull, with the conflict's notice (docs/PROTOCOL.md, "Conflict notices").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "server/push.h"
#include "server/store.h"

namespace relais::server {

// Each function runs inside ONE open write transaction `tx` (the caller commits on success and
// rolls back on failure, so a failure changes nothing). `by` names who settles (a person or the
// staff token's name); `now_ms` is the server's time. They return the conflict as settled.
// Errors: kNotFound for an unknown id; kConflict for a conflict already settled (the message says
// how and by whom) or a merge that no longer makes sense (a case already merged).

// A field conflict. kServer: the record is left as it is (its current value is the settled one).
// kDevice or kValue: the value (for kValue normalised and validated with schema::ValidateValue:
// kValidation otherwise) is written to the field as a central change — new version, the field
// stamped with CentralStamp, a history row whose `lost` holds the value it replaced; a case whose
// territory changes leaves its old territory (MoveScope). kUsage for a duplicate.
Result<Conflict> ResolveConflict(CentralTx& tx, int64_t id, const Decision& decision, const std::string& by,
                                 int64_t now_ms);

// A duplicate: the EXISTING case (other_id, or the case it was itself merged into) survives and
// takes the fields named in `take` from the new case (those the new case holds: an empty one is
// not taken); every follow-up of the new case moves to the
// survivor (case_id and territory, a new version each, a scope exit when the territory changes);
// the new case becomes a redirect: merged_into = the survivor, closed_on = today, close_reason =
// "fusionné avec <survivor id>". settled_value = the survivor's id. kUsage for a field conflict or
// a field that cannot be taken (unknown, or written by the centre only); kValidation when the
// survivor would fail validation; kConflict when the new case was already merged.
Result<Conflict> MergeDuplicate(CentralTx& tx, int64_t id, const std::vector<std::string>& take, const std::string& by,
                                int64_t now_ms);

// A duplicate that is not one: settled 'dismissed', no record changes. kUsage for a field
// conflict (settle it with ResolveConflict, keep server).
Result<Conflict> DismissDuplicate(CentralTx& tx, int64_t id, const std::string& by, int64_t now_ms);

// "central:<by>": the author of a settlement in the history.
std::string CentralAuthor(const std::string& by);

}  // namespace relais::server
