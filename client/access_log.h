// The device's access log (docs/PRIVACY.md, "Access log"): each read of one person's case and each
// search, kept in the replica (table access_log) until a sync hands it to the centre
// (sync/access_log_send.h). Who read is the system login; a search keeps its result count only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "client/replica.h"
#include "schema/model.h"
#include "sync/ports.h"

namespace relais::client {

// Logs that case `case_id` was read by `action` (consultation, suivis, orientations).
Status NoteCaseRead(Replica& replica, std::string_view action, const std::string& case_id);

// Logs a search that found `results` records.
Status NoteSearch(Replica& replica, int64_t results);

// Logs an export of `table`: one entry per case it includes (each case of `cases`, the case of each
// record of a table with a `case_id`); nothing for a table about no case. In one transaction.
Status NoteExport(Replica& replica, const schema::Table& table);

// The oldest entries not yet sent, at most `limit`, as the body of POST /v1/access-log, with the
// sequence number of the last one; nullopt when there is none.
Result<std::optional<sync::AccessLogChunk>> NextAccessChunk(Replica& replica, size_t limit);

// Forgets the entries up to `last_seq`: the centre holds them.
Status ForgetAccessUpTo(Replica& replica, int64_t last_seq);

// How many entries wait to be sent.
Result<int64_t> PendingAccessCount(Replica& replica);

}  // namespace relais::client
