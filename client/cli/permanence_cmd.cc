// relais permanence add|list|cancel|move, relais appointment add|outcome|list — partners' permanences
// at reception points, their sessions, and the people booked on them (client/permanences.h).
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/cli/output.h"
#include "client/permanences.h"
#include "client/record_json.h"

namespace relais::cli {

namespace {

using nlohmann::ordered_json;

std::string DayName(const std::string& date) { return client::FrenchWeekday(client::DayNumber(date)); }

const std::string& Text(const schema::Table& table, const schema::Record& r, std::string_view name) {
  static const std::string kEmpty;
  const schema::Value& v = r.values[static_cast<size_t>(table.FieldIndex(name))];
  return v ? *v : kEmpty;
}

ordered_json OrNull(const std::string& text) { return text.empty() ? ordered_json(nullptr) : ordered_json(text); }

ordered_json BookingJson(const client::Booking& b) {
  const schema::Table& t = client::AppointmentsTable();
  const schema::Record& a = b.appointment;
  return {{"id", a.id},
          {"case_id", Text(t, a, "case_id")},
          {"name", OrNull(b.name)},
          {"phone", OrNull(b.phone)},
          {"permanence_id", OrNull(Text(t, a, "permanence_id"))},
          {"date", Text(t, a, "date")},
          {"time", Text(t, a, "start_time")},
          {"place", OrNull(Text(t, a, "place"))},
          {"outcome", OrNull(Text(t, a, "outcome"))},
          {"to_call_back", b.to_call_back},
          {"overbooked", b.overbooked}};
}

// What people read of a booking's state: its outcome, then what needs doing.
std::string Alerts(const client::Booking& b) {
  std::string out;
  if (b.overbooked) out += "SURRÉSERVATION";
  if (b.to_call_back) out += std::string(out.empty() ? "" : ", ") + "À RAPPELER";
  return out;
}

std::vector<std::string> BookingRow(const client::Booking& b) {
  const schema::Table& t = client::AppointmentsTable();
  const schema::Record& a = b.appointment;
  const std::string& outcome = Text(t, a, "outcome");
  return {Text(t, a, "start_time"),
          b.name.empty() ? "(dossier " + Text(t, a, "case_id") + ")" : b.name,
          b.phone.empty() ? "-" : b.phone,
          outcome.empty() ? "-" : outcome,
          Alerts(b).empty() ? "-" : Alerts(b),
          a.id};
}

const std::vector<std::string> kBookingHeadings = {"Heure", "Personne", "Téléphone", "Issue", "Alerte", "Rendez-vous"};

// The organisation's name as the directory of this replica has it, else its id.
std::string OrganisationName(client::Records& records, const std::string& id) {
  auto found = records.Get(schema::ContactsTable(), id);
  if (!found || !*found) return id;
  return Text(schema::ContactsTable(), **found, "organisation");
}

Status AddPermanence(Context& ctx, const client::PermanenceInput& in) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto created = client::AddPermanence(**records, in);
  if (!created) return created.error();
  PrintRecord(ctx, client::PermanencesTable(), *created);
  return OkStatus();
}

const char* StateWord(client::SessionState s) {
  switch (s) {
    case client::SessionState::kHeld:
      return "prevue";
    case client::SessionState::kCancelled:
      return "annulee";
    case client::SessionState::kMoved:
      return "deplacee";
  }
  return "prevue";
}

struct ListOptions {
  std::string week, reception_point;
};

Status ListSessions(Context& ctx, const ListOptions& o) {
  auto records = ctx.Records();
  if (!records) return records.error();
  const std::string week = o.week.empty() ? client::IsoWeekOf(client::LocalToday(*ctx.clock)) : o.week;
  auto monday = client::IsoWeekMonday(week);
  if (!monday) return monday.error();
  auto sessions = client::WeekSessions(
      **records, week, o.reception_point.empty() ? std::nullopt : std::optional<std::string>(o.reception_point));
  if (!sessions) return sessions.error();
  const schema::Table& pt = client::PermanencesTable();
  const std::string sunday = client::DateOfDay(client::DayNumber(*monday) + 6);
  if (ctx.json) {
    ordered_json list = ordered_json::array();
    for (const client::Session& s : *sessions) {
      ordered_json bookings = ordered_json::array();
      for (const client::Booking& b : s.bookings) bookings.push_back(BookingJson(b));
      const std::string& organisation = Text(pt, s.permanence, "organisation");
      list.push_back({{"permanence_id", s.permanence.id},
                      {"organisation_id", organisation},
                      {"organisation", OrganisationName(**records, organisation)},
                      {"reception_point", Text(pt, s.permanence, "reception_point")},
                      {"date", s.date},
                      {"start", s.start},
                      {"end", s.end},
                      {"status", StateWord(s.state)},
                      {"reason", OrNull(s.reason)},
                      {"moved_from", OrNull(s.moved_from)},
                      {"moved_to", OrNull(s.moved_to)},
                      {"moved_to_start", OrNull(s.moved_to_start)},
                      {"bookings", bookings}});
    }
    std::cout << ordered_json{{"week", week}, {"from", *monday}, {"to", sunday}, {"sessions", list}}.dump(2) << "\n";
    return OkStatus();
  }
  std::cout << "Semaine " << week << " (du " << *monday << " au " << sunday << ")\n";
  if (sessions->empty()) {
    std::cout << "Aucune séance de permanence cette semaine.\n";
    return OkStatus();
  }
  for (const client::Session& s : *sessions) {
    std::string state;
    if (s.state == client::SessionState::kCancelled) state = "ANNULÉE (" + s.reason + ")";
    if (s.state == client::SessionState::kMoved) state = "REPORTÉE au " + s.moved_to + " à " + s.moved_to_start;
    if (!s.moved_from.empty()) state += std::string(state.empty() ? "" : " ; ") + "reportée du " + s.moved_from;
    std::cout << "\n"
              << DayName(s.date) << " " << s.date << "  " << s.start << "–" << s.end << "  "
              << Text(pt, s.permanence, "reception_point") << "  "
              << OrganisationName(**records, Text(pt, s.permanence, "organisation")) << "  (permanence "
              << s.permanence.id << ")" << (state.empty() ? "" : "  " + state) << "\n";
    if (s.bookings.empty()) {
      std::cout << "  Aucun rendez-vous.\n";
      continue;
    }
    std::vector<std::vector<std::string>> rows;
    for (const client::Booking& b : s.bookings) rows.push_back(BookingRow(b));
    if (s.state != client::SessionState::kHeld) std::cout << "  À rappeler :\n";
    std::cout << FormatTable(kBookingHeadings, rows);
  }
  return OkStatus();
}

void PrintDisruption(const Context& ctx, const client::Disruption& d, const std::string& what) {
  if (ctx.json) {
    ordered_json call_back = ordered_json::array();
    for (const client::Booking& b : d.call_back) call_back.push_back(BookingJson(b));
    std::cout << ordered_json{{"change", client::RecordToJson(client::PermanenceChangesTable(), d.change, true, true)},
                              {"call_back", call_back}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << what << "\n";
  if (d.call_back.empty()) {
    std::cout << "Personne n'était inscrit sur cette séance : personne à rappeler.\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const client::Booking& b : d.call_back) rows.push_back(BookingRow(b));
  std::cout << "Liste de rappel (" << d.call_back.size() << " personne(s), rendez-vous marqués « à rappeler ») :\n"
            << FormatTable(kBookingHeadings, rows);
}

struct DisruptOptions {
  std::string id, date, reason, to, start;
};

Status Cancel(Context& ctx, const DisruptOptions& o) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto done = client::CancelSession(**records, o.id, o.date, o.reason);
  if (!done) return done.error();
  PrintDisruption(ctx, *done, "Séance du " + o.date + " annulée.");
  return OkStatus();
}

Status Move(Context& ctx, const DisruptOptions& o) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto done = client::MoveSession(**records, o.id, o.date, o.to, o.start);
  if (!done) return done.error();
  PrintDisruption(ctx, *done,
                  "Séance du " + o.date + " reportée au " + o.to + (o.start.empty() ? "" : " à " + o.start) + ".");
  return OkStatus();
}

Status AddAppointment(Context& ctx, const client::AppointmentInput& in) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto created = client::AddAppointment(**records, in);
  if (!created) return created.error();
  PrintRecord(ctx, client::AppointmentsTable(), *created);
  return OkStatus();
}

Status SetOutcome(Context& ctx, const std::string& id, const std::string& outcome) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto edited = client::SetOutcome(**records, id, outcome);
  if (!edited) return edited.error();
  PrintRecord(ctx, client::AppointmentsTable(), *edited);
  return OkStatus();
}

