// relais agenda [--week YYYY-Www | --days N] — what the counsellor must do, day by day
// (client/agenda.h): what she opens first in the morning.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/agenda.h"
#include "client/cli/commands.h"
#include "client/cli/output.h"
#include "client/permanences.h"

namespace relais::cli {

namespace {

using nlohmann::ordered_json;

constexpr int kMaxDays = 366;

const char* const kMonthNames[] = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                                   "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};

// "lundi 14 décembre 2026".
std::string LongDate(const std::string& date) {
  const int month = std::stoi(date.substr(5, 2));
  return std::string(client::FrenchWeekday(client::DayNumber(date))) + " " +
         std::to_string(std::stoi(date.substr(8, 2))) + " " + kMonthNames[month - 1] + " " + date.substr(0, 4);
}

std::string Capitalised(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text;
}

ordered_json OrNull(const std::string& text) { return text.empty() ? ordered_json(nullptr) : ordered_json(text); }

struct AgendaOptions {
  std::string week;
  int days = 0;
};

// The window the options name: an ISO week, N days from today, or this week (Monday to Sunday).
Result<client::AgendaWindow> WindowOf(const AgendaOptions& o, const std::string& today) {
  client::AgendaWindow w;
  w.today = today;
  if (o.days != 0) {
    if (!o.week.empty()) return MakeError(ErrorCode::kUsage, "--week et --days ne vont pas ensemble : l'un ou l'autre");
    if (o.days < 1 || o.days > kMaxDays) {
      return MakeError(ErrorCode::kUsage,
                       "--days : « " + std::to_string(o.days) + " » hors des valeurs permises (de 1 à 366 jours)");
    }
    w.from = today;
    w.to = client::DateOfDay(client::DayNumber(today) + o.days - 1);
    return w;
  }
  auto monday = client::IsoWeekMonday(o.week.empty() ? client::IsoWeekOf(today) : o.week);
  if (!monday) return monday.error();
  w.from = *monday;
  w.to = client::DateOfDay(client::DayNumber(*monday) + 6);
  return w;
}

ordered_json ItemJson(const client::AgendaItem& i) {
  return {{"date", i.date},
          {"time", OrNull(i.time)},
          {"kind", i.kind},
          {"overdue", i.overdue},
          {"status", i.status},
          {"title", i.title},
          {"detail", i.detail},
          {"record_table", i.record_table},
          {"record_id", i.record_id},
          {"case_id", OrNull(i.case_id)},
          {"bookings", i.bookings < 0 ? ordered_json(nullptr) : ordered_json(i.bookings)}};
}

void PrintItem(const client::AgendaItem& i, bool with_date) {
  std::cout << "  " << (i.time.empty() ? "     " : i.time) << "  ";
  if (with_date) std::cout << "[" << LongDate(i.date) << "] ";
  std::cout << i.title;
  if (!i.detail.empty()) std::cout << " — " << i.detail;
  std::cout << "\n";
}

Status ShowAgenda(Context& ctx, const AgendaOptions& o) {
  const std::string today = client::LocalToday(*ctx.clock);
  auto window = WindowOf(o, today);
  if (!window) return window.error();
  auto records = ctx.Records();
  if (!records) return records.error();
  auto points = client::MyReceptionPoints((*records)->replica());
  if (!points) return points.error();
  window->reception_points = std::move(*points);
  auto items = client::BuildAgenda(**records, *window);
  if (!items) return items.error();
  const client::AgendaWindow& w = *window;
  if (ctx.json) {
    ordered_json list = ordered_json::array();
    for (const client::AgendaItem& i : *items) list.push_back(ItemJson(i));
    ordered_json out = {{"from", w.from}, {"to", w.to}, {"today", w.today}};
    if (o.days == 0) out["week"] = client::IsoWeekOf(w.from);
    out["reception_points"] = w.reception_points;
    out["items"] = list;
    std::cout << out.dump(2) << "\n";
    return OkStatus();
  }
  std::cout << "Agenda du " << LongDate(w.from) << " au " << LongDate(w.to);
  if (o.days == 0) std::cout << " (semaine " << client::IsoWeekOf(w.from) << ")";
  std::cout << "\n";
  if (!w.reception_points.empty()) {
    std::cout << "Permanences de vos points d'accueil :";
    for (size_t i = 0; i < w.reception_points.size(); ++i) std::cout << (i ? ", " : " ") << w.reception_points[i];
    std::cout << "\n";
  }
  size_t first_due = 0;
  while (first_due < items->size() && (*items)[first_due].overdue) ++first_due;
  if (first_due > 0) {
    std::cout << "\nEN RETARD (" << first_due << ")\n";
    for (size_t i = 0; i < first_due; ++i) PrintItem((*items)[i], true);
  }
  size_t next = first_due;
  for (int64_t day = client::DayNumber(w.from); day <= client::DayNumber(w.to); ++day) {
    const std::string date = client::DateOfDay(day);
    std::cout << "\n" << Capitalised(LongDate(date)) << (date == w.today ? "  ◀ AUJOURD'HUI" : "") << "\n";
    const size_t begin = next;
    while (next < items->size() && (*items)[next].date == date) PrintItem((*items)[next++], false);
    if (next == begin) std::cout << "  Rien de prévu.\n";
  }
  return OkStatus();
}

}  // namespace

void RegisterAgendaCommand(CLI::App& app, Context& ctx) {
  CLI::App* agenda = app.add_subcommand(
      "agenda",
      "Ce qu'il y a à faire, jour par jour : rendez-vous, permanences, suivis à faire et en retard (défaut : cette "
      "semaine)");
  auto o = std::make_shared<AgendaOptions>();
  agenda->add_option("--week", o->week, "Semaine ISO (AAAA-Wnn, défaut : cette semaine, du lundi au dimanche)");
  agenda->add_option("--days", o->days, "Les N jours à partir d'aujourd'hui (1 à 366), au lieu d'une semaine");
  agenda->callback([&ctx, o] { ctx.Finish(ShowAgenda(ctx, *o)); });
}

}  // namespace relais::cli
