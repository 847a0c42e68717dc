#include "schema/sessions.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace relais::schema {

namespace {

const Table& Permanences() {
  static const Table& t = *FindTable("permanences");
  return t;
}
const Table& Changes() {
  static const Table& t = *FindTable("permanence_changes");
  return t;
}

const Value& FieldOf(const Table& table, const Record& r, std::string_view name) {
  return r.values[static_cast<size_t>(table.FieldIndex(name))];
}
std::string Text(const Table& table, const Record& r, std::string_view name) {
  return FieldOf(table, r, name).value_or("");
}

int WeekdayIndex(const std::string& name) {
  const auto& choices = Permanences().FindField("weekday")->choices;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// Whether permanence `p` has a session on `day` by its recurrence alone.
bool Scheduled(const Record& p, int64_t day) {
  const Table& t = Permanences();
  const int weekday = WeekdayIndex(Text(t, p, "weekday"));
  const int64_t from = DayNumber(Text(t, p, "valid_from"));
  const Value& until = FieldOf(t, p, "valid_until");
  if (Weekday(day) != weekday || day < from || (until && day > DayNumber(*until))) return false;
  const int64_t first = from + (weekday - Weekday(from) + kDaysPerWeek) % kDaysPerWeek;
  const int64_t every = std::stoi(Text(t, p, "every_weeks"));
  return ((day - first) / kDaysPerWeek) % every == 0;
}

}  // namespace

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

// 1970-01-01 was a Thursday.
int Weekday(int64_t day) { return static_cast<int>(((day % kDaysPerWeek) + kDaysPerWeek + 3) % kDaysPerWeek); }

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
  if (!IsIsoDate(year + "-01-04")) return usage;
  const int64_t jan4 = DayNumber(year + "-01-04");
  const std::string monday = DateOfDay(jan4 - Weekday(jan4) + (std::stoi(number) - 1) * kDaysPerWeek);
  if (std::stoi(number) < 1 || IsoWeekOf(monday) != week) return usage;
  return monday;
}

int ClockMinutes(const std::string& time) { return std::stoi(time.substr(0, 2)) * 60 + std::stoi(time.substr(3, 2)); }

std::string ClockTime(int minutes) {
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", (minutes / 60) % 24, minutes % 60);
  return text;
}

const Record* SessionFate(const std::vector<Record>& changes, const std::string& date, const std::string& after_id) {
  const Table& t = Changes();
  const Record* cancel = nullptr;
  const Record* move = nullptr;
  for (const Record& c : changes) {
    if (Text(t, c, "date") != date || c.id <= after_id) continue;
    if (Text(t, c, "kind") == "annule") {
      if (!cancel || c.id < cancel->id) cancel = &c;
    } else if (!move || c.id > move->id) {
      move = &c;
    }
  }
  return cancel ? cancel : move;
}

std::vector<Session> SessionsOn(const Record& p, const std::vector<Record>& changes, int64_t day) {
  const Table& pt = Permanences();
  const Table& ct = Changes();
  const std::string date = DateOfDay(day);
  const int start = ClockMinutes(Text(pt, p, "start_time"));
  const int length = ClockMinutes(Text(pt, p, "end_time")) - start;
  std::vector<Session> out;
  auto add = [&](int at, const std::string& from, const Record* fate) {
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
        s.moved_to_start = FieldOf(ct, *fate, "to_start").value_or(s.start);
      }
    }
    out.push_back(std::move(s));
  };
  if (Scheduled(p, day)) add(start, "", SessionFate(changes, date));
  for (const Record& c : changes) {
    if (Text(ct, c, "kind") != "deplace" || Text(ct, c, "to_date") != date) continue;
    if (SessionFate(changes, Text(ct, c, "date")) != &c) continue;  // another change settled that session
    const Value& to_start = FieldOf(ct, c, "to_start");
    add(to_start ? ClockMinutes(*to_start) : start, Text(ct, c, "date"), SessionFate(changes, date, c.id));
  }
  return out;
}

}  // namespace relais::schema
