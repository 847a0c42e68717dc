// The migration runner of a PostgreSQL database, as sqlite/migrate.h is SQLite's: numbered steps
// applied in order and recorded in the table relais_schema_version.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pg/conn.h"
#include "schema/migrations.h"

namespace relais::pg {

// Brings the database of `conn` to the last of `migrations`, all steps in one transaction under an
// advisory lock (two processes opening a new database at once migrate it once). A database at a
// later version than `migrations` knows fails with kTooNew, naming both versions, and is not
// changed. `where` names the database for people (DescribeUrl).
Status Migrate(Conn& conn, const std::vector<schema::Migration>& migrations, std::string_view where);

// The version recorded in relais_schema_version, 0 for a database without Relais tables.
Result<int> SchemaVersion(Conn& conn);

}  // namespace relais::pg
