#include "server/person_file.h"

#include <string_view>

#include "schema/display.h"
#include "server/access_log.h"
#include "server/staff_json.h"

namespace relais::server {

namespace {

using nlohmann::json;

json RecordValuesJson(const schema::Table& table, const schema::Record& record) {
  json values = json::object();
  for (size_t i = 0; i < table.fields.size(); ++i) {
    const schema::Value& v = record.values[i];
    values[std::string(table.fields[i].name)] = v ? json(*v) : json(nullptr);
  }
  return json{{"id", record.id}, {"version", record.version}, {"values", std::move(values)}};
}

// The French title of a table's section; the table's name for one without.
std::string SectionTitle(std::string_view table) {
  if (table == "followups") return "Suivi (entrées, avec leurs rectifications)";
  if (table == "visits") return "Visites au registre";
  if (table == "appointments") return "Rendez-vous";
  if (table == "referrals") return "Orientations vers des partenaires";
  return std::string(table);
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// A value of `table`'s field `name` as people read it (schema::DisplayValue), escaped.
std::string Cell(const schema::Table* table, const std::string& name, const json& value) {
  const schema::Field* field = table ? table->FindField(name) : nullptr;
  schema::Value v;
  if (value.is_string()) v = value.get<std::string>();
  if (value.is_number()) v = value.dump();
  return Escape(schema::DisplayValue(field, v));
}

std::string Label(const schema::Table* table, const std::string& name) {
  const schema::Field* field = table ? table->FindField(name) : nullptr;
  return Escape(field ? std::string(field->label) : name);
}

// A two-column table of a record's values, empty fields left out.
std::string ValuesTable(const schema::Table* table, const json& values) {
  std::string out = "<table>\n";
  for (const auto& [name, value] : values.items()) {
    if (value.is_null()) continue;
    out += "<tr><th>" + Label(table, name) + "</th><td>" + Cell(table, name, value) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

}  // namespace

Result<json> PersonFileJson(CentralStore& store, const std::string& case_id, const std::string& made_at) {
  const schema::Table& cases = schema::CasesTable();
  auto history = store.History(cases.name, case_id);
  if (!history) return history.error();
  if (history->empty()) {
    return MakeError(ErrorCode::kNotFound, "le centre n'a jamais tenu de dossier " + case_id +
                                               " (vérifiez l'identifiant : c'est l'UUID du dossier)");
  }
  ConflictFilter query;
  query.status.reset();
  query.record_id = case_id;
  auto conflicts = store.Conflicts(query);
  if (!conflicts) return conflicts.error();
  json file = {{"case_id", case_id},
               {"made_at", made_at},
               {"case", LatestValuesJson(*history)},
               {"versions", HistoryJson(*history)},
               {"conflicts", json::array()},
               {"related", json::object()}};
  for (const Conflict& c : *conflicts) file["conflicts"].push_back(ConflictJson(c));
  for (const schema::Table& table : schema::Tables()) {
    if (&table == &cases || table.FieldIndex("case_id") < 0) continue;
    auto records = store.RecordsWhere(table, "case_id", case_id);
    if (!records) return records.error();
    json list = json::array();
    for (const schema::Record& r : *records) list.push_back(RecordValuesJson(table, r));
    file["related"][std::string(table.name)] = std::move(list);
  }
  AccessFilter accesses;
  accesses.case_id = case_id;
  auto log = store.AccessLog(accesses);
  if (!log) return log.error();
  file["access_log"] = json::array();
  for (const AccessEntry& e : *log) file["access_log"].push_back(AccessEntryJson(e));
  return file;
}

std::string PersonFileHtml(const json& file) {
  const schema::Table* cases = &schema::CasesTable();
  const json& now = file["case"];
  std::string name = now.is_object() ? now.value("first_name", "") + " " + now.value("last_name", "") : "";
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<title>Données détenues — " +
      Escape(name) +
      "</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
      "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.25em .5em;"
      "text-align:left;vertical-align:top}th{background:#f0f0f0;font-weight:normal}</style>\n</head>\n<body>\n";
  out += "<h1>Données détenues sur " + Escape(name) + "</h1>\n";
  out += "<p>Dossier " + Escape(file["case_id"].get<std::string>()) + ", extrait le " +
         Escape(file["made_at"].get<std::string>()) +
         " de la base centrale, au titre du droit d'accès (RGPD, article 15).</p>\n";
  out += "<h2>Le dossier aujourd'hui</h2>\n" + (now.is_object() ? ValuesTable(cases, now) : "<p>(vide)</p>\n");

  out += "<h2>Toutes ses versions (" + std::to_string(file["versions"].size()) + ")</h2>\n";
  for (const json& v : file["versions"]) {
    out += "<h3>Version " + std::to_string(v["version"].get<int64_t>()) + " — " + Escape(v.value("at", "")) +
           ", appareil " + Escape(v.value("device", "")) + "</h3>\n" + ValuesTable(cases, v["values"]);
  }
  out += "<h2>Conflits et doublons (" + std::to_string(file["conflicts"].size()) + ")</h2>\n";
  for (const json& c : file["conflicts"]) {
    const bool duplicate = c.value("kind", "") == "duplicate";
    out += "<p>" + std::string(duplicate ? "Doublon probable" : "Valeur à arbitrer") + " n° " + Escape(c["id"].dump()) +
           (c.value("status", "") == "open" ? ", en attente" : ", réglé") + "</p>\n<table>\n";
    const std::pair<const char*, const char*> rows[] = {{"field", "Champ"},
                                                        {"server", "Valeur du centre"},
                                                        {"device_value", "Valeur de l'appareil"},
                                                        {"settled_value", "Valeur retenue"}};
    for (const auto& [key, label] : rows) {
      if (!c[key].is_string()) continue;
      out += "<tr><th>" + std::string(label) + "</th><td>" + Escape(c[key].get<std::string>()) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  for (const auto& [table_name, records] : file["related"].items()) {
    const schema::Table* table = schema::FindTable(table_name);
    out += "<h2>" + Escape(SectionTitle(table_name)) + " (" + std::to_string(records.size()) + ")</h2>\n";
    for (const json& r : records) out += ValuesTable(table, r["values"]);
  }
  const json& log = file["access_log"];
  out += "<h2>Qui a consulté le dossier (" + std::to_string(log.size()) + ")</h2>\n";
  if (!log.empty()) {
    out += "<table>\n<tr><th>Le</th><th>Appareil</th><th>Par</th><th>Lecture</th></tr>\n";
    for (const json& e : log) {
      out += "<tr><td>" + Escape(e.value("at", "")) + "</td><td>" + Escape(e.value("device", "")) + "</td><td>" +
             Escape(e.value("by", "")) + "</td><td>" + Escape(AccessActionLabel(e.value("action", ""))) +
             "</td></tr>\n";
    }
    out += "</table>\n";
  }
  return out + "</body>\n</html>\n";
}

}  // namespace relais::server
