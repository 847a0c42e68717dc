#include "server/pg_migrate.h"

#include "schema/migrations.h"

namespace relais::server::pg {

namespace {

// pg_advisory_xact_lock key of schema changes: "relais" in ASCII.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(125779794307443)";

}  // namespace

Result<int> SchemaVersion(Conn& conn) {
  auto exists = conn.Exec("SELECT to_regclass('relais_schema_version') IS NOT NULL");
  if (!exists) return exists.error();
  if ((*exists)[0].Text(0) != "t") return 0;
  auto version = conn.Exec("SELECT COALESCE(MAX(version), 0) FROM relais_schema_version");
  if (!version) return version.error();
  return static_cast<int>((*version)[0].Int(0));
}

Status Migrate(Conn& conn, OpenMode mode, const std::string& where) {
  const auto& migrations = schema::central_pg_migrations();
  const int latest = migrations.empty() ? 0 : migrations.back().number;
  auto tx = Transaction::Begin(conn);
  if (!tx) return tx.error();
  RELAIS_TRY(conn.ExecScript(kMigrationLock));
  auto current = SchemaVersion(conn);
  if (!current) return current.error();
  if (*current == 0 && mode == OpenMode::kExisting) {
    return MakeError(ErrorCode::kNotFound, "no central store in " + where +
                                               " (the database has no Relais tables; `relais-central serve "
                                               "--store URL` or `device add --store URL` creates them)");
  }
  if (*current > latest) {
    return MakeError(ErrorCode::kTooNew,
                     "the central store in " + where + " was written by a newer version of Relais (schema " +
                         std::to_string(*current) + ", this program knows up to " + std::to_string(latest) +
                         "); install the newer Relais to open it. Nothing was changed.");
  }
  if (*current == latest) return OkStatus();  // the transaction rolls back: nothing to keep
  RELAIS_TRY(conn.ExecScript(
      "CREATE TABLE IF NOT EXISTS relais_schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"));
  for (const schema::Migration& m : migrations) {
    if (m.number <= *current) continue;
    auto applied = conn.ExecScript(std::string(m.sql));
    if (!applied) {
      return MakeError(ErrorCode::kIo, "PostgreSQL migration " + std::to_string(m.number) + " (" + std::string(m.name) +
                                           ") failed in " + where + ": " + applied.error().message);
    }
    auto recorded = conn.Exec("INSERT INTO relais_schema_version(version, name) VALUES ($1, $2)",
                              {std::to_string(m.number), std::string(m.name)});
    if (!recorded) return recorded.error();
  }
  return tx->Commit();
}

}  // namespace relais::server::pg
