#include "sqlite/migrate.h"

namespace relais::sqlite {

Result<int> SchemaVersion(Db& db) {
  auto stmt = db.Prepare("PRAGMA user_version");
  if (!stmt) return stmt.error();
  auto row = stmt->Step();
  if (!row) return row.error();
  return static_cast<int>(stmt->Int(0));
}

Status Migrate(Db& db, const std::vector<schema::Migration>& migrations, std::string_view what) {
  auto current = SchemaVersion(db);
  if (!current) return current.error();
  int latest = migrations.empty() ? 0 : migrations.back().number;
  if (*current > latest) {
    return MakeError(ErrorCode::kTooNew,
                     std::string(what) + " a été écrite par une version plus récente de Relais (schéma " +
                         std::to_string(*current) + ", ce programme connaît jusqu'au " + std::to_string(latest) +
                         ") : installez cette version pour l'ouvrir. Rien n'a été modifié.");
  }
  for (const schema::Migration& m : migrations) {
    if (m.number <= *current) continue;
    auto tx = Transaction::Begin(db);
    if (!tx) return tx.error();
    auto applied = db.Exec(m.sql);
    if (!applied) {
      return MakeError(ErrorCode::kIo, "migration " + std::to_string(m.number) + " (" + std::string(m.name) +
                                           ") failed: " + applied.error().message);
    }
    RELAIS_TRY(db.Exec("PRAGMA user_version = " + std::to_string(m.number)));
    RELAIS_TRY(tx->Commit());
  }
  return OkStatus();
}

}  // namespace relais::sqlite
