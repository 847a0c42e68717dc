// What the annual report counts beside the engine's tables (docs/STATISTICS.md, "The annual
// report"): the sessions of the partners' permanences held, cancelled and moved, computed from the
// recurrence as the agenda does (schema/sessions.h); and the staff time by mission in full-time
// equivalents (ETP, annex 5 of the conventions), from the minutes recorded on visits and follow-ups
// and each counsellor's declared working time. Neither counts people: no small count is hidden.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "stats/engine.h"

namespace relais::stats {

// The sessions of one reception point's permanences over a year.
struct SessionCounts {
  std::string reception_point;
  int64_t planned = 0;    // scheduled by the recurrence
  int64_t held = 0;       // held, on their day or on the day they were moved to
  int64_t cancelled = 0;  // cancelled (a session moved, then cancelled, counts here)
  int64_t moved = 0;      // moved to another day (held there unless cancelled again)
};

// The sessions of the calendar year `year`, by reception point (byte order), of the permanences of
// `territory` (all when empty). Read through `db` (its tables permanences and permanence_changes).
Result<std::vector<SessionCounts>> CountSessions(Database& db, int year, const std::string& territory);

// The time recorded on one mission, and the full-time equivalents it stands for.
struct MissionTime {
  std::string mission;  // the follow-up kind (a visit: "accueil")
  std::string label;    // French
  int64_t minutes = 0;
  double etp = 0;
};

struct StaffTime {
  std::vector<MissionTime> missions;  // those with time recorded, in the declared order of kinds
  double declared_etp = 0;        // the year's declared working time of every counsellor, in ETP
  double unassigned_etp = 0;      // of counsellors who recorded no minutes: not spread on missions
  int counsellors = 0;            // counsellors with a declared working time over the year
  int64_t undeclared_minutes = 0;   // recorded by a counsellor with no declared working time, or by no one
  int undeclared_counsellors = 0;   // how many such counsellors (a missing author not counted)
};

// The staff time of the calendar year `year` in `territory` (all when empty): each counsellor's
// declared ETP over the year (quotité × the share of the year each declaration covers), spread over
// the missions in the proportions of the minutes that counsellor recorded on visits (mission
// "accueil") and follow-up entries (their kind). Counsellors are matched by name, case and accents
// aside. A visit or entry counts as the statistics count it (an amended visit, a withdrawn entry not).
Result<StaffTime> CountStaffTime(Database& db, int year, const std::string& territory);

// An ETP written in French: two decimals, a decimal comma ("0,85").
std::string EtpText(double etp);

}  // namespace relais::stats
