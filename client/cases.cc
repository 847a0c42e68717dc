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

namespace {

const schema::Value& ValueOf(const schema::Record& record, std::string_view field) {
  return record.values[static_cast<size_t>(schema::FollowupsTable().FieldIndex(field))];
}

// The entry that amends `entry_id`, if any (the first written, when two devices both did).
Result<std::optional<schema::Record>> AmendmentOf(Records& records, const std::string& entry_id) {
  const schema::Table& followups = schema::FollowupsTable();
  auto found = records.Query(followups,
                             "SELECT " + RecordColumns(followups) +
                                 " FROM followups WHERE amends = ?1 ORDER BY rowid LIMIT 1",
                             {entry_id});
  if (!found) return found.error();
  if (found->empty()) return std::optional<schema::Record>();
  return std::optional<schema::Record>(std::move(found->front()));
}

}  // namespace

Result<schema::Record> RectifyFollowup(Records& records, const std::string& entry_id, const Rectification& how) {
  const schema::Table& followups = schema::FollowupsTable();
  const bool withdrawal = how.amendment == "retrait";
  if (withdrawal && how.reason.empty()) {
    return MakeError(ErrorCode::kUsage, "reason: un retrait dit pourquoi : ajoutez --reason TEXTE");
  }
  auto original = records.Get(followups, entry_id);
  if (!original) return original.error();
  if (!*original) {
    return MakeError(ErrorCode::kNotFound, "aucune entrée de suivi " + entry_id +
                                               " dans cette base (relais followup list DOSSIER pour la trouver)");
  }
  if (ValueOf(**original, "amendment") == schema::Value("retrait")) {
    return MakeError(ErrorCode::kValidation,
                     "l'entrée " + entry_id + " est un retrait : elle ne se rectifie pas");
  }
  auto later = AmendmentOf(records, entry_id);
  if (!later) return later.error();
  if (*later) {
    const bool withdrawn = ValueOf(**later, "amendment") == schema::Value("retrait");
    return MakeError(ErrorCode::kValidation,
                     "l'entrée " + entry_id + (withdrawn ? " a déjà été retirée (entrée " + (*later)->id + ")"
                                                         : " a déjà été corrigée par l'entrée " + (*later)->id +
                                                               " : rectifiez celle-ci (relais followup correct " +
                                                               (*later)->id + ")"));
  }
  const std::string& case_id = *ValueOf(**original, "case_id");
  FieldValues values = {{"kind", ValueOf(**original, "kind")},
                        {"date", ValueOf(**original, "date")},
                        {"text", withdrawal ? how.reason : how.text},
                        {"amends", entry_id},
                        {"amendment", how.amendment}};
  if (!how.reason.empty()) values.emplace_back("reason", how.reason);
  if (!how.author.empty()) values.emplace_back("author", how.author);
  // A meeting's correction names the same participants (required for a tripartite one).
  if (const schema::Value& who = ValueOf(**original, "participants")) values.emplace_back("participants", who);
  // A correction carries the next action the entry called for (the agenda shows it in its place).
  if (!withdrawal) {
    if (const schema::Value& next = ValueOf(**original, "next_date")) values.emplace_back("next_date", next);
  }
  return AddFollowup(records, case_id, values);
}

Result<std::vector<schema::Record>> ListFollowups(Records& records, const std::string& case_id, bool all) {
  const schema::Table& followups = schema::FollowupsTable();
  std::string sql = "SELECT " + RecordColumns(followups) + " FROM followups f WHERE case_id = ?1";
  if (!all) {
    sql += " AND f.amendment IS NOT 'retrait' AND NOT EXISTS (SELECT 1 FROM followups a WHERE a.amends = f.id)";
  }
  return records.Query(followups, sql + " ORDER BY date DESC, id DESC", {case_id});
}

}  // namespace relais::client
