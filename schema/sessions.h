// The sessions of a permanence, computed from its records alone: the recurrence of the permanence
// (weekday, every 1, 2 or 4 weeks, from … until) and the disruptions appended for its sessions
// (permanence_changes: cancelled, moved). Nothing of this is stored, so that every replica and the
// centre, holding the same records, see the same sessions whatever order they learnt them in
// (docs/SCHEMA.md, "Permanences and appointments"). The device's agenda and bookings
// (client/permanences.h) and the annual report's count of sessions held and cancelled
// (stats/report.h) both read it here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "schema/model.h"

namespace relais::schema {

inline constexpr int64_t kDaysPerWeek = 7;

// A calendar day as days since 1970-01-01 (proleptic Gregorian), and back; `date` is checked by the
// caller (IsIsoDate).
int64_t DayNumber(const std::string& date);
std::string DateOfDay(int64_t day);
// 0 for Monday … 6 for Sunday.
int Weekday(int64_t day);
// The French name of the weekday of a day number, lower-case: "lundi" … "dimanche".
const char* FrenchWeekday(int64_t day);
// The ISO week (YYYY-Www) of a date.
std::string IsoWeekOf(const std::string& date);
// The Monday of an ISO week written YYYY-Www ("2026-W50"), or kUsage naming the expected form.
Result<std::string> IsoWeekMonday(const std::string& week);
// Minutes since midnight of a checked HH:MM, and back.
int ClockMinutes(const std::string& time);
std::string ClockTime(int minutes);

enum class SessionState { kHeld, kCancelled, kMoved };

// One session of a permanence on one day.
struct Session {
  Record permanence;
  std::string date, start, end;
  SessionState state = SessionState::kHeld;
  std::string moved_from;                // when this session was moved here from another day
  std::string moved_to, moved_to_start;  // kMoved: where it went
  std::string reason;                    // the disruption's reason
};

// What became of a permanence's session on `date`, from `changes` (that permanence's disruptions)
// appended after `after_id` (a moved-in session is disrupted only by changes made after its move):
// a cancellation wins over a move (the people told of it will not come); between moves, the
// greatest id. nullptr: none, the session is held.
const Record* SessionFate(const std::vector<Record>& changes, const std::string& date, const std::string& after_id = "");

// The sessions of permanence `p` on `day`: the scheduled one, and those moved to that day, each
// with its state. `changes` are the permanence's disruptions.
std::vector<Session> SessionsOn(const Record& p, const std::vector<Record>& changes, int64_t day);

}  // namespace relais::schema
