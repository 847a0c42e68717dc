#include "client/access_log.h"

#include <cstdlib>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/ids.h"

namespace relais::client {

namespace {

constexpr const char* kInsert =
    "INSERT INTO access_log (id, at, reader, action, case_id, results) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

// Who reads: the system login ($USER, else $LOGNAME), "inconnu" without one; at most the 100 bytes
// the centre takes, cut between two characters.
std::string Reader() {
  for (const char* name : {"USER", "LOGNAME"}) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') continue;
    std::string login(v);
    if (login.size() > 100) {
      size_t cut = 100;
      while (cut > 0 && (static_cast<unsigned char>(login[cut]) & 0xC0) == 0x80) --cut;
      login.resize(cut);
    }
    return login;
  }
  return "inconnu";
}

Status Insert(Replica& replica, std::string_view action, const std::optional<std::string>& case_id,
              std::optional<int64_t> results) {
  auto insert = replica.Statement(kInsert);
  if (!insert) return insert.error();
  sqlite::StmtGuard guard(**insert);
  const int64_t now = replica.clock().NowMs();
  (*insert)->Bind(1, NewUuidV7(now)).Bind(2, IsoTimestamp(now)).Bind(3, Reader()).Bind(4, std::string(action));
  if (case_id) (*insert)->Bind(5, *case_id);
  if (results) (*insert)->Bind(6, *results);
  return (*insert)->Run();
}

}  // namespace

Status NoteCaseRead(Replica& replica, std::string_view action, const std::string& case_id) {
  return Insert(replica, action, case_id, std::nullopt);
}

Status NoteSearch(Replica& replica, int64_t results) { return Insert(replica, "recherche", std::nullopt, results); }

Status NoteExport(Replica& replica, const schema::Table& table) {
  std::string cases;
  if (table.name == schema::CasesTable().name) {
    cases = "SELECT id FROM cases";
  } else if (table.FindField("case_id") != nullptr) {
    cases = "SELECT DISTINCT case_id FROM " + std::string(table.name) + " WHERE case_id IS NOT NULL";
  } else {
    return OkStatus();
  }
  auto tx = sqlite::Transaction::Begin(replica.db());
  if (!tx) return tx.error();
  std::vector<std::string> ids;
  {
    auto read = replica.db().Prepare(cases);
    if (!read) return read.error();
    while (true) {
      auto row = read->Step();
      if (!row) return row.error();
      if (!*row) break;
      ids.push_back(read->Text(0));
    }
  }
  for (const std::string& id : ids) RELAIS_TRY(Insert(replica, "export", id, std::nullopt));
  return tx->Commit();
}

Result<std::optional<sync::AccessLogChunk>> NextAccessChunk(Replica& replica, size_t limit) {
  auto read = replica.db().Prepare(
      "SELECT seq, id, at, reader, action, case_id, results FROM access_log ORDER BY seq LIMIT ?1");
  if (!read) return read.error();
  read->Bind(1, static_cast<int64_t>(limit));
  nlohmann::json entries = nlohmann::json::array();
  sync::AccessLogChunk chunk;
  while (true) {
    auto row = read->Step();
    if (!row) return row.error();
    if (!*row) break;
    chunk.last_seq = read->Int(0);
    entries.push_back({{"id", read->Text(1)},
                       {"at", read->Text(2)},
                       {"by", read->Text(3)},
                       {"action", read->Text(4)},
                       {"case_id", read->IsNull(5) ? nlohmann::json(nullptr) : nlohmann::json(read->Text(5))},
                       {"results", read->IsNull(6) ? nlohmann::json(nullptr) : nlohmann::json(read->Int(6))}});
  }
  if (entries.empty()) return std::optional<sync::AccessLogChunk>();
  chunk.count = static_cast<int64_t>(entries.size());
  chunk.body = nlohmann::json{{"entries", std::move(entries)}}.dump();
  return std::optional<sync::AccessLogChunk>(std::move(chunk));
}

Status ForgetAccessUpTo(Replica& replica, int64_t last_seq) {
  auto forget = replica.db().Prepare("DELETE FROM access_log WHERE seq <= ?1");
  if (!forget) return forget.error();
  forget->Bind(1, last_seq);
  return forget->Run();
}

Result<int64_t> PendingAccessCount(Replica& replica) {
  auto count = replica.db().Prepare("SELECT count(*) FROM access_log");
  if (!count) return count.error();
  auto row = count->Step();
  if (!row) return row.error();
  return *row ? count->Int(0) : 0;
}

}  // namespace relais::client
