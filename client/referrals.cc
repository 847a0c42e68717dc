#include "client/referrals.h"

#include <utility>

namespace relais::client {

namespace {

size_t Index(const schema::Table& table, std::string_view field) {
  return static_cast<size_t>(table.FieldIndex(field));
}

Error Missing(std::string_view field, const std::string& id, const std::string& what, const std::string& hint) {
  return MakeError(ErrorCode::kNotFound,
                   std::string(field) + ": aucun " + what + " d'identifiant " + id + " dans cette base (" + hint + ")");
}

schema::Value Optional(const std::string& text) { return text.empty() ? schema::Value() : schema::Value(text); }

// The statuses in which the partner's work is not over: a due date still means something.
bool IsOpen(std::string_view status) { return status == "envoyee" || status == "acceptee"; }

// The select list of ListReferrals and DueReferrals: the referral, the person's name and the
// partner's organisation, as this replica knows them.
std::string ViewSelect() {
  return "SELECT " + RecordColumns(schema::ReferralsTable(), "r.") +
         ", coalesce(c.last_name || ' ' || c.first_name, ''), coalesce(o.organisation, '') FROM referrals r "
         "LEFT JOIN cases c ON c.id = r.case_id LEFT JOIN contacts o ON o.id = r.organisation";
}

constexpr char kViewOrder[] = " ORDER BY r.due_on IS NULL, r.due_on, r.sent_on, r.id";

Result<std::vector<ReferralView>> QueryViews(Records& records, const std::string& sql,
                                             const std::vector<schema::Value>& params, const std::string& today) {
  const schema::Table& referrals = schema::ReferralsTable();
  auto stmt = records.replica().Statement(sql);
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  for (size_t i = 0; i < params.size(); ++i) (*stmt)->Bind(static_cast<int>(i) + 1, params[i]);
  std::vector<ReferralView> views;
  const int names = static_cast<int>(referrals.fields.size()) + 2;
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    ReferralView v;
    v.referral.id = (*stmt)->Text(0);
    v.referral.version = (*stmt)->Int(1);
    for (size_t i = 0; i < referrals.fields.size(); ++i)
      v.referral.values.push_back((*stmt)->Val(static_cast<int>(i) + 2));
    v.case_name = (*stmt)->Text(names);
    v.organisation_name = (*stmt)->Text(names + 1);
    v.overdue = IsOverdue(v.referral.values[Index(referrals, "status")].value_or(""),
                          v.referral.values[Index(referrals, "due_on")].value_or(""), today);
    views.push_back(std::move(v));
  }
  return views;
}

Status CheckDate(std::string_view option, const std::string& date) {
  if (schema::IsIsoDate(date)) return OkStatus();
  return MakeError(ErrorCode::kValidation,
                   std::string(option) + ": « " + date + " » n'est pas une date qui existe (attendu : AAAA-MM-JJ)");
}

}  // namespace

bool IsOverdue(const std::string& status, const std::string& due_on, const std::string& today) {
  return IsOpen(status) && !due_on.empty() && due_on < today;
}