Status ListAppointments(Context& ctx, const std::string& date) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto found = client::ListAppointments(**records, date);
  if (!found) return found.error();
  if (ctx.json) {
    ordered_json out = ordered_json::array();
    for (const client::Booking& b : *found) out.push_back(BookingJson(b));
    std::cout << out.dump(2) << "\n";
    return OkStatus();
  }
  if (found->empty()) {
    std::cout << "Aucun rendez-vous.\n";
    return OkStatus();
  }
  const schema::Table& t = client::AppointmentsTable();
  std::vector<std::vector<std::string>> rows;
  for (const client::Booking& b : *found) {
    std::vector<std::string> row = BookingRow(b);
    const std::string& place = Text(t, b.appointment, "place");
    row.insert(row.begin(), Text(t, b.appointment, "date"));
    row.insert(row.begin() + 4,
               place.empty() ? "permanence " + Text(t, b.appointment, "permanence_id").substr(0, 8) + "…" : place);
    rows.push_back(std::move(row));
  }
  std::cout << FormatTable({"Date", "Heure", "Personne", "Téléphone", "Où", "Issue", "Alerte", "Rendez-vous"}, rows);
  std::cout << found->size() << " rendez-vous\n";
  return OkStatus();
}

}  // namespace

void RegisterPermanenceCommands(CLI::App& app, Context& ctx) {
  CLI::App* group =
      app.add_subcommand("permanence", "Permanences des partenaires aux points d'accueil : séances et réservations");
  group->require_subcommand(1);

  CLI::App* add = group->add_subcommand("add", "Ajoute une permanence récurrente d'un partenaire");
  auto in = std::make_shared<client::PermanenceInput>();
  add->add_option("--organisation", in->organisation, "Organisme : son nom dans l'annuaire, ou l'identifiant d'une fiche")->required();
  add->add_option("--contact", in->contact, "Correspondant présent : « Nom Prénom » dans l'annuaire, ou l'identifiant d'une fiche");
  add->add_option("--reception-point", in->reception_point, "Point d'accueil")->required();
  add->add_option("--weekday", in->weekday, "Jour (lundi, mardi, mercredi, jeudi, vendredi)")->required();
  add->add_option("--start", in->start, "Début (HH:MM)")->required();
  add->add_option("--end", in->end, "Fin (HH:MM)")->required();
  add->add_option("--every", in->every, "Toutes les 1, 2 ou 4 semaines (défaut 1)");
  add->add_option("--from", in->from, "Première date possible (AAAA-MM-JJ)")->required();
  add->add_option("--until", in->until, "Dernière date possible (AAAA-MM-JJ)");
  add->add_option("--territory", in->territory,
                  "Territoire (défaut : celui de cet appareil qui déclare ce point d'accueil)");
  add->callback([&ctx, in] { ctx.Finish(AddPermanence(ctx, *in)); });

  CLI::App* list = group->add_subcommand("list", "Les séances d'une semaine, avec leurs rendez-vous");
  auto list_opts = std::make_shared<ListOptions>();
  list->add_option("--week", list_opts->week, "Semaine ISO (AAAA-Wnn, défaut : cette semaine)");
  list->add_option("--reception-point", list_opts->reception_point, "Seulement ce point d'accueil");
  list->callback([&ctx, list_opts] { ctx.Finish(ListSessions(ctx, *list_opts)); });

  CLI::App* cancel = group->add_subcommand("cancel", "Annule une séance : donne la liste des personnes à rappeler");
  auto cancel_opts = std::make_shared<DisruptOptions>();
  cancel->add_option("id", cancel_opts->id, "Identifiant de la permanence")->required();
  cancel->add_option("--date", cancel_opts->date, "Date de la séance (AAAA-MM-JJ)")->required();
  cancel->add_option("--reason", cancel_opts->reason, "Motif de l'annulation")->required();
  cancel->callback([&ctx, cancel_opts] { ctx.Finish(Cancel(ctx, *cancel_opts)); });

  CLI::App* move = group->add_subcommand("move", "Reporte une séance : donne la liste des personnes à rappeler");
  auto move_opts = std::make_shared<DisruptOptions>();
  move->add_option("id", move_opts->id, "Identifiant de la permanence")->required();
  move->add_option("--date", move_opts->date, "Date de la séance (AAAA-MM-JJ)")->required();
  move->add_option("--to", move_opts->to, "Nouvelle date (AAAA-MM-JJ)")->required();
  move->add_option("--start", move_opts->start, "Nouvelle heure de début (HH:MM, défaut : la même)");
  move->callback([&ctx, move_opts] { ctx.Finish(Move(ctx, *move_opts)); });
}

void RegisterAppointmentCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("appointment", "Rendez-vous des personnes, à une permanence ou en un lieu");
  group->require_subcommand(1);

  CLI::App* add = group->add_subcommand(
      "add", "Prend un rendez-vous : --permanence ID --date D --time HH:MM, ou --date D --time HH:MM --place LIEU");
  auto in = std::make_shared<client::AppointmentInput>();
  add->add_option("case_id", in->case_id, "Identifiant du dossier")->required();
  add->add_option("--permanence", in->permanence_id, "Permanence (identifiant)");
  add->add_option("--date", in->date, "Date (AAAA-MM-JJ)")->required();
  add->add_option("--time", in->time, "Heure (HH:MM)")->required();
  add->add_option("--place", in->place, "Lieu, pour un rendez-vous hors permanence");
  add->callback([&ctx, in] { ctx.Finish(AddAppointment(ctx, *in)); });

  CLI::App* outcome = group->add_subcommand("outcome", "Note l'issue d'un rendez-vous : vu, absent ou excuse");
  auto id = std::make_shared<std::string>();
  auto value = std::make_shared<std::string>();
  outcome->add_option("id", *id, "Identifiant du rendez-vous")->required();
  outcome->add_option("outcome", *value, "vu, absent ou excuse")->required();
  outcome->callback([&ctx, id, value] { ctx.Finish(SetOutcome(ctx, *id, *value)); });

  CLI::App* list = group->add_subcommand("list", "Liste les rendez-vous (d'un jour avec --date)");
  auto date = std::make_shared<std::string>();
  list->add_option("--date", *date, "Seulement ce jour (AAAA-MM-JJ)");
  list->callback([&ctx, date] { ctx.Finish(ListAppointments(ctx, *date)); });
}

}  // namespace relais::cli
