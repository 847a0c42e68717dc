#include "client/agenda.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "client/permanences.h"
#include "client/referrals.h"
#include "client/territories.h"

namespace relais::client {

namespace {

const std::string& Text(const schema::Table& table, const schema::Record& r, std::string_view name) {
  static const std::string kEmpty;
  const schema::Value& v = r.values[static_cast<size_t>(table.FieldIndex(name))];
  return v ? *v : kEmpty;
}

// The organisation's name as the directory of this replica has it, else its id.
Result<std::string> OrganisationName(Records& records, const std::string& id) {
  auto found = records.Get(schema::ContactsTable(), id);
  if (!found) return found.error();
  if (!*found) return id;
  return Text(schema::ContactsTable(), **found, "organisation");
}

// The people named by the appointments of the window, read in one join: case id → "Nom Prénom",
// phone.
struct Person {
  std::string name, phone;
};
Result<std::map<std::string, Person>> PeopleBooked(Records& records, const AgendaWindow& w) {
  auto stmt = records.replica().Statement(
      "SELECT c.id, c.last_name, c.first_name, c.phone FROM appointments a JOIN cases c ON c.id = a.case_id "
      "WHERE a.date BETWEEN ?1 AND ?2");
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)->Bind(1, std::string_view(w.from));
  (*stmt)->Bind(2, std::string_view(w.to));
  std::map<std::string, Person> out;
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    out[(*stmt)->Text(0)] = {(*stmt)->Text(1) + " " + (*stmt)->Text(2), (*stmt)->Text(3)};
  }
  return out;
}

// Where each permanence is held, and which sessions of the window did not take place as planned.
struct PermanencePlaces {
  std::map<std::string, std::string> point_of;              // permanence id → reception point
  std::set<std::pair<std::string, std::string>> disrupted;  // (permanence id, date)
};
Result<PermanencePlaces> Places(Records& records, const AgendaWindow& w) {
  PermanencePlaces out;
  auto all = ListPermanences(records);
  if (!all) return all.error();
  for (const schema::Record& p : *all) out.point_of[p.id] = Text(PermanencesTable(), p, "reception_point");
  auto sessions = SessionsBetween(records, w.from, w.to, w.reception_points);
  if (!sessions) return sessions.error();
  for (const Session& s : *sessions) {
    if (s.state != SessionState::kHeld) out.disrupted.emplace(s.permanence.id, s.date);
  }
  return out;
}

bool IsMine(const AgendaWindow& w, const std::string& point) {
  return w.reception_points.empty() ||
         std::find(w.reception_points.begin(), w.reception_points.end(), point) != w.reception_points.end();
}

constexpr AgendaSource kSources[] = {AppointmentItems, SessionItems, FollowupItems, ReferralItems};

}  // namespace