Result<schema::Record> AddReferral(Records& records, const ReferralInput& input) {
  const schema::Table& referrals = schema::ReferralsTable();
  const schema::Table& cases = schema::CasesTable();
  std::vector<schema::Value> values(referrals.fields.size());
  auto set = [&](std::string_view field, const std::string& text) {
    const size_t i = Index(referrals, field);
    values[i] = schema::Normalize(referrals.fields[i], Optional(text));
  };
  set("case_id", input.case_id);
  set("organisation", input.organisation);
  set("contact", input.contact);
  set("service", input.service);
  set("due_on", input.due_on);
  set("note", input.note);
  values[Index(referrals, "status")] = "envoyee";
  values[Index(referrals, "sent_on")] = LocalToday(records.replica().clock());
  // Ids are checked as values first, so that a malformed one is named as such rather than not found.
  for (std::string_view field : {"case_id", "organisation", "contact"}) {
    const size_t i = Index(referrals, field);
    RELAIS_TRY(schema::ValidateValue(referrals.fields[i], values[i]));
  }

  auto tx = sqlite::Transaction::Begin(records.replica().db());
  if (!tx) return tx.error();
  const std::string& case_id = *values[Index(referrals, "case_id")];
  auto held = records.Get(cases, case_id);
  if (!held) return held.error();
  if (!*held) return Missing("case_id", case_id, "dossier", "relais case search NOM pour le trouver");
  const std::vector<schema::Value>& person = (*held)->values;
  if (const schema::Value& survivor = person[Index(cases, "merged_into")]) {
    return MakeError(ErrorCode::kValidation, "case_id: le dossier " + case_id +
                                                 " a été fusionné par le centre dans le dossier " + *survivor +
                                                 " : orientez depuis celui-ci");
  }
  if (auto consented = schema::CheckCaseConsent(referrals, person, case_id); !consented) return consented.error();
  for (std::string_view field : {"organisation", "contact"}) {
    const schema::Value& id = values[Index(referrals, field)];
    if (!id) continue;
    auto partner = records.Get(schema::ContactsTable(), *id);
    if (!partner) return partner.error();
    if (!*partner) {
      return Missing(field, *id, "contact de l'annuaire",
                     "relais contact search NOM pour trouver l'organisme ou la personne");
    }
  }
  auto created = records.CreateInTransaction(referrals, std::move(values), std::nullopt);
  if (!created) return created.error();
  RELAIS_TRY(tx->Commit());
  return created;
}

Result<EditResult> UpdateReferral(Records& records, const std::string& id, const ReferralUpdate& update) {
  if (update.status.empty() && update.reason.empty() && update.feedback.empty()) {
    return MakeError(ErrorCode::kUsage, "referral update : donnez --status, --reason ou --feedback");
  }
  FieldValues changes;
  if (!update.status.empty()) changes.emplace_back("status", update.status);
  if (!update.reason.empty()) changes.emplace_back("reason", update.reason);
  if (!update.feedback.empty()) changes.emplace_back("feedback", update.feedback);
  const schema::Table& referrals = schema::ReferralsTable();
  auto current = records.Get(referrals, id);
  if (!current) return current.error();
  if (!*current) return Missing("id", id, "orientation", "relais referral list pour la trouver");
  if (update.status == "refusee" && update.reason.empty() && !(*current)->values[Index(referrals, "reason")]) {
    return MakeError(ErrorCode::kValidation,
                     "reason: un refus du partenaire se note avec son motif (--reason \"...\")");
  }
  return records.Edit(referrals, id, changes);
}

Result<std::vector<ReferralView>> ListReferrals(Records& records, const ReferralFilter& filter) {
  const std::string today = filter.today.empty() ? LocalToday(records.replica().clock()) : filter.today;
  std::string sql = ViewSelect() + " WHERE 1";
  std::vector<schema::Value> params;
  const schema::Table& referrals = schema::ReferralsTable();
  if (!filter.case_id.empty()) {
    params.push_back(schema::Normalize(*referrals.FindField("case_id"), filter.case_id));
    sql += " AND r.case_id = ?" + std::to_string(params.size());
  }
  if (!filter.status.empty()) {
    const schema::Field& status = *referrals.FindField("status");
    RELAIS_TRY(schema::ValidateValue(status, filter.status));
    params.push_back(filter.status);
    sql += " AND r.status = ?" + std::to_string(params.size());
  }
  if (filter.overdue_only) {
    params.push_back(today);
    sql += " AND r.status IN ('envoyee', 'acceptee') AND r.due_on < ?" + std::to_string(params.size());
  }
  return QueryViews(records, sql + kViewOrder, params, today);
}

Result<std::vector<ReferralView>> DueReferrals(Records& records, const std::string& from, const std::string& to) {
  RELAIS_TRY(CheckDate("from", from));
  RELAIS_TRY(CheckDate("to", to));
  return QueryViews(records,
                    ViewSelect() + " WHERE r.status IN ('envoyee', 'acceptee') AND r.due_on <= ?2" + kViewOrder,
                    {from, to}, from);
}

}  // namespace relais::client
