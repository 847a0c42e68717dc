#include "client/replica.h"

#include <ctime>

#include "base/ids.h"
#include "schema/migrations.h"
#include "sqlite/crypt_vfs.h"
#include "sqlite/migrate.h"

namespace relais::client {

namespace {

constexpr char kNodeIdKey[] = "node_id";
constexpr char kHlcLastKey[] = "hlc_last";
constexpr char kMaxOutboxHlc[] = "SELECT max(hlc) FROM outbox";

// A stamp this replica saved. Earlier versions of Relais wrote the folded centre clock without its node
// ("…-000000-"); that form is read as this replica's own stamp, and a later save writes it whole.
Result<sync::Hlc> ParseSavedStamp(const std::string& text, const std::string& node_id) {
  if (text.size() == 21 && text.back() == '-') return sync::Hlc::Parse(text + node_id);
  return sync::Hlc::Parse(text);
}

}  // namespace

Result<Replica> Replica::Open(const std::string& path, const Clock& clock) {
  // Through the encrypting VFS, which passes a plain file through unchanged. The key of an encrypted
  // file must be registered before (client/replica_key.h). Created 0600 (sqlite::CreatePrivateFile):
  // a shared laptop's other accounts cannot read it.
  RELAIS_TRY(sqlite::crypt::RegisterVfs());
  auto envelope = sqlite::crypt::ReadEnvelope(path);
  if (!envelope) return envelope.error();
  sqlite::Db::Options options;
  options.vfs = sqlite::crypt::kVfsName;
  options.temp_in_memory = true;
  if (*envelope) options.reserve_bytes = sqlite::crypt::kReserveBytes;
  auto db = sqlite::Db::Open(path, options);
  // SQLITE_AUTH from the VFS: no key registered for this file. Other failures (a damaged first
  // page) are reported as they are.
  if (!db && *envelope && db.error().message.find(sqlite3_errstr(SQLITE_AUTH)) != std::string::npos) {
    return MakeError(ErrorCode::kLocked, "la base locale " + path + " est chiffrée et verrouillée : lancez relais unlock");
  }
  if (!db) return db.error();
  RELAIS_TRY(sqlite::Migrate(*db, schema::replica_migrations(), "cette base locale"));

  // The node id names this replica in HLC stamps; it must stay the same for the file's life.
  std::string node_id;
  {
    auto tx = sqlite::Transaction::Begin(*db);
    if (!tx) return tx.error();
    auto select = db->Prepare("SELECT value FROM sync_state WHERE key = ?1");
    if (!select) return select.error();
    select->Bind(1, std::string_view(kNodeIdKey));
    auto row = select->Step();
    if (!row) return row.error();
    if (*row) {
      node_id = select->Text(0);
    } else {
      node_id = RandomHex(5);
      auto insert = db->Prepare("INSERT INTO sync_state(key, value) VALUES (?1, ?2)");
      if (!insert) return insert.error();
      insert->Bind(1, std::string_view(kNodeIdKey)).Bind(2, std::string_view(node_id));
      RELAIS_TRY(insert->Run());
    }
    RELAIS_TRY(tx->Commit());
  }

  Replica replica(path, std::move(*db), clock, node_id);
  auto max_outbox = replica.db_.Prepare(kMaxOutboxHlc);
  if (!max_outbox) return max_outbox.error();
  auto row = max_outbox->Step();
  if (!row) return row.error();
  auto last = replica.GetState(kHlcLastKey);
  if (!last) return last.error();
  const std::pair<std::optional<std::string>, const char*> seen[2] = {{max_outbox->Val(0), "outbox"},
                                                                      {*last, "sync_state hlc_last"}};
  for (const auto& [text, where] : seen) {
    if (!text) continue;
    auto stamp = ParseSavedStamp(*text, node_id);
    if (!stamp) {
      // Resuming from an earlier point would stamp new edits behind ones already made or seen.
      return MakeError(ErrorCode::kIo, "la base locale " + path + " est endommagée : l'horloge enregistrée (" + where +
                                           " = « " + text->substr(0, 64) +
                                           " ») n'est pas un horodatage Relais. Rien n'a été modifié ; gardez une "
                                           "copie de ce fichier et signalez-le au support.");
    }
    replica.hlc_.Observe(*stamp);
  }
  return replica;
}

Result<sqlite::Stmt*> Replica::Statement(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second.get();
  auto stmt = db_.Prepare(sql);
  if (!stmt) return stmt.error();
  auto owned = std::make_unique<sqlite::Stmt>(std::move(*stmt));
  sqlite::Stmt* raw = owned.get();
  statements_.emplace(sql, std::move(owned));
  return raw;
}

Result<std::optional<std::string>> Replica::GetState(const std::string& key) {
  auto stmt = Statement("SELECT value FROM sync_state WHERE key = ?1");
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)->Bind(1, std::string_view(key));
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>((*stmt)->Text(0));
}

Status Replica::SetState(const std::string& key, const std::string& value) {
  auto stmt = Statement(
      "INSERT INTO sync_state(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)->Bind(1, std::string_view(key)).Bind(2, std::string_view(value));
  return (*stmt)->Run();
}

Result<std::optional<schema::Record>> Replica::Get(const schema::Table& table, const std::string& id) {
  std::string sql = "SELECT version";
  for (const schema::Field& f : table.fields) sql += ", " + std::string(f.name);
  sql += " FROM " + std::string(table.name) + " WHERE id = ?1";
  auto stmt = Statement(sql);
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)->Bind(1, std::string_view(id));
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<schema::Record>();
  schema::Record record;
  record.id = id;
  record.version = (*stmt)->Int(0);
  record.values.reserve(table.fields.size());
  for (size_t i = 0; i < table.fields.size(); ++i) record.values.push_back((*stmt)->Val(static_cast<int>(i) + 1));
  return std::optional<schema::Record>(std::move(record));
}

std::string LocalToday(const Clock& clock) {
  std::time_t secs = static_cast<std::time_t>(clock.NowMs() / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace relais::client
