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

constexpr int64_t kDaysPerWeek = 7;

const schema::Table& TableNamed(std::string_view name) { return *schema::FindTable(name); }

const schema::Value& Field(const schema::Table& table, const schema::Record& r, std::string_view name) {
  return r.values[static_cast<size_t>(table.FieldIndex(name))];
}
std::string Text(const schema::Table& table, const schema::Record& r, std::string_view name) {
  return Field(table, r, name).value_or("");
}

// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
int Weekday(int64_t day) { return static_cast<int>(((day % kDaysPerWeek) + kDaysPerWeek + 3) % kDaysPerWeek); }

int WeekdayIndex(const std::string& name) {
  const auto& choices = PermanencesTable().FindField("weekday")->choices;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == name) return static_cast<int>(i);
  }
  return -1;
}

int Minutes(const std::string& time) { return std::stoi(time.substr(0, 2)) * 60 + std::stoi(time.substr(3, 2)); }
std::string ClockTime(int minutes) {
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", (minutes / 60) % 24, minutes % 60);
  return text;
}

Error Invalid(const std::string& message) { return MakeError(ErrorCode::kValidation, message); }

// The value checked against its field's rules, before it is used in any computation.
Status CheckField(const schema::Table& table, std::string_view name, const std::string& value) {
  return schema::ValidateValue(*table.FindField(name), schema::Normalize(*table.FindField(name), value));
}

// Whether permanence `p` has a session on `day` by its recurrence alone.
bool Scheduled(const schema::Record& p, int64_t day) {
  const schema::Table& t = PermanencesTable();
  const int weekday = WeekdayIndex(Text(t, p, "weekday"));
  const int64_t from = DayNumber(Text(t, p, "valid_from"));
  const schema::Value& until = Field(t, p, "valid_until");
  if (Weekday(day) != weekday || day < from || (until && day > DayNumber(*until))) return false;
  const int64_t first = from + (weekday - Weekday(from) + kDaysPerWeek) % kDaysPerWeek;
  const int64_t every = std::stoi(Text(t, p, "every_weeks"));
  return ((day - first) / kDaysPerWeek) % every == 0;
}

// What became of a permanence's session on `date`, from the disruptions appended for that date
// after `after_id` (a moved-in session is disrupted only by changes made after its move): a
// cancellation wins over a move (the people told of it will not come); between moves, the greatest
// id. The same on every replica that holds the same changes, whatever order they came in. nullptr:
// none, the session is held.
const schema::Record* Fate(const std::vector<schema::Record>& changes, const std::string& date,
                           const std::string& after_id = "") {
  const schema::Table& t = PermanenceChangesTable();
  const schema::Record* cancel = nullptr;
  const schema::Record* move = nullptr;
  for (const schema::Record& c : changes) {
    if (Text(t, c, "date") != date || c.id <= after_id) continue;
    if (Text(t, c, "kind") == "annule") {
      if (!cancel || c.id < cancel->id) cancel = &c;
    } else if (!move || c.id > move->id) {
      move = &c;
    }
  }
  return cancel ? cancel : move;
}

// The sessions of permanence `p` on `day`, without their bookings: the scheduled one, and those
// moved to that day.
std::vector<Session> SessionsOn(const schema::Record& p, const std::vector<schema::Record>& changes, int64_t day) {
  const schema::Table& pt = PermanencesTable();
  const schema::Table& ct = PermanenceChangesTable();
  const std::string date = DateOfDay(day);
  const int start = Minutes(Text(pt, p, "start_time"));
  const int length = Minutes(Text(pt, p, "end_time")) - start;
  std::vector<Session> out;
  auto add = [&](int at, const std::string& from, const schema::Record* fate) {
    Session s;
    s.permanence = p;
    s.date = date;
    s.start = ClockTime(at);
    s.end = ClockTime(at + length);
    s.moved_from = from;
    if (fate) {
      s.reason = Text(ct, *fate, "reason");
      if (Text(ct, *fate, "kind") == "annule") {
        s.state = SessionState::kCancelled;
      } else {
        s.state = SessionState::kMoved;
        s.moved_to = Text(ct, *fate, "to_date");
        s.moved_to_start = Field(ct, *fate, "to_start").value_or(s.start);
      }
    }
    out.push_back(std::move(s));
  };
  if (Scheduled(p, day)) add(start, "", Fate(changes, date));
  for (const schema::Record& c : changes) {
    if (Text(ct, c, "kind") != "deplace" || Text(ct, c, "to_date") != date) continue;
    if (Fate(changes, Text(ct, c, "date")) != &c) continue;  // another change settled that session
    const schema::Value& to_start = Field(ct, c, "to_start");
    add(to_start ? Minutes(*to_start) : start, Text(ct, c, "date"), Fate(changes, date, c.id));
  }
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
      b.to_call_back |= open && Fate(known->second, Text(at, a, "date")) != nullptr;
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
  std::vector<Session> sessions = SessionsOn(p, changes, DayNumber(date));
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

// Howard Hinnant's days_from_civil and civil_from_days.
int64_t DayNumber(const std::string& date) {
  int64_t y = std::stoi(date.substr(0, 4));
  const int64_t m = std::stoi(date.substr(5, 2));
  const int64_t d = std::stoi(date.substr(8, 2));
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string DateOfDay(int64_t day) {
  day += 719468;
  const int64_t era = (day >= 0 ? day : day - 146096) / 146097;
  const int64_t doe = day - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(m), static_cast<int>(d));
  return text;
}

const char* FrenchWeekday(int64_t day) {
  static const char* const kNames[] = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"};
  return kNames[Weekday(day)];
}

std::string IsoWeekOf(const std::string& date) {
  const int64_t day = DayNumber(date);
  const std::string thursday = DateOfDay(day + 3 - Weekday(day));
  const int64_t week = (DayNumber(thursday) - DayNumber(thursday.substr(0, 4) + "-01-01")) / kDaysPerWeek + 1;
  char text[16];
  std::snprintf(text, sizeof text, "%s-W%02d", thursday.substr(0, 4).c_str(), static_cast<int>(week));
  return text;
}

Result<std::string> IsoWeekMonday(const std::string& week) {
  const Error usage = MakeError(
      ErrorCode::kUsage, "--week : « " + week + " » n'est pas une semaine ISO (attendu : AAAA-Wnn, ex. 2026-W50)");
  if (week.size() != 8 || week[4] != '-' || week[5] != 'W') return usage;
  const std::string year = week.substr(0, 4), number = week.substr(6, 2);
  if (!std::all_of(year.begin(), year.end(), ::isdigit) || !std::all_of(number.begin(), number.end(), ::isdigit))
    return usage;
  if (!schema::IsIsoDate(year + "-01-04")) return usage;
  const int64_t jan4 = DayNumber(year + "-01-04");
  const std::string monday = DateOfDay(jan4 - Weekday(jan4) + (std::stoi(number) - 1) * kDaysPerWeek);
  if (std::stoi(number) < 1 || IsoWeekOf(monday) != week) return usage;
  return monday;
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
  if (Minutes(in.start) >= Minutes(in.end)) {
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
      for (Session& s : SessionsOn(p, *changes, day)) out.push_back(std::move(s));
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
    if (Minutes(in.time) < Minutes(session->start) || Minutes(in.time) >= Minutes(session->end)) {
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
