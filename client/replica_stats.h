// The statistics of a device's replica (docs/STATISTICS.md): the engine of stats/ over the replica's
// tables, which hold exactly the device's scope. Offline, read-only.
#pragma once

#include "base/result.h"
#include "client/replica.h"
#include "stats/engine.h"

namespace relais::client {

// Counts `query` over the replica (stats::Compute). Changes nothing; kUsage for a bad query.
Result<stats::StatsTable> ReplicaStats(Replica& replica, const stats::Query& query);

}  // namespace relais::client
