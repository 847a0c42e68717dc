#include "client/cli/conflict_text.h"

#include "client/cli/output.h"
#include "client/sync_text.h"

namespace relais::cli {

namespace {

std::string Quoted(const std::string& table, const std::string& field, const schema::Value& value) {
  const schema::Table* t = schema::FindTable(table);
  return "« " + DisplayValue(t ? t->FindField(field) : nullptr, value) + " »";
}

// "du dossier Girard Maël" (a case), "de la fiche ID (contacts)" otherwise.
Result<std::string> OfRecord(client::Records& records, const std::string& table, const std::string& record_id) {
  if (table != "cases") return "de la fiche " + record_id + " (" + table + ")";
  auto name = CaseLabel(records, record_id);
  if (!name) return name.error();
  return "du dossier " + *name;
}

// "statut du dossier Girard Maël" (a field of a case), "organisme de la fiche …" otherwise.
Result<std::string> FieldOfRecord(client::Records& records, const sync::ConflictNotice& n) {
  auto of = OfRecord(records, n.table, n.record_id);
  if (!of) return of.error();
  return FieldWord(n.table, n.field) + " " + *of;
}

Result<std::string> CaseWithId(client::Records& records, const std::string& id) {
  auto name = CaseName(records, id);
  if (!name) return name.error();
  return name->empty() ? id : *name + " (" + id + ")";
}

}  // namespace

Result<std::string> CaseName(client::Records& records, const std::string& id) {
  auto found = records.Get(schema::CasesTable(), id);
  if (!found) return found.error();
  if (!*found) return std::string();
  const schema::Table& cases = schema::CasesTable();
  std::string name;
  for (const char* f : {"last_name", "first_name"}) {
    const schema::Value& v = (*found)->values[static_cast<size_t>(cases.FieldIndex(f))];
    if (v) name += (name.empty() ? "" : " ") + *v;
  }
  return name;
}

Result<std::string> CaseLabel(client::Records& records, const std::string& id) {
  auto name = CaseName(records, id);
  if (!name) return name.error();
  return name->empty() ? id : *name;
}

std::string FieldWord(const std::string& table, const std::string& field) {
  const schema::Table* t = schema::FindTable(table);
  const schema::Field* f = t ? t->FindField(field) : nullptr;
  if (!f) return field;
  std::string word(f->label);
  if (!word.empty() && word[0] >= 'A' && word[0] <= 'Z') word[0] = static_cast<char>(word[0] - 'A' + 'a');
  return word;
}

Result<std::string> NoticeSentence(client::Records& records, const sync::ConflictNotice& n) {
  const std::string other_device = n.server_device.empty() ? "le centre" : n.server_device;
  if (n.kind == "duplicate") {
    auto created = CaseLabel(records, n.record_id);
    if (!created) return created.error();
    // No other case named: it lies outside this device's territories, and the centre checks alone.
    if (n.other_id.empty()) {
      if (n.status == "open") {
        return "Le dossier " + *created +
               " que vous avez créé ressemble peut-être à une personne déjà suivie : le centre vérifie "
               "(doublon possible), vous n'avez rien à faire";
      }
      if (n.settlement == "merged") {
        return "Arbitrage du centre : le dossier " + *created +
               " que vous avez créé a été fusionné dans le dossier de la même personne, suivi hors de vos territoires";
      }
      return "Arbitrage du centre : le dossier " + *created + " n'est pas un doublon ; il reste tel quel";
    }
    auto other = CaseWithId(records, n.other_id);
    if (!other) return other.error();
    if (n.status == "open") {
      return "Le dossier " + *created + " que vous avez créé ressemble à " + *other +
             " : doublon possible, en attente d'arbitrage par le centre";
    }
    if (n.settlement == "merged") {
      const std::string survivor_id = n.settled_value.value_or(n.other_id);
      auto survivor = CaseWithId(records, survivor_id);
      if (!survivor) return survivor.error();
      return client::MergedCaseText(*created, *survivor, survivor_id);
    }
    return "Arbitrage du centre : " + *created + " et " + *other +
           " sont deux personnes différentes ; les deux dossiers restent";
  }
  auto what = FieldOfRecord(records, n);
  if (!what) return what.error();
  if (n.status == "open") {
    return "Votre saisie du champ " + *what +
           " est en attente d'arbitrage par le centre : " + Quoted(n.table, n.field, n.device_value) + " (vous) / " +
           Quoted(n.table, n.field, n.server_value) + " (" + other_device + ")";
  }
  schema::Value kept = n.settled_value;
  if (!kept && n.settlement == "server") kept = n.server_value;
  if (!kept && n.settlement == "device") kept = n.device_value;
  std::string whose;
  if (n.settlement == "device" || (n.settlement == "value" && kept == n.device_value))
    whose = "la vôtre";
  else if (n.settlement == "server" || kept == n.server_value)
    whose = "celle de " + other_device;
  else
    whose = "fixée par le centre";
  return "Arbitrage du centre : " + *what + " — valeur retenue " + Quoted(n.table, n.field, kept) + " (" + whose + ")";
}

Result<std::string> LostEditSentence(client::Records& records, const sync::LostEdit& lost) {
  auto of = OfRecord(records, lost.table, lost.record_id);
  if (!of) return of.error();
  std::string kept;
  if (const schema::Table* table = schema::FindTable(lost.table)) {
    const int index = table->FieldIndex(lost.field);
    auto row = records.Get(*table, lost.record_id);
    if (!row) return row.error();
    if (*row && index >= 0) {
      kept = DisplayValue(&table->fields[static_cast<size_t>(index)], (*row)->values[static_cast<size_t>(index)]);
    }
  }
  return client::LostEditText(FieldWord(lost.table, lost.field), *of, kept, lost.record_id);
}

}  // namespace relais::cli
