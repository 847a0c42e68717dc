#include "client/ui/pages.h"

#include <kainjow/mustache.hpp>

#include "client/agenda.h"
#include "client/access_log.h"
#include "client/cases.h"
#include "client/permanences.h"
#include "client/ui/templates.h"
#include "schema/display.h"

namespace relais::ui {

namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;
using kainjow::mustache::partial;

std::string Render(const std::string& name, const data& values) {
  mustache tmpl{Template(name)};
  return tmpl.render(values);
}

std::string Framed(const std::string& title, const std::string& body, const std::string& query = "") {
  data page;
  page.set("title", title);
  page.set("body", body);
  page.set("query", query);
  return Render("page", page);
}

const std::string& Value(const schema::Table& t, const schema::Record& r, std::string_view field) {
  static const std::string kEmpty;
  const schema::Value& v = r.values[static_cast<size_t>(t.FieldIndex(field))];
  return v ? *v : kEmpty;
}

std::string Shown(const schema::Table& t, const schema::Record& r, std::string_view field) {
  const schema::Field* f = t.FindField(field);
  const schema::Value& v = r.values[static_cast<size_t>(t.FieldIndex(field))];
  return v ? schema::DisplayValue(f, v) : "";
}

std::string LongDate(const std::string& date) {
  static const char* const kMonths[] = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                                        "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};
  const int month = std::stoi(date.substr(5, 2));
  const int day = std::stoi(date.substr(8, 2));
  return std::string(client::FrenchWeekday(client::DayNumber(date))) + " " + std::to_string(day) +
         (day == 1 ? "er " : " ") + kMonths[month - 1];
}

data ItemData(const client::AgendaItem& i) {
  data d;
  d.set("kind", i.kind);
  d.set("time", i.time);
  d.set("title", i.title);
  d.set("detail", i.detail);
  d.set("overdue", i.overdue);
  if (!i.case_id.empty()) d.set("case_id", i.case_id);
  return d;
}

// The field a validation message names ("text: « » …"), or "".
std::string FieldOf(const Error& e) {
  const size_t colon = e.message.find(':');
  if (colon == std::string::npos || colon > 20) return "";
  return e.message.substr(0, colon);
}

}  // namespace

Result<std::string> AgendaPage(client::Records& records, const Clock& clock) {
  client::AgendaWindow w;
  w.today = client::LocalToday(clock);
  const int64_t today = client::DayNumber(w.today);
  const int64_t monday = today - schema::Weekday(today);
  w.from = client::DateOfDay(monday);
  w.to = client::DateOfDay(monday + 6);
  auto points = client::MyReceptionPoints(records.replica());
  if (!points) return points.error();
  w.reception_points = *points;
  auto items = client::BuildAgenda(records, w);
  if (!items) return items.error();
  data page;
  page.set("item", partial([] { return Template("item"); }));
  page.set("week", client::IsoWeekOf(w.from));
  page.set("from", LongDate(w.from));
  page.set("to", LongDate(w.to));
  std::string joined;
  for (const std::string& p : w.reception_points) joined += (joined.empty() ? "" : ", ") + p;
  if (!joined.empty()) page.set("points", joined);
  data overdue{data::type::list};
  size_t next = 0;
  while (next < items->size() && (*items)[next].overdue) overdue << ItemData((*items)[next++]);
  page.set("has_overdue", next > 0);
  page.set("overdue_count", std::to_string(next));
  page.set("overdue", overdue);
  data days{data::type::list};
  for (int64_t day = monday; day <= monday + 6; ++day) {
    const std::string date = client::DateOfDay(day);
    data d;
    std::string label = LongDate(date);
    label[0] = static_cast<char>(label[0] - 'a' + 'A');
    d.set("label", label);
    d.set("today", date == w.today);
    data list{data::type::list};
    const size_t begin = next;
    while (next < items->size() && (*items)[next].date == date) list << ItemData((*items)[next++]);
    d.set("empty", next == begin);
    d.set("items", list);
    days << d;
  }
  page.set("days", days);
  return Framed("Agenda", Render("agenda", page));
}

Result<std::string> SearchPage(client::Records& records, const std::string& query, bool fragment) {
  const schema::Table& cases = schema::CasesTable();
  std::vector<schema::Record> found;
  if (!query.empty()) {
    auto hits = records.Search(cases, query, 50);
    if (!hits) return hits.error();
    found = std::move(*hits);
  }
  data page;
  page.set("query", query);
  page.set("empty", found.empty());
  page.set("count", std::to_string(found.size()));
  data list{data::type::list};
  for (const schema::Record& c : found) {
    data d;
    d.set("id", c.id);
    d.set("name", Value(cases, c, "last_name") + " " + Value(cases, c, "first_name"));
    d.set("birth_date", Value(cases, c, "birth_date"));
    d.set("commune", Value(cases, c, "commune"));
    d.set("reception_point", Value(cases, c, "reception_point"));
    d.set("merged", !Value(cases, c, "merged_into").empty());
    list << d;
  }
  page.set("cases", list);
  if (fragment) return Render("hits", page);
  return Framed("Recherche", Render("search", page), query);
}

