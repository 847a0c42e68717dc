// Closed cases leave the device (docs/PRIVACY.md, "Retention"): a case closed longer than the
// network's device limit (whoami's `retention.device_closed_after_days`) is purged from the replica
// at a sync, with the records that cannot exist without it, while the centre keeps it. The replica
// keeps of each record purged its id, version and digests (table purged_records), so that the
// divergence check counts it as held and no fresh copy brings it back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "client/replica.h"
#include "schema/model.h"
#include "sync/digest.h"

namespace relais::client {

// The device limit last declared by the centre, in days (sync_state); absent until a sync hears it.
inline constexpr const char* kStateDeviceRetentionDays = "device_retention_days";

// The device limit remembered; nullopt when the centre never declared one.
Result<std::optional<int64_t>> DeviceRetentionDays(Replica& replica);

// The cases the next purge takes: closed before today less the device limit, accepted by the
// centre, and with nothing of this device's about it or its records in the outbox (pending or
// refused) nor an open conflict. 0 when no limit is known.
Result<int64_t> PurgeDue(Replica& replica);

// Remembers `days` when given, then purges what PurgeDue counts: each case with the records of the
// tables whose `case_id` is required (follow-ups, appointments, referrals; the register's visits
// stay), their id, version and digests kept in purged_records. One transaction. Returns the cases.
Result<int64_t> PurgeClosedCases(Replica& replica, sync::RecordDigester& digester, std::optional<int64_t> days);

// Adds the records purged to `digest`, as the centre holds them.
Status AddPurged(Replica& replica, sync::ScopeDigest& digest);

// Whether any record is purged (a page's records are looked up only then).
Result<bool> AnyPurged(Replica& replica);

// A record a pull brings about a purged case: true when it stays purged — a new version of the case
// still closed past the limit, or a record of it — its purged_records line written from `digested`
// (computed here when null, and only for a record kept purged: the other records are not hashed);
// false when the pull applies it as any other. A case back within the limit (reopened, its closing
// date moved) leaves purged_records with its records: its row is written by the caller, and its
// records, missing, make the divergence check fetch a fresh copy.
Result<bool> KeepPurged(Replica& replica, sync::RecordDigester& digester, const schema::Table& table,
                        const schema::Record& record, const sync::StoredDigests* digested);

// Forgets `id` and, for a case, its records (a removal, an erasure).
Status ForgetPurged(Replica& replica, const std::string& id);

// Forgets every record purged (a fresh copy of the scope holds them again).
Status ForgetAllPurged(Replica& replica);

// Whether case `case_id` was purged from this device.
Result<bool> WasPurged(Replica& replica, const std::string& case_id);

}  // namespace relais::client
