#pragma once

#include <string_view>
#include <vector>

namespace relais::schema {

// One numbered step of a database's schema, from schema/migrations/<set>/NNNN_name.sql, embedded
// at build time (cmake/EmbedMigrations.cmake). Numbers start at 1 and have no gaps.
struct Migration {
  int number;
  std::string_view name;
  std::string_view sql;
};

// The device's replica.
const std::vector<Migration>& replica_migrations();
// The central store (SQLite flavour).
const std::vector<Migration>& central_migrations();
// The central store, PostgreSQL flavour: the same steps as central_migrations(), one for one.
const std::vector<Migration>& central_pg_migrations();

}  // namespace relais::schema
