// The agenda: what a counsellor must do in a window of days (docs/CLI.md, "Agenda") — her
// appointments, the permanence sessions at her reception points with their fate and bookings, the
// follow-ups whose next action is due, and the overdue ones. Built from a list of sources, each a
// function that reads the replica and returns its items; BuildAgenda runs them all and sorts.
// A new kind of work is one more source in AgendaSources() (agenda.cc), nothing else.
//
// Computed when read from the synced records alone, like a week's sessions (client/permanences.h):
// two replicas holding the same records show the same agenda. Reads only; not thread-safe (like
// the Records it reads).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "client/records.h"

namespace relais::client {

// The days the agenda covers, and what it needs to know of the counsellor.
struct AgendaWindow {
  std::string from, to;  // ISO dates, inclusive
  std::string today;     // what is before it and not done is overdue
  // The reception points whose permanences are hers; empty: every point of the replica.
  std::vector<std::string> reception_points;
};

// One thing to do (or to know) on a day.
struct AgendaItem {
  std::string date;  // the day it is due: YYYY-MM-DD
  std::string time;  // HH:MM, empty for a whole-day item (a follow-up due)
  // rendez_vous, permanence, suivi (a follow-up's next action), orientation (a referral due).
  std::string kind;
  bool overdue = false;      // its day is before today and it is not done: shown first
  std::string title;         // French, one line: what it is
  std::string detail;        // French: where, who, what became of it
  std::string status;        // rendez_vous: its outcome, a_rappeler or prevu; permanence: prevue,
                             // annulee, deplacee; suivi: a_faire or en_retard; orientation: its
                             // status (envoyee, acceptee)
  std::string record_table;  // the record it is about
  std::string record_id;
  std::string case_id;  // the person's case, when there is one
  int bookings = -1;    // permanence: how many people are booked on the session
};

// A source of agenda items: every item of the window it knows of, in any order.
using AgendaSource = Result<std::vector<AgendaItem>> (*)(Records& records, const AgendaWindow& window);

// Appointments of the window (those at a permanence only when the permanence is at one of her
// reception points), each with the person's name and phone when the replica holds the case; one
// of a past day without an outcome is overdue ("issue à noter").
Result<std::vector<AgendaItem>> AppointmentItems(Records& records, const AgendaWindow& window);
// Permanence sessions of the window at her reception points: held, cancelled or moved (with the
// reason and where it went), and the number of people booked on each.
Result<std::vector<AgendaItem>> SessionItems(Records& records, const AgendaWindow& window);
// Follow-ups whose next action (next_date) falls in the window, and those whose next action is
// past (up to kOverdueLookbackDays before today), as long as no later entry on the same case
// followed them up (a later date, or the same date written after).
Result<std::vector<AgendaItem>> FollowupItems(Records& records, const AgendaWindow& window);

// Referrals still waiting on the partner (envoyee: its answer; acceptee: its report) due in the
// window, and those overdue (client::DueReferrals), with the person and the partner named.
Result<std::vector<AgendaItem>> ReferralItems(Records& records, const AgendaWindow& window);

// How far back an overdue next action is still shown: a quarter. Older ones are out of the
// agenda, no longer the week's work (the case's follow-up list still shows them).
inline constexpr int kOverdueLookbackDays = 92;

// The sources BuildAgenda runs, in order.
std::span<const AgendaSource> AgendaSources();

// Every source's items, sorted: overdue items first (oldest first), then by date, time (whole-day
// items first), kind and record id. On a source's error, that error and no agenda.
Result<std::vector<AgendaItem>> BuildAgenda(Records& records, const AgendaWindow& window);

// The reception points of this device's territories as the centre declared them, or an empty list
// when it declared none (every point of the replica is hers then).
Result<std::vector<std::string>> MyReceptionPoints(Replica& replica);

}  // namespace relais::client
