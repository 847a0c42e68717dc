#include "pg/migrate.h"

namespace relais::pg {

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

Status Migrate(Conn& conn, const std::vector<schema::Migration>& migrations, std::string_view where) {
  const int latest = migrations.empty() ? 0 : migrations.back().number;
  auto tx = Transaction::Begin(conn);
  if (!tx) return tx.error();
  RELAIS_TRY(conn.ExecScript(kMigrationLock));
  auto current = SchemaVersion(conn);
  if (!current) return current.error();
  if (*current > latest) {
    return MakeError(ErrorCode::kTooNew,
                     "la base " + std::string(where) + " a été écrite par une version plus récente de Relais (schéma " +
                         std::to_string(*current) + ", ce programme connaît jusqu'au " + std::to_string(latest) +
                         ") : installez cette version pour l'ouvrir. Rien n'a été modifié.");
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
                                           ") failed in " + std::string(where) + ": " + applied.error().message);
    }
    auto recorded = conn.Exec("INSERT INTO relais_schema_version(version, name) VALUES ($1, $2)",
                              {std::to_string(m.number), std::string(m.name)});
    if (!recorded) return recorded.error();
  }
  return tx->Commit();
}

}  // namespace relais::pg
