#pragma once

#include <nlohmann/json_fwd.hpp>

#include "client/cli/commands.h"

namespace relais::cli {

// The state of the replica as `relais status` shows it, one object: "replica" (path), "node_id",
// "cases", "followups", "contacts", "visits", "referrals"… (record counts, one per declared table),
// "referrals_overdue" (client::ListReferrals, overdue only), "pending" and
// "rejected" (outbox entries),
// "rejections" (each refused change: change, table, record, op, reason), "last_sync" (sync_state
// last_sync_at, null if never), "server" (sync_state server_url, null if none) and "insecure_http" (true when
// `relais init --insecure-http` accepted an http:// address to another machine). Human output prints the same keys,
// so a key added here shows in both.
// The protection keys come second, after "replica" (ProtectionStatus).
Result<nlohmann::ordered_json> BuildStatus(client::Replica& replica, client::Records& records);

// How the replica file at `path` is protected (docs/PRIVACY.md): "encrypted" (bool), "locked" (true
// when encrypted and the session keyring does not hold its key), "key_from" ("keyring",
// "RELAIS_PASSPHRASE" when `opened` without the keyring, else null), "unlocked_until" (ISO 8601 UTC,
// when the keyring forgets the key; null when it does not hold it) and "unlocked_until_unix" (the
// same in Unix seconds). kIo when the file's head cannot be read.
Result<nlohmann::ordered_json> ProtectionStatus(const std::string& path, bool opened);

}  // namespace relais::cli