Result<std::string> CasePage(client::Records& records, const Clock& clock, const std::string& id, const std::string& csrf,
                             const std::map<std::string, std::string>& form, const Error* error) {
  const schema::Table& cases = schema::CasesTable();
  const schema::Table& followups = schema::FollowupsTable();
  auto found = records.Get(cases, id);
  if (!found) return found.error();
  if (!*found) return MakeError(ErrorCode::kNotFound, "aucun dossier " + id + " dans cette base");
  const schema::Record& c = **found;
  // A read is noted in the access log (docs/PRIVACY.md); a form sent back shows the page read already.
  if (error == nullptr) RELAIS_TRY(client::NoteCaseRead(records.replica(), "consultation", id));
  data page;
  page.set("id", id);
  page.set("csrf", csrf);
  page.set("name", Value(cases, c, "last_name") + " " + Value(cases, c, "first_name"));
  if (!Value(cases, c, "merged_into").empty()) page.set("merged_into", Value(cases, c, "merged_into"));
  auto pending = records.PendingFor(cases, id);
  if (!pending) return pending.error();
  if (pending->pending > 0) page.set("case_pending", std::to_string(pending->pending));
  data fields{data::type::list};
  for (const schema::Field& f : cases.fields) {
    const std::string shown = Shown(cases, c, f.name);
    if (shown.empty() || f.name == "merged_into") continue;
    data d;
    d.set("label", std::string(f.label));
    d.set("value", shown);
    fields << d;
  }
  page.set("fields", fields);
  auto entries = client::ListFollowups(records, id);
  if (!entries) return entries.error();
  data list{data::type::list};
  for (auto e = entries->begin(); e != entries->end(); ++e) {  // newest first, as `followup list`
    data d;
    d.set("date", Value(followups, *e, "date"));
    d.set("kind", Shown(followups, *e, "kind"));
    if (!Value(followups, *e, "author").empty()) d.set("author", Value(followups, *e, "author"));
    if (!Value(followups, *e, "minutes").empty()) d.set("minutes", Value(followups, *e, "minutes"));
    if (!Value(followups, *e, "next_date").empty()) d.set("next_date", Value(followups, *e, "next_date"));
    d.set("text", Value(followups, *e, "text"));
    list << d;
  }
  page.set("followup_count", std::to_string(entries->size()));
  page.set("no_followups", entries->empty());
  page.set("followups", list);
  auto given = [&form](const char* key) {
    auto v = form.find(key);
    return v == form.end() ? std::string() : v->second;
  };
  const std::string kind = given("kind").empty() ? "entretien" : given("kind");
  data kinds{data::type::list};
  const schema::Field* kind_field = followups.FindField("kind");
  for (std::string_view k : kind_field->choices) {
    data d;
    d.set("code", std::string(k));
    std::string label = schema::DisplayValue(kind_field, std::string(k));
    if (!label.empty() && label[0] >= 'a' && label[0] <= 'z') label[0] = static_cast<char>(label[0] - 'a' + 'A');
    d.set("label", label);
    d.set("selected", k == kind);
    kinds << d;
  }
  page.set("kinds", kinds);
  page.set("form_date", given("date").empty() ? client::LocalToday(clock) : given("date"));
  page.set("form_text", given("text"));
  page.set("form_minutes", given("minutes"));
  page.set("form_next", given("next_date"));
  if (error) {
    const std::string field = FieldOf(*error);
    if (!field.empty() && followups.FindField(field)) {
      page.set(field + "_error", error->message.substr(field.size() + 1));
      page.set("error", "L'entrée n'est pas valable : voyez le champ signalé.");
    } else {
      page.set("error", error->message + ".");
    }
  }
  return Framed(Value(cases, c, "last_name") + " " + Value(cases, c, "first_name"), Render("case", page));
}

Status AddFollowupFromForm(client::Records& records, const std::string& id, const std::map<std::string, std::string>& form) {
  auto found = records.Get(schema::CasesTable(), id);
  if (!found) return found.error();
  if (!*found) return MakeError(ErrorCode::kNotFound, "aucun dossier " + id + " dans cette base");
  if (!Value(schema::CasesTable(), **found, "merged_into").empty()) {
    return MakeError(ErrorCode::kValidation,
                     "ce dossier a été fusionné dans un autre par l'équipe centrale : ajoutez l'entrée au dossier "
                     "qui le remplace");
  }
  client::FieldValues values;
  for (const char* field : {"kind", "date", "text", "minutes", "next_date"}) {
    auto v = form.find(field);
    if (v != form.end() && !v->second.empty()) values.emplace_back(field, v->second);
  }
  if (form.count("text") == 0 || form.at("text").empty()) {
    return MakeError(ErrorCode::kValidation, "text: le texte de l'entrée est obligatoire");
  }
  auto created = client::AddFollowup(records, id, values);
  if (!created) return created.error();
  return OkStatus();
}

std::string MessagePage(const std::string& heading, const std::string& message) {
  data d;
  d.set("heading", heading);
  d.set("message", message);
  return Framed(heading, Render("message", d));
}

const std::string& StyleSheet() { return Template("style.css"); }
const std::string& Script() { return Template("relais.js"); }

}  // namespace relais::ui
