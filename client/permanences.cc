#include "client/permanences.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "client/directory.h"
#include "client/territories.h"

namespace relais::client {

namespace {

using schema::ClockMinutes;
using schema::kDaysPerWeek;

const schema::Table& TableNamed(std::string_view name) { return *schema::FindTable(name); }

const schema::Value& Field(const schema::Table& table, const schema::Record& r, std::string_view name) {
  return r.values[static_cast<size_t>(table.FieldIndex(name))];
}
std::string Text(const schema::Table& table, const schema::Record& r, std::string_view name) {
  return Field(table, r, name).value_or("");
}

Error Invalid(const std::string& message) { return MakeError(ErrorCode::kValidation, message); }

// The value checked against its field's rules, before it is used in any computation.
Status CheckField(const schema::Table& table, std::string_view name, const std::string& value) {
  return schema::ValidateValue(*table.FindField(name), schema::Normalize(*table.FindField(name), value));
}

// The sessions of permanence `p` on `day` (schema/sessions.h), without their bookings.
std::vector<Session> BookableSessions(const schema::Record& p, const std::vector<schema::Record>& changes, int64_t day) {
  std::vector<Session> out;
  for (schema::Session& s : schema::SessionsOn(p, changes, day)) out.push_back(Session{std::move(s), {}});
  return out;
}

Result<std::vector<schema::Record>> ChangesOf(Records& records, const std::string& permanence_id) {
  const schema::Table& t = PermanenceChangesTable();
  return records.Query(t,
                       "SELECT " + RecordColumns(t) + " FROM permanence_changes WHERE permanence_id = ?1 ORDER BY id",
                       {permanence_id});
}

Result<schema::Record> PermanenceOf(Records& records, const std::string& id) {
  auto found = records.Get(PermanencesTable(), id);
  if (!found) return found.error();
  if (!*found) {
    return MakeError(ErrorCode::kNotFound,
                     "aucune permanence " + id + " dans cette base (relais permanence list pour les voir)");
  }
  return std::move(**found);
}

// The bookings as people read them: name and phone of each case this replica holds, overbooked
// when another appointment holds the same slot of the same permanence, to be called back when
// marked so or when their session was cancelled or moved (and no outcome was recorded).
Result<std::vector<Booking>> Describe(Records& records, std::vector<schema::Record> appointments) {
  const schema::Table& at = AppointmentsTable();
  const schema::Table& cases = schema::CasesTable();
  auto crowded = records.replica().db().Prepare(
      "SELECT permanence_id, date, start_time FROM appointments WHERE permanence_id IS NOT NULL "
      "GROUP BY permanence_id, date, start_time HAVING count(*) > 1");
  if (!crowded) return crowded.error();
  std::set<std::tuple<std::string, std::string, std::string>> overbooked;
  while (true) {
    auto row = crowded->Step();
    if (!row) return row.error();
    if (!*row) break;
    overbooked.emplace(crowded->Text(0), crowded->Text(1), crowded->Text(2));
  }
  std::map<std::string, std::vector<schema::Record>> changes;
  std::vector<Booking> out;
  for (schema::Record& a : appointments) {
    Booking b;
    const std::string permanence = Text(at, a, "permanence_id");
    const bool open = !Field(at, a, "outcome");
    b.to_call_back = open && Field(at, a, "call_back");
    if (!permanence.empty()) {
      b.overbooked = overbooked.count({permanence, Text(at, a, "date"), Text(at, a, "start_time")}) > 0;
      auto known = changes.find(permanence);
      if (known == changes.end()) {
        auto loaded = ChangesOf(records, permanence);
        if (!loaded) return loaded.error();
        known = changes.emplace(permanence, std::move(*loaded)).first;
      }
      b.to_call_back |= open && schema::SessionFate(known->second, Text(at, a, "date")) != nullptr;
    }
    auto person = records.Get(cases, Text(at, a, "case_id"));
    if (!person) return person.error();
    if (*person) {
      b.name = Text(cases, **person, "last_name") + " " + Text(cases, **person, "first_name");
      b.phone = Text(cases, **person, "phone");
    }
    b.appointment = std::move(a);
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<schema::Record>> BookingsOf(Records& records, const std::string& permanence_id,
                                               const std::string& date) {
  const schema::Table& t = AppointmentsTable();
  return records.Query(t,
                       "SELECT " + RecordColumns(t) +
                           " FROM appointments WHERE permanence_id = ?1 AND date = ?2 ORDER BY start_time, id",
                       {permanence_id, date});
}

// The territory of a new permanence at `point`: the one given, or this device's territory that
// declares the point, or its only territory.
Result<std::string> TerritoryFor(Replica& replica, const std::string& given, const std::string& point) {
  auto mine = DeviceTerritories(replica);
  if (!mine) return mine.error();
  if (!*mine || (*mine)->empty()) {
    return Invalid("territory: cette base ne connaît pas encore ses territoires (relais init, puis relais sync)");
  }
  const std::vector<std::string>& territories = **mine;
  std::string list;
  for (const std::string& t : territories) list += (list.empty() ? "" : ", ") + t;
  if (!given.empty()) {
    if (std::find(territories.begin(), territories.end(), given) == territories.end()) {
      return Invalid("territory: « " + given + " » n'est pas un territoire de cet appareil (" + list + ")");
    }
    return given;
  }
  auto declared = DeclaredTerritories(replica);
  if (!declared) return declared.error();
  std::vector<std::string> holding;
  for (const DeclaredTerritory& d : declared->value_or(std::vector<DeclaredTerritory>())) {
    const bool mine_too = std::find(territories.begin(), territories.end(), d.code) != territories.end();
    if (mine_too && std::find(d.reception_points.begin(), d.reception_points.end(), point) != d.reception_points.end())
      holding.push_back(d.code);
  }
  if (holding.size() == 1) return holding.front();
  if (territories.size() == 1) return territories.front();
  return Invalid("territory: cet appareil a plusieurs territoires (" + list +
                 ") : précisez celui de la permanence avec --territory");
}

// The session of `p` held on `date` (scheduled or moved there, neither cancelled nor moved away),
// or kValidation saying why there is none.
Result<Session> HeldSession(const schema::Record& p, const std::vector<schema::Record>& changes,
                            const std::string& date) {
  const schema::Table& pt = PermanencesTable();
  std::vector<Session> sessions = BookableSessions(p, changes, DayNumber(date));
  for (const Session& s : sessions) {
    if (s.state == SessionState::kHeld) return s;
  }
  for (const Session& s : sessions) {
    if (s.state == SessionState::kCancelled)
      return Invalid("date: la séance du " + date + " de la permanence " + p.id + " est annulée (" + s.reason + ")");
    return Invalid("date: la séance du " + date + " de la permanence " + p.id + " a été reportée au " + s.moved_to +
                   " à " + s.moved_to_start);
  }
  const std::string until = Text(pt, p, "valid_until");
  return Invalid("date: la permanence " + p.id + " n'a pas de séance le " + date + " (elle a lieu le " +
                 Text(pt, p, "weekday") + " de " + Text(pt, p, "start_time") + " à " + Text(pt, p, "end_time") +
                 ", toutes les " + Text(pt, p, "every_weeks") + " semaine(s), à partir du " +
                 Text(pt, p, "valid_from") + (until.empty() ? "" : " jusqu'au " + until) + ")");
}

Result<Disruption> Disrupt(Records& records, const std::string& id, const std::string& date,
                           const FieldValues& change) {
  const schema::Table& ct = PermanenceChangesTable();
  const schema::Table& at = AppointmentsTable();
  RELAIS_TRY(CheckField(ct, "date", date));
  auto tx = sqlite::Transaction::Begin(records.replica().db());
  if (!tx) return tx.error();
  auto p = PermanenceOf(records, id);
  if (!p) return p.error();
  auto changes = ChangesOf(records, id);
  if (!changes) return changes.error();
  auto session = HeldSession(*p, *changes, date);
  if (!session) return session.error();
  std::vector<schema::Value> values(ct.fields.size());
  for (const auto& [name, value] : change) values[static_cast<size_t>(ct.FieldIndex(name))] = value;
  values[static_cast<size_t>(ct.FieldIndex("permanence_id"))] = id;
  values[static_cast<size_t>(ct.FieldIndex("date"))] = date;
  values[static_cast<size_t>(ct.FieldIndex("territory"))] = Field(PermanencesTable(), *p, "territory");
  Disruption out;
  auto created = records.CreateInTransaction(ct, std::move(values), std::nullopt);
  if (!created) return created.error();
  out.change = std::move(*created);
  auto booked = BookingsOf(records, id, date);
  if (!booked) return booked.error();
  std::vector<schema::Record> to_call;
  for (schema::Record& a : *booked) {
    if (Field(at, a, "outcome")) continue;
    auto marked = records.EditInTransaction(at, a.id, {{"call_back", std::string("a_rappeler")}});
    if (!marked) return marked.error();
    to_call.push_back(std::move(marked->record));
  }
  auto described = Describe(records, std::move(to_call));
  if (!described) return described.error();
  out.call_back = std::move(*described);
  RELAIS_TRY(tx->Commit());
  return out;
}

}  // namespace

const schema::Table& PermanencesTable() {
  static const schema::Table& t = TableNamed("permanences");
  return t;
}
const schema::Table& PermanenceChangesTable() {
  static const schema::Table& t = TableNamed("permanence_changes");
  return t;
}
const schema::Table& AppointmentsTable() {
  static const schema::Table& t = TableNamed("appointments");
  return t;
}

Result<schema::Record> AddPermanence(Records& records, const PermanenceInput& given) {
  const schema::Table& t = PermanencesTable();
  // The organisation and the contact person as people name them, or by their ids.
  PermanenceInput in = given;
  DirectoryNames names(records);
  if (!in.organisation.empty()) {
    auto organisation = names.Organisation(in.organisation);
    if (!organisation) return organisation.error();
    in.organisation = std::move(*organisation);
  }
  if (!in.contact.empty()) {
    auto contact = names.Contact(in.contact, in.organisation);
    if (!contact) return contact.error();
    in.contact = std::move(*contact);
  }
  for (const auto& [name, value] : {std::pair<std::string_view, const std::string*>{"organisation", &in.organisation},
                                    {"reception_point", &in.reception_point},
                                    {"weekday", &in.weekday},
                                    {"start_time", &in.start},
                                    {"end_time", &in.end},
                                    {"every_weeks", &in.every},
                                    {"valid_from", &in.from}}) {
    RELAIS_TRY(CheckField(t, name, *value));
  }
  if (!in.contact.empty()) RELAIS_TRY(CheckField(t, "contact", in.contact));
  if (!in.until.empty()) RELAIS_TRY(CheckField(t, "valid_until", in.until));
  if (ClockMinutes(in.start) >= ClockMinutes(in.end)) {
    return Invalid("end_time: « " + in.end + " » doit être après le début (« " + in.start + " »)");
  }
  if (!in.until.empty() && in.until < in.from) {
    return Invalid("valid_until: « " + in.until + " » est avant le début (« " + in.from + " »)");
  }
  for (const auto& [field, id] :
       {std::pair<std::string, std::string>{"organisation", in.organisation}, {"contact", in.contact}}) {
    if (id.empty()) continue;
    auto found = records.Get(schema::ContactsTable(), schema::Normalize(*t.FindField(field), id).value_or(""));
    if (!found) return found.error();
    if (!*found) {
      std::string message = field;
      message.append(": « ").append(id).append(
          " » n'est pas une fiche de l'annuaire des partenaires de cette base (relais contact search)");
      return Invalid(message);
    }
  }
  const std::string point = schema::Normalize(*t.FindField("reception_point"), in.reception_point).value_or("");
  auto territory = TerritoryFor(records.replica(), in.territory, point);
  if (!territory) return territory.error();
  RELAIS_TRY(CheckDeclaredReceptionPoint(records.replica(), point, *territory));
  FieldValues values = {{"organisation", in.organisation},
                        {"reception_point", in.reception_point},
                        {"weekday", in.weekday},
                        {"start_time", in.start},
                        {"end_time", in.end},
                        {"every_weeks", in.every},
                        {"valid_from", in.from},
                        {"territory", *territory}};
  if (!in.contact.empty()) values.emplace_back("contact", in.contact);
  if (!in.until.empty()) values.emplace_back("valid_until", in.until);
  return records.Create(t, values);
}

Result<std::vector<schema::Record>> ListPermanences(Records& records) {
  const schema::Table& t = PermanencesTable();
  return records.Query(t,
                       "SELECT " + RecordColumns(t) +
                           " FROM permanences ORDER BY reception_point, CASE weekday WHEN 'lundi' THEN 1 WHEN 'mardi' "
                           "THEN 2 WHEN 'mercredi' THEN 3 WHEN 'jeudi' THEN 4 ELSE 5 END, start_time, id",
                       {});
}

Result<std::vector<Session>> SessionsBetween(Records& records, const std::string& from, const std::string& to,
                                             const std::vector<std::string>& points) {
  auto permanences = ListPermanences(records);
  if (!permanences) return permanences.error();
  const schema::Table& pt = PermanencesTable();
  std::vector<Session> out;
  const int64_t first = DayNumber(from), last = DayNumber(to);
  for (const schema::Record& p : *permanences) {
    if (!points.empty() && std::find(points.begin(), points.end(), Text(pt, p, "reception_point")) == points.end())
      continue;
    auto changes = ChangesOf(records, p.id);
    if (!changes) return changes.error();
    for (int64_t day = first; day <= last; ++day) {
      for (Session& s : BookableSessions(p, *changes, day)) out.push_back(std::move(s));
    }
  }
  std::sort(out.begin(), out.end(), [](const Session& a, const Session& b) {
    return std::tie(a.date, a.start, a.permanence.id) < std::tie(b.date, b.start, b.permanence.id);
  });
  return out;
}

Result<std::vector<Session>> WeekSessions(Records& records, const std::string& week,
                                          const std::optional<std::string>& reception_point) {
  auto monday = IsoWeekMonday(week);
  if (!monday) return monday.error();
  std::vector<std::string> points;
  if (reception_point) points.push_back(*reception_point);
  auto out = SessionsBetween(records, *monday, DateOfDay(DayNumber(*monday) + kDaysPerWeek - 1), points);
  if (!out) return out.error();
  for (Session& s : *out) {
    auto booked = BookingsOf(records, s.permanence.id, s.date);
    if (!booked) return booked.error();
    auto described = Describe(records, std::move(*booked));
    if (!described) return described.error();
    s.bookings = std::move(*described);
  }
  return out;
}

Result<Disruption> CancelSession(Records& records, const std::string& id, const std::string& date,
                                 const std::string& reason) {
  RELAIS_TRY(CheckField(PermanenceChangesTable(), "reason", reason));
  if (!schema::Normalize(*PermanenceChangesTable().FindField("reason"), reason)) {
    return Invalid("reason: obligatoire pour annuler une séance (ce que les personnes à rappeler entendront)");
  }
  return Disrupt(records, id, date, {{"kind", std::string("annule")}, {"reason", reason}});
}

Result<Disruption> MoveSession(Records& records, const std::string& id, const std::string& date,
                               const std::string& to_date, const std::string& to_start) {
  const schema::Table& ct = PermanenceChangesTable();
  RELAIS_TRY(CheckField(ct, "to_date", to_date));
  if (to_date.empty()) return Invalid("to_date: obligatoire (--to AAAA-MM-JJ)");
  if (!to_start.empty()) RELAIS_TRY(CheckField(ct, "to_start", to_start));
  auto p = PermanenceOf(records, id);
  if (!p) return p.error();
  const std::string start = to_start.empty() ? Text(PermanencesTable(), *p, "start_time") : to_start;
  if (to_date == date && start == Text(PermanencesTable(), *p, "start_time")) {
    return Invalid("to_date: la séance du " + date + " a déjà lieu ce jour-là à " + start +
                   " (--to une autre date, ou --start une autre heure)");
  }
  FieldValues change = {{"kind", std::string("deplace")}, {"to_date", to_date}};
  if (!to_start.empty()) change.emplace_back("to_start", to_start);
  return Disrupt(records, id, date, change);
}

Result<schema::Record> AddAppointment(Records& records, const AppointmentInput& in) {
  const schema::Table& at = AppointmentsTable();
  const schema::Table& cases = schema::CasesTable();
  RELAIS_TRY(CheckField(at, "case_id", in.case_id));
  RELAIS_TRY(CheckField(at, "date", in.date));
  RELAIS_TRY(CheckField(at, "start_time", in.time));
  if (!in.permanence_id.empty()) RELAIS_TRY(CheckField(at, "permanence_id", in.permanence_id));
  const bool at_permanence = !in.permanence_id.empty();
  if (at_permanence == !in.place.empty() || in.date.empty() || in.time.empty()) {
    return MakeError(ErrorCode::kUsage,
                     "un rendez-vous est pris soit à une permanence (--permanence ID --date D --time HH:MM), soit "
                     "en un lieu (--date D --time HH:MM --place LIEU)");
  }
  const std::string case_id = schema::Normalize(*at.FindField("case_id"), in.case_id).value_or("");
  auto tx = sqlite::Transaction::Begin(records.replica().db());
  if (!tx) return tx.error();
  auto person = records.Get(cases, case_id);
  if (!person) return person.error();
  if (!*person) {
    return MakeError(ErrorCode::kNotFound,
                     "aucun dossier " + in.case_id + " dans cette base (relais case search NOM pour le trouver)");
  }
  if (const schema::Value& merged = Field(cases, **person, "merged_into")) {
    return Invalid("case_id: le dossier " + case_id + " a été fusionné dans le dossier " + *merged +
                   " : prenez le rendez-vous sur celui-ci");
  }
  std::vector<schema::Value> values(at.fields.size());
  auto set = [&](std::string_view name, const schema::Value& v) {
    values[static_cast<size_t>(at.FieldIndex(name))] = v;
  };
  set("case_id", case_id);
  set("date", in.date);
  set("start_time", in.time);
  if (at_permanence) {
    const std::string permanence_id = schema::Normalize(*at.FindField("permanence_id"), in.permanence_id).value_or("");
    auto p = PermanenceOf(records, permanence_id);
    if (!p) return p.error();
    auto changes = ChangesOf(records, permanence_id);
    if (!changes) return changes.error();
    auto session = HeldSession(*p, *changes, in.date);
    if (!session) return session.error();
    if (ClockMinutes(in.time) < ClockMinutes(session->start) || ClockMinutes(in.time) >= ClockMinutes(session->end)) {
      return Invalid("time: « " + in.time + " » est hors de la séance du " + in.date + " (de " + session->start +
                     " à " + session->end + ")");
    }
    auto booked = BookingsOf(records, permanence_id, in.date);
    if (!booked) return booked.error();
    for (const schema::Record& a : *booked) {
      if (Text(at, a, "start_time") == in.time) {
        return Invalid("time: le créneau de " + in.time + " du " + in.date + " est déjà réservé (rendez-vous " + a.id +
                       ") : choisissez une autre heure");
      }
    }
    set("permanence_id", permanence_id);
    set("territory", Field(PermanencesTable(), *p, "territory"));
  } else {
    const schema::Value& territory = Field(cases, **person, "territory");
    if (!territory) {
      return Invalid("territory: le dossier " + case_id +
                     " n'a pas de territoire, et un rendez-vous prend celui de son dossier : renseignez-le "
                     "(relais case edit " +
                     case_id + " --territory T)");
    }
    set("place", in.place);
    set("territory", territory);
  }
  auto created = records.CreateInTransaction(at, std::move(values), std::nullopt);
  if (!created) return created.error();
  RELAIS_TRY(tx->Commit());
  return created;
}

Result<schema::Record> SetOutcome(Records& records, const std::string& id, const std::string& outcome) {
  auto edited = records.Edit(AppointmentsTable(), id, {{"outcome", outcome}});
  if (!edited) {
    if (edited.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound,
                       "aucun rendez-vous " + id + " dans cette base (relais appointment list pour les voir)");
    }
    return edited.error();
  }
  return std::move(edited->record);
}

Result<std::vector<Booking>> ListAppointments(Records& records, const std::string& date) {
  const schema::Table& t = AppointmentsTable();
  if (!date.empty()) RELAIS_TRY(CheckField(t, "date", date));
  auto found = records.Query(
      t,
      "SELECT " + RecordColumns(t) + " FROM appointments WHERE ?1 IS NULL OR date = ?1 ORDER BY date, start_time, id",
      {date.empty() ? schema::Value() : schema::Value(date)});
  if (!found) return found.error();
  return Describe(records, std::move(*found));
}

}  // namespace relais::client
