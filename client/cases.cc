#include "client/cases.h"

namespace relais::client {

Result<schema::Record> CloseCase(Records& records, const std::string& id, const schema::Value& reason,
                                 const schema::Value& date) {
  const schema::Table& cases = schema::CasesTable();
  auto current = records.Get(cases, id);
  if (!current) return current.error();
  if (!*current)
    return MakeError(ErrorCode::kNotFound,
                     "aucun dossier " + id + " dans cette base (relais case search NOM pour le trouver)");
  const schema::Value& closed_on = (*current)->values[static_cast<size_t>(cases.FieldIndex("closed_on"))];
  if (closed_on) {
    return MakeError(ErrorCode::kValidation, "closed_on: le dossier " + id + " est déjà clos (le " + *closed_on +
                                                 ") ; pour le rouvrir : relais case edit " + id + " --clear closed_on");
  }
  FieldValues changes = {{"closed_on", date ? date : schema::Value(LocalToday(records.replica().clock()))}};
  if (reason) changes.emplace_back("close_reason", reason);
  auto edited = records.Edit(cases, id, changes);
  if (!edited) return edited.error();
  return std::move(edited->record);
}

Result<schema::Record> AddFollowup(Records& records, const std::string& case_id, const FieldValues& named) {
  const schema::Table& followups = schema::FollowupsTable();
  std::vector<schema::Value> values(followups.fields.size());
  for (const auto& [name, value] : named) {
    int i = followups.FieldIndex(name);
    if (i < 0) return MakeError(ErrorCode::kUsage, "champ inconnu " + name + " pour followups");
    values[static_cast<size_t>(i)] = value;
  }
  values[static_cast<size_t>(followups.FieldIndex("case_id"))] = case_id;
  schema::Value& date = values[static_cast<size_t>(followups.FieldIndex("date"))];
  if (!schema::Normalize(followups.fields[static_cast<size_t>(followups.FieldIndex("date"))], date)) {
    date = LocalToday(records.replica().clock());
  }

  // A next action is after the entry that calls for it (the same day at the earliest).
  const auto next_index = static_cast<size_t>(followups.FieldIndex("next_date"));
  const schema::Value next = schema::Normalize(followups.fields[next_index], values[next_index]);
  if (next && date && schema::IsIsoDate(*next) && schema::IsIsoDate(*date) && *next < *date) {
    return MakeError(ErrorCode::kValidation,
                     "next_date: « " + *next + " » est avant la date du suivi (« " + *date + " »)");
  }

  auto tx = sqlite::Transaction::Begin(records.replica().db());
  if (!tx) return tx.error();
  auto parent = records.Get(schema::CasesTable(), case_id);
  if (!parent) return parent.error();
  if (!*parent)
    return MakeError(ErrorCode::kNotFound,
                     "aucun dossier " + case_id + " dans cette base (relais case search NOM pour le trouver)");
  auto created = records.CreateInTransaction(followups, std::move(values), std::nullopt);
  if (!created) return created.error();
  RELAIS_TRY(tx->Commit());
  return created;
}

Result<std::vector<schema::Record>> ListFollowups(Records& records, const std::string& case_id) {
  const schema::Table& followups = schema::FollowupsTable();
  return records.Query(
      followups,
      "SELECT " + RecordColumns(followups) + " FROM followups WHERE case_id = ?1 ORDER BY date DESC, id DESC",
      {case_id});
}

}  // namespace relais::client
