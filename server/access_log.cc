#include "server/access_log.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/ids.h"
#include "schema/model.h"

namespace relais::server {

using nlohmann::json;

namespace {

// "YYYY-MM-DDTHH:MM:SSZ" (base/clock.h, IsoTimestamp) of a day that exists.
bool IsIsoTimestamp(std::string_view t) {
  if (t.size() != 20 || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z') return false;
  if (!schema::IsIsoDate(t.substr(0, 10))) return false;
  for (size_t i : {11, 12, 14, 15, 17, 18}) {
    if (t[i] < '0' || t[i] > '9') return false;
  }
  return (t[11] - '0') * 10 + (t[12] - '0') < 24 && t[14] < '6' && t[17] < '6';
}

bool IsDeviceAction(std::string_view action) {
  return std::find(kDeviceAccessActions.begin(), kDeviceAccessActions.end(), action) != kDeviceAccessActions.end();
}

Error EntryError(size_t index, const std::string& what) {
  return MakeError(ErrorCode::kUsage, "entries[" + std::to_string(index) + "] : " + what);
}

Result<AccessEntry> ParseEntry(const json& e, size_t index, const std::string& device) {
  if (!e.is_object()) return EntryError(index, "attendu un objet {id, at, by, action, case_id, results}");
  AccessEntry entry;
  entry.device = device;
  const json& id = e.contains("id") ? e["id"] : json();
  if (!id.is_string() || !IsUuid(id.get<std::string>())) return EntryError(index, "id : attendu un UUID");
  entry.id = id.get<std::string>();
  const json& at = e.contains("at") ? e["at"] : json();
  if (!at.is_string() || !IsIsoTimestamp(at.get<std::string>())) {
    return EntryError(index, "at : attendu une heure UTC AAAA-MM-JJTHH:MM:SSZ");
  }
  entry.at = at.get<std::string>();
  const json& by = e.contains("by") ? e["by"] : json();
  if (!by.is_string() || by.get<std::string>().empty() || by.get<std::string>().size() > 100) {
    return EntryError(index, "by : attendu le nom de connexion de qui a lu (1 à 100 octets)");
  }
  entry.reader = by.get<std::string>();
  const json& action = e.contains("action") ? e["action"] : json();
  if (!action.is_string() || !IsDeviceAction(action.get<std::string>())) {
    return EntryError(index, "action : attendu consultation, suivis, orientations, export ou recherche");
  }
  entry.action = action.get<std::string>();
  const json& case_id = e.contains("case_id") ? e["case_id"] : json();
  const json& results = e.contains("results") ? e["results"] : json();
  if (entry.action == "recherche") {
    if (!case_id.is_null()) return EntryError(index, "case_id : une recherche ne nomme pas de dossier");
    if (!results.is_number_integer() || results.get<int64_t>() < 0) {
      return EntryError(index, "results : une recherche donne son nombre de résultats (entier ≥ 0)");
    }
    entry.results = results.get<int64_t>();
    return entry;
  }
  if (!case_id.is_string() || !IsUuid(case_id.get<std::string>())) {
    return EntryError(index, "case_id : attendu l'UUID du dossier lu");
  }
  if (!results.is_null()) return EntryError(index, "results : seule une recherche donne un nombre de résultats");
  entry.case_id = case_id.get<std::string>();
  return entry;
}

constexpr const char* kColumns = "id, at, device, reader, action, case_id, results";

AccessEntry ReadEntry(const SqlRow& r) {
  AccessEntry e{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Val(5), std::nullopt};
  if (!r.IsNull(6)) e.results = r.Int(6);
  return e;
}

}  // namespace

Result<std::vector<AccessEntry>> ParseDeviceAccess(const json& body, const std::string& device) {
  if (!body.is_object() || !body.contains("entries") || !body["entries"].is_array()) {
    return MakeError(ErrorCode::kUsage, "attendu un objet JSON avec entries : [{id, at, by, action, case_id, results}]");
  }
  const json& list = body["entries"];
  if (list.size() > kMaxAccessEntriesPerRequest) {
    return MakeError(ErrorCode::kUsage, "entries : au plus " + std::to_string(kMaxAccessEntriesPerRequest) +
                                            " par requête (envoyez le reste dans une autre)");
  }
  std::vector<AccessEntry> entries;
  entries.reserve(list.size());
  for (const json& e : list) {
    auto entry = ParseEntry(e, entries.size(), device);
    if (!entry) return entry.error();
    entries.push_back(std::move(*entry));
  }
  return entries;
}

Result<int64_t> InsertAccessEntries(SqlConn& conn, const std::vector<AccessEntry>& entries,
                                    const std::string& received_at) {
  auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
  if (!tx) return tx.error();
  int64_t added = 0;
  const std::string insert = std::string("INSERT INTO access_log (") + kColumns +
                             ", received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING";
  for (const AccessEntry& e : entries) {
    auto changed = conn.Run(insert, {e.id, e.at, e.device, e.reader, e.action, schema::Value(e.case_id),
                                     e.results ? SqlParam(*e.results) : SqlParam(), received_at});
    if (!changed) return changed.error();
    added += *changed;
  }
  RELAIS_TRY(tx->Commit());
  return added;
}

Result<std::vector<AccessEntry>> ListAccessEntries(SqlConn& conn, const AccessFilter& filter) {
  const std::string select = std::string("SELECT ") + kColumns + " FROM access_log";
  const std::string since = filter.since.value_or("");
  if (filter.case_id) {
    return QueryAll(conn, select + " WHERE case_id = ?1 AND at >= ?2 ORDER BY at, id", {*filter.case_id, since},
                    ReadEntry);
  }
  if (filter.device) {
    return QueryAll(conn, select + " WHERE device = ?1 AND at >= ?2 ORDER BY at, id", {*filter.device, since},
                    ReadEntry);
  }
  return MakeError(ErrorCode::kUsage, "nommez un dossier (CASE_ID) ou un appareil (--device NOM)");
}

Result<std::optional<std::string>> CaseOfRecord(SqlConn& conn, const std::string& table,
                                                const std::string& record_id) {
  const schema::Table* t = schema::FindTable(table);
  if (t == nullptr) return std::optional<std::string>();
  if (t->name == schema::CasesTable().name) return std::optional<std::string>(record_id);
  if (t->FindField("case_id") == nullptr) return std::optional<std::string>();
  auto found = QueryOne(conn, "SELECT case_id FROM " + std::string(t->name) + " WHERE id = ?1", {record_id},
                        [](const SqlRow& r) { return r.Val(0); });
  if (!found) return found.error();
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>(**found);
}

AccessEntry CentreAccess(int64_t now_ms, const std::string& reader, std::string_view action,
                         const std::string& case_id) {
  return AccessEntry{NewUuidV7(now_ms), IsoTimestamp(now_ms), std::string(kCentreDevice), reader, std::string(action), case_id, std::nullopt};
}

std::string AccessActionLabel(std::string_view action) {
  if (action == "consultation") return "fiche consultée";
  if (action == "suivis") return "suivis listés";
  if (action == "orientations") return "orientations listées";
  if (action == "export") return "exporté dans un fichier";
  if (action == "recherche") return "recherche";
  if (action == "historique") return "historique consulté";
  if (action == "conflit") return "conflit consulté";
  if (action == "export-personne") return "dossier complet exporté (droit d'accès)";
  return std::string(action);
}

json AccessEntryJson(const AccessEntry& e) {
  return json{{"id", e.id},
              {"at", e.at},
              {"device", e.device},
              {"by", e.reader},
              {"action", e.action},
              {"case_id", e.case_id ? json(*e.case_id) : json(nullptr)},
              {"results", e.results ? json(*e.results) : json(nullptr)}};
}

}  // namespace relais::server
