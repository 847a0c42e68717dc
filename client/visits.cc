#include "client/visits.h"

#include <utility>

namespace relais::client {

namespace {

// The typology a linked visit takes from its case, field for field (age_band is computed).
constexpr const char* kCopiedTypology[] = {"status", "sector", "commune", "postcode", "service_level"};

size_t Index(const schema::Table& table, std::string_view field) {
  return static_cast<size_t>(table.FieldIndex(field));
}

// Whether the replica holds record `id` of `table` (normalised as the field holds it).
Result<std::optional<schema::Record>> Referenced(Records& records, const schema::Table& table,
                                                 const schema::Value& id) {
  if (!id) return std::optional<schema::Record>();
  return records.Get(table, *id);
}

Error Missing(std::string_view field, const std::string& id, const std::string& what, const std::string& hint) {
  return MakeError(ErrorCode::kNotFound,
                   std::string(field) + ": aucun" + what + " d'identifiant " + id + " dans cette base (" + hint + ")");
}

}  // namespace

std::optional<std::string> AgeBand(const std::string& birth_date, const std::string& on) {
  if (!schema::IsIsoDate(birth_date) || !schema::IsIsoDate(on)) return std::nullopt;
  int age = std::stoi(on.substr(0, 4)) - std::stoi(birth_date.substr(0, 4));
  if (on.substr(5) < birth_date.substr(5)) --age;  // MM-DD compare as text
  if (age < 16) return std::nullopt;
  if (age <= 25) return "16-25";
  if (age <= 44) return "26-44";
  if (age <= 54) return "45-54";
  return "55+";
}

Result<schema::Record> AddVisit(Records& records, const FieldValues& named) {
  const schema::Table& visits = schema::VisitsTable();
  std::vector<schema::Value> values(visits.fields.size());
  for (const auto& [name, value] : named) {
    const int i = visits.FieldIndex(name);
    if (i < 0) return MakeError(ErrorCode::kUsage, "champ inconnu " + name + " pour visits");
    values[static_cast<size_t>(i)] = schema::Normalize(visits.fields[static_cast<size_t>(i)], value);
  }
  schema::Value& date = values[Index(visits, "date")];
  if (!date) date = LocalToday(records.replica().clock());

  auto tx = sqlite::Transaction::Begin(records.replica().db());
  if (!tx) return tx.error();
  // Checked as values first, so that a malformed id is named as such rather than not found.
  for (std::string_view field : {"case_id", "orientation", "amends", "date"}) {
    const size_t i = Index(visits, field);
    RELAIS_TRY(schema::ValidateValue(visits.fields[i], values[i]));
  }
  const schema::Value& case_id = values[Index(visits, "case_id")];
  auto linked = Referenced(records, schema::CasesTable(), case_id);
  if (!linked) return linked.error();
  if (case_id && !*linked) return Missing("case_id", *case_id, " dossier", "relais case search NOM pour le trouver");
  if (*linked) {
    const schema::Table& cases = schema::CasesTable();
    const std::vector<schema::Value>& held = (*linked)->values;
    if (const schema::Value& survivor = held[Index(cases, "merged_into")]) {
      return MakeError(ErrorCode::kValidation, "case_id: le dossier " + *case_id +
                                                   " a été fusionné par le centre dans le dossier " + *survivor +
                                                   " : notez la visite sur celui-ci (--case " + *survivor + ")");
    }
    for (const char* field : kCopiedTypology) {
      schema::Value& value = values[Index(visits, field)];
      if (!value) value = held[Index(cases, field)];
    }
    schema::Value& band = values[Index(visits, "age_band")];
    if (!band && held[Index(cases, "birth_date")]) band = AgeBand(*held[Index(cases, "birth_date")], *date);
  }
  const schema::Value& orientation = values[Index(visits, "orientation")];
  auto partner = Referenced(records, schema::ContactsTable(), orientation);
  if (!partner) return partner.error();
  if (orientation && !*partner) {
    return Missing("orientation", *orientation, " partenaire (contact)",
                   "relais contact search NOM pour trouver l'organisme ou la personne");
  }
  const schema::Value& amends = values[Index(visits, "amends")];
  auto amended = Referenced(records, visits, amends);
  if (!amended) return amended.error();
  if (amends && !*amended) return Missing("amends", *amends, "e visite", "relais visit list pour la trouver");
  auto created = records.CreateInTransaction(visits, std::move(values), std::nullopt);
  if (!created) return created.error();
  RELAIS_TRY(tx->Commit());
  return created;
}

Result<schema::Record> AmendVisit(Records& records, const std::string& id, const FieldValues& changes) {
  const schema::Table& visits = schema::VisitsTable();
  auto original = records.Get(visits, id);
  if (!original) return original.error();
  if (!*original) return Missing("amends", id, "e visite", "relais visit list pour la trouver");
  FieldValues values;
  for (size_t i = 0; i < visits.fields.size(); ++i) {
    values.emplace_back(std::string(visits.fields[i].name), (*original)->values[i]);
  }
  for (const auto& [name, value] : changes) {
    const int i = visits.FieldIndex(name);
    if (i < 0) return MakeError(ErrorCode::kUsage, "champ inconnu " + name + " pour visits");
    values[static_cast<size_t>(i)].second = value;
  }
  values[Index(visits, "amends")].second = (*original)->id;
  return AddVisit(records, values);
}

Result<std::vector<schema::Record>> ListVisits(Records& records, const VisitFilter& filter) {
  const schema::Table& visits = schema::VisitsTable();
  const schema::Field& date = *visits.FindField("date");
  for (const auto& [option, value] : {std::pair("--from", &filter.from), std::pair("--to", &filter.to)}) {
    Status valid = schema::ValidateValue(date, *value);
    if (!valid)
      return MakeError(ErrorCode::kValidation, std::string(option) + ": « " + *value +
                                                   " » n'est pas une date qui existe (attendu : AAAA-MM-JJ)");
  }
  std::string sql = "SELECT " + RecordColumns(visits, "v.") + " FROM visits v WHERE v.date BETWEEN ?1 AND ?2";
  std::vector<schema::Value> params = {filter.from, filter.to};
  if (!filter.reception_point.empty()) {
    sql += " AND v.reception_point = ?3";
    params.push_back(schema::Normalize(*visits.FindField("reception_point"), filter.reception_point));
  }
  if (!filter.with_amended) sql += " AND NOT EXISTS (SELECT 1 FROM visits a WHERE a.amends = v.id)";
  sql += " ORDER BY v.date, v.time, v.id";
  return records.Query(visits, sql, params);
}

}  // namespace relais::client
