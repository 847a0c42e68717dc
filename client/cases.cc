#include "client/cases.h"

#include "base/text.h"

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

Status CompleteConsent(FieldValues& values, const std::string& today, const std::string& collector) {
  for (const std::string consent : {"consent_processing", "consent_sharing"}) {
    bool given = false, dated = false, collected = false;
    for (auto& [name, value] : values) {
      if (name == consent && value) {
        std::string word = schema::Normalize(*schema::CasesTable().FindField(name), value).value_or(std::string());
        LowerAsciiInPlace(word);
        if (word == "oui" || word == "yes") {
          value = "oui";
        } else if (word == "non" || word == "no") {
          value = "non";
        } else {
          return MakeError(ErrorCode::kValidation,
                           consent + ": « " + *value + " » n'est pas une réponse permise (oui ou non ; yes ou no)");
        }
        given = true;
      }
      dated |= name == consent + "_on";
      collected |= name == consent + "_by";
    }
    if (!given) continue;
    if (!dated) values.emplace_back(consent + "_on", today);
    if (!collected && !collector.empty()) values.emplace_back(consent + "_by", collector);
  }
  return OkStatus();
}

Result<std::string> JoinParticipants(const std::vector<std::string>& participants) {
  std::string joined;
  for (const std::string& given : participants) {
    std::string one = schema::Normalize(*schema::FollowupsTable().FindField("participants"), given).value_or("");
    if (one.empty() || one.find(';') != std::string::npos) {
      return MakeError(ErrorCode::kValidation, "participants: « " + given +
                                                   " » n'est pas un participant (un nom, « Nom (organisme) », sans ;)");
    }
    joined += (joined.empty() ? "" : "; ") + one;
  }
  return joined;
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

  const schema::Value& participants = values[static_cast<size_t>(followups.FieldIndex("participants"))];
  if (values[static_cast<size_t>(followups.FieldIndex("kind"))] == "tripartite" &&
      (!participants || participants->find(';') == std::string::npos)) {
    return MakeError(ErrorCode::kValidation,
                     "participants: une réunion tripartite nomme ses participants, au moins le partenaire et la "
                     "personne (--participant \"Nom (organisme)\" deux fois au moins)");
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
