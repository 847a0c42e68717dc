#pragma once

#include <nlohmann/json_fwd.hpp>

#include "client/cli/commands.h"

namespace relais::cli {

// The state of the replica as `relais status` shows it, one object: "replica" (path), "node_id",
// "cases", "followups", "contacts", "visits" (record counts, one per declared table), "pending" and
// "rejected" (outbox entries),
// "rejections" (each refused change: change, table, record, op, reason), "last_sync" (sync_state
// last_sync_at, null if never), "server" (sync_state server_url, null if none) and "insecure_http" (true when
// `relais init --insecure-http` accepted an http:// address to another machine). Human output prints the same keys,
// so a key added here shows in both.
Result<nlohmann::ordered_json> BuildStatus(client::Replica& replica, client::Records& records);

}  // namespace relais::cli