Result<std::vector<AgendaItem>> AppointmentItems(Records& records, const AgendaWindow& w) {
  const schema::Table& t = AppointmentsTable();
  auto found = records.Query(
      t, "SELECT " + RecordColumns(t) + " FROM appointments WHERE date BETWEEN ?1 AND ?2 ORDER BY date, start_time, id",
      {w.from, w.to});
  if (!found) return found.error();
  std::vector<AgendaItem> out;
  if (found->empty()) return out;
  auto people = PeopleBooked(records, w);
  if (!people) return people.error();
  auto places = Places(records, w);
  if (!places) return places.error();
  for (const schema::Record& a : *found) {
    const std::string& permanence = Text(t, a, "permanence_id");
    std::string where = Text(t, a, "place");
    if (!permanence.empty()) {
      auto point = places->point_of.find(permanence);
      where = point == places->point_of.end() ? "permanence " + permanence : point->second;
      if (point != places->point_of.end() && !IsMine(w, point->second)) continue;
    }
    AgendaItem item;
    item.kind = "rendez_vous";
    item.date = Text(t, a, "date");
    item.time = Text(t, a, "start_time");
    item.record_table = t.name;
    item.record_id = a.id;
    item.case_id = Text(t, a, "case_id");
    const auto person = people->find(item.case_id);
    const std::string who = person == people->end() ? "dossier " + item.case_id : person->second.name;
    item.title = "Rendez-vous : " + who;
    item.detail = where;
    if (person != people->end() && !person->second.phone.empty()) item.detail += " ; tél. " + person->second.phone;
    const std::string& outcome = Text(t, a, "outcome");
    const bool call_back =
        outcome.empty() && (!Text(t, a, "call_back").empty() || places->disrupted.count({permanence, item.date}) > 0);
    if (!outcome.empty()) {
      item.status = outcome;
    } else if (call_back) {
      item.status = "a_rappeler";
      item.detail += " ; séance annulée ou reportée : à rappeler";
    } else {
      item.status = "prevu";
      if (item.date < w.today) {
        item.overdue = true;
        item.detail += " ; issue à noter (relais appointment outcome " + a.id + " vu|absent|excuse)";
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

Result<std::vector<AgendaItem>> SessionItems(Records& records, const AgendaWindow& w) {
  auto sessions = SessionsBetween(records, w.from, w.to, w.reception_points);
  if (!sessions) return sessions.error();
  std::vector<AgendaItem> out;
  if (sessions->empty()) return out;
  // The bookings of every session of the window, counted in one query.
  std::map<std::pair<std::string, std::string>, int> booked;
  auto stmt = records.replica().Statement(
      "SELECT permanence_id, date, count(*) FROM appointments WHERE permanence_id IS NOT NULL AND date BETWEEN ?1 "
      "AND ?2 GROUP BY permanence_id, date");
  if (!stmt) return stmt.error();
  {
    sqlite::StmtGuard guard(**stmt);
    (*stmt)->Bind(1, std::string_view(w.from));
    (*stmt)->Bind(2, std::string_view(w.to));
    while (true) {
      auto row = (*stmt)->Step();
      if (!row) return row.error();
      if (!*row) break;
      booked[{(*stmt)->Text(0), (*stmt)->Text(1)}] = static_cast<int>((*stmt)->Int(2));
    }
  }
  const schema::Table& pt = PermanencesTable();
  std::map<std::string, std::string> names;  // organisation id → name
  for (const Session& s : *sessions) {
    const std::string& organisation = Text(pt, s.permanence, "organisation");
    auto name = names.find(organisation);
    if (name == names.end()) {
      auto read = OrganisationName(records, organisation);
      if (!read) return read.error();
      name = names.emplace(organisation, std::move(*read)).first;
    }
    AgendaItem item;
    item.kind = "permanence";
    item.date = s.date;
    item.time = s.start;
    item.record_table = pt.name;
    item.record_id = s.permanence.id;
    const auto count = booked.find({s.permanence.id, s.date});
    item.bookings = count == booked.end() ? 0 : count->second;
    item.title = "Permanence " + name->second + " (" + s.start + "–" + s.end + ")";
    item.detail = Text(pt, s.permanence, "reception_point") + " ; " + std::to_string(item.bookings) + " inscrit" +
                  (item.bookings > 1 ? "s" : "");
    if (s.state == SessionState::kCancelled) {
      item.status = "annulee";
      item.detail += " ; ANNULÉE (" + s.reason + ")";
    } else if (s.state == SessionState::kMoved) {
      item.status = "deplacee";
      item.detail += " ; REPORTÉE au " + s.moved_to + " à " + s.moved_to_start;
    } else {
      item.status = "prevue";
    }
    if (!s.moved_from.empty()) item.detail += " ; reportée du " + s.moved_from;
    if (s.state != SessionState::kHeld && item.bookings > 0) item.detail += " : inscrits à rappeler";
    out.push_back(std::move(item));
  }
  return out;
}

Result<std::vector<AgendaItem>> ReferralItems(Records& records, const AgendaWindow& w) {
  const schema::Table& t = *schema::FindTable("referrals");
  auto due = DueReferrals(records, std::min(w.today, w.from), w.to);
  if (!due) return due.error();
  std::vector<AgendaItem> out;
  for (const ReferralView& r : *due) {
    AgendaItem item;
    item.kind = "orientation";
    item.date = Text(t, r.referral, "due_on");
    item.overdue = item.date < w.today;
    if (item.date < w.from && !item.overdue) continue;
    item.status = Text(t, r.referral, "status");
    item.record_table = t.name;
    item.record_id = r.referral.id;
    item.case_id = Text(t, r.referral, "case_id");
    const std::string who = r.case_name.empty() ? "dossier " + item.case_id : r.case_name;
    const std::string to = r.organisation_name.empty() ? Text(t, r.referral, "organisation") : r.organisation_name;
    item.title = "Orientation : " + who;
    item.title.append(" → ").append(to);
    item.detail = std::string(item.status == "envoyee" ? "réponse du partenaire attendue" : "retour du partenaire attendu") +
                  " (" + Text(t, r.referral, "service") + ") ; relais referral update " + r.referral.id;
    out.push_back(std::move(item));
  }
  return out;
}

Result<std::vector<AgendaItem>> FollowupItems(Records& records, const AgendaWindow& w) {
  const schema::Table& t = schema::FollowupsTable();
  const std::string oldest = DateOfDay(DayNumber(std::min(w.today, w.from)) - kOverdueLookbackDays);
  // The entries still open (no later entry on their case followed them up, none corrected or
  // withdrew them) are kept by the replica itself (open_next_actions, replica migration 0019): a
  // few lines, whatever the number of follow-ups. Those overdue, and those due in the window.
  auto open = records.replica().Statement(
      "SELECT followup_id FROM open_next_actions WHERE (next_date >= ?1 AND next_date < ?2) OR next_date BETWEEN ?3 "
      "AND ?4");
  if (!open) return open.error();
  std::vector<std::string> open_ids;
  {
    sqlite::StmtGuard guard(**open);
    (*open)->Bind(1, std::string_view(oldest));
    (*open)->Bind(2, std::string_view(w.today));
    (*open)->Bind(3, std::string_view(w.from));
    (*open)->Bind(4, std::string_view(w.to));
    while (true) {
      auto row = (*open)->Step();
      if (!row) return row.error();
      if (!*row) break;
      open_ids.push_back((*open)->Text(0));
    }
  }
  std::vector<schema::Record> found;
  for (const std::string& id : open_ids) {
    auto entry = records.Get(t, id);
    if (!entry) return entry.error();
    if (*entry) found.push_back(std::move(**entry));
  }
  std::vector<AgendaItem> out;
  const schema::Table& cases = schema::CasesTable();
  for (const schema::Record& f : found) {
    AgendaItem item;
    item.kind = "suivi";
    const std::string& next = Text(t, f, "next_date");
    item.overdue = next < w.today;
    item.date = next;
    item.record_table = t.name;
    item.record_id = f.id;
    item.case_id = Text(t, f, "case_id");
    item.status = item.overdue ? "en_retard" : "a_faire";
    auto person = records.Get(cases, item.case_id);
    if (!person) return person.error();
    const std::string who = *person ? Text(cases, **person, "last_name") + " " + Text(cases, **person, "first_name")
                                    : "dossier " + item.case_id;
    item.title = "Suivi à faire : " + who;
    std::string text = Text(t, f, "text");
    if (const size_t end = text.find('\n'); end != std::string::npos) text = text.substr(0, end);
    constexpr size_t kShown = 80;
    if (text.size() > kShown) {
      size_t cut = kShown;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
      text = text.substr(0, cut) + "…";
    }
    item.detail = "suite du suivi du " + Text(t, f, "date") + " (" + Text(t, f, "kind") + ") : " + text;
    if (*person && !Text(cases, **person, "phone").empty()) item.detail += " ; tél. " + Text(cases, **person, "phone");
    out.push_back(std::move(item));
  }
  return out;
}

std::span<const AgendaSource> AgendaSources() { return kSources; }

Result<std::vector<AgendaItem>> BuildAgenda(Records& records, const AgendaWindow& window) {
  // One read transaction: every source sees the same snapshot.
  RELAIS_TRY(records.replica().db().Exec("BEGIN"));
  struct EndRead {
    sqlite::Db& db;
    ~EndRead() { (void)db.Exec("COMMIT"); }
  } end_read{records.replica().db()};
  std::vector<AgendaItem> out;
  for (AgendaSource source : kSources) {
    auto items = source(records, window);
    if (!items) return items.error();
    out.insert(out.end(), std::make_move_iterator(items->begin()), std::make_move_iterator(items->end()));
  }
  std::sort(out.begin(), out.end(), [](const AgendaItem& a, const AgendaItem& b) {
    return std::make_tuple(!a.overdue, a.date, a.time, a.kind, a.record_id) <
           std::make_tuple(!b.overdue, b.date, b.time, b.kind, b.record_id);
  });
  return out;
}

Result<std::vector<std::string>> MyReceptionPoints(Replica& replica) {
  auto declared = DeclaredTerritories(replica);
  if (!declared) return declared.error();
  auto mine = DeviceTerritories(replica);
  if (!mine) return mine.error();
  std::vector<std::string> points;
  if (!*declared) return points;
  for (const DeclaredTerritory& d : **declared) {
    if (*mine && std::find((*mine)->begin(), (*mine)->end(), d.code) == (*mine)->end()) continue;
    points.insert(points.end(), d.reception_points.begin(), d.reception_points.end());
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

}  // namespace relais::client
