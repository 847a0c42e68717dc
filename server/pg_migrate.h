// The schema of the PostgreSQL central store: schema/migrations/central_pg/, applied in order and
// recorded in the table relais_schema_version.
#pragma once

#include "base/result.h"
#include "server/pg_conn.h"
#include "server/store.h"

namespace relais::server::pg {

// Brings the database of `conn` to the last PostgreSQL migration, all steps in one transaction
// under an advisory lock (two processes opening a new database at once migrate it once). kCreate
// creates the tables of an empty database; kExisting fails with kNotFound when it has none. A
// database at a later version than this program knows fails with kTooNew, naming both versions,
// and is not changed. `where` names the database for people (DescribeUrl).
Status Migrate(Conn& conn, OpenMode mode, const std::string& where);

// The version recorded in relais_schema_version, 0 for a database without Relais tables.
Result<int> SchemaVersion(Conn& conn);

}  // namespace relais::server::pg
