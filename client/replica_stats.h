// The statistics of a device's replica (docs/STATISTICS.md): the engine of stats/ over the replica's
// tables, which hold exactly the device's scope. Offline, read-only.
#pragma once

#include <functional>

#include "base/result.h"
#include "client/replica.h"
#include "stats/engine.h"

namespace relais::client {

// Counts `query` over the replica (stats::Compute). Changes nothing; kUsage for a bad query.
Result<stats::StatsTable> ReplicaStats(Replica& replica, const stats::Query& query);

// Gives `use` the replica as the engine reads it, in one read transaction (the annual report's
// tables all count the same records). Returns what `use` returns.
Status ReadReplicaForStats(Replica& replica, const std::function<Status(stats::Database&)>& use);

}  // namespace relais::client
