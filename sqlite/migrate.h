#pragma once

#include <string_view>
#include <vector>

#include "base/result.h"
#include "schema/migrations.h"
#include "sqlite/db.h"

namespace relais::sqlite {

// Brings the database to the last of `migrations`, each step in its own transaction together with
// the new `PRAGMA user_version`. A database whose user_version is above the last known migration
// was written by a newer Relais: fails with kTooNew, naming both versions, and changes nothing.
// `what` names the file for people, in French, as the subject of the refusal ("cette base locale").
Status Migrate(Db& db, const std::vector<schema::Migration>& migrations, std::string_view what);

// PRAGMA user_version.
Result<int> SchemaVersion(Db& db);

}  // namespace relais::sqlite
