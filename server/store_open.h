// Opening the central store a command names: `--db FILE` (the embedded SQLite store, the default)
// or `--store postgresql://USER@HOST:PORT/DB` (PostgreSQL). Both give the same CentralStore.
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "server/store.h"

namespace relais::server {

// `spec` is a PostgreSQL URL (pg::IsPostgresUrl) or a file path. Errors as SqliteStore::Open and
// PgStore::Open.
Result<std::unique_ptr<CentralStore>> OpenStore(const std::string& spec, OpenMode mode,
                                                const Clock& clock = SystemClock::Instance());

// The store for people and logs: the file path, or the URL without its password.
std::string DescribeStore(const std::string& spec);

}  // namespace relais::server
