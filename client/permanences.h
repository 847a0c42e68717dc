// Permanences (a partner's recurring presence at a reception point), the disruptions of their
// sessions, and appointments: what only these record types do, on top of the generic Records.
// Same contract as Records: each command is one transaction with its outbox entries, and a refused
// command changes nothing.
//
// Nothing here is stored that another device could compute differently: a week's sessions, their
// state (held, cancelled, moved), the call-back list and the overbooking flags are computed when
// read, from the synced records alone (permanences, permanence_changes, appointments), so that two
// replicas holding the same records show the same agenda, whatever order they learnt them in.
// docs/SCHEMA.md, "Permanences and appointments".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/records.h"
#include "schema/sessions.h"

namespace relais::client {

const schema::Table& PermanencesTable();
const schema::Table& PermanenceChangesTable();
const schema::Table& AppointmentsTable();

// The calendar of schema/sessions.h, as the client's commands name it.
using schema::DateOfDay;
using schema::DayNumber;
using schema::FrenchWeekday;
using schema::IsoWeekMonday;
using schema::IsoWeekOf;
using schema::SessionState;

struct PermanenceInput {
  std::string organisation, contact, reception_point, weekday, start, end, every = "1", from, until;
  std::string territory;  // empty: the territory of this device that declares the reception point
};

// Adds a permanence. The organisation and the contact are directory ids or names (client/directory.h).
// Refused (kValidation, naming the field) when the organisation or the contact is not a contact of
// the directory on this replica, start is not before end, until is before from,
// or no territory of this device can hold the reception point.
Result<schema::Record> AddPermanence(Records& records, const PermanenceInput& input);

// A booking on a session, as people need it: the appointment, the person's name and phone as this
// replica knows the case (empty when it does not hold it), whether another booking holds the same
// slot (overbooked), and whether the person must be called back (the session was cancelled or
// moved, or the appointment was marked so).
struct Booking {
  schema::Record appointment;
  std::string name, phone;
  bool overbooked = false;
  bool to_call_back = false;
};

// One session of a permanence on one day (schema/sessions.h), with its bookings.
struct Session : schema::Session {
  std::vector<Booking> bookings;  // by time, then id
};

// The sessions of an ISO week (YYYY-Www), at `reception_point` when given, by date, start and
// permanence, each with its bookings.
Result<std::vector<Session>> WeekSessions(Records& records, const std::string& week,
                                          const std::optional<std::string>& reception_point);

// A session cancelled or moved: the change appended, and the bookings to call back (the people
// booked on that session whose appointment has no outcome), whose appointments were marked
// call_back = a_rappeler in the same transaction.
struct Disruption {
  schema::Record change;
  std::vector<Booking> call_back;
};

// The sessions of the days from `from` to `to` (ISO dates, inclusive), at one of `points` when it
// is not empty, by date, start and permanence, without their bookings (WeekSessions adds them):
// the agenda counts bookings in one query.
Result<std::vector<Session>> SessionsBetween(Records& records, const std::string& from, const std::string& to,
                                             const std::vector<std::string>& points);

// Cancels the session of permanence `id` on `date`. kNotFound for an unknown permanence;
// kValidation when no session is held that day (none scheduled, or already cancelled or moved) or
// the reason is empty.
Result<Disruption> CancelSession(Records& records, const std::string& id, const std::string& date,
                                 const std::string& reason);
// Moves that session to `to_date`, starting at `to_start` (the session's start when empty), for the
// same duration. Refused as CancelSession, and when the new day and start are the session's own.
Result<Disruption> MoveSession(Records& records, const std::string& id, const std::string& date,
                               const std::string& to_date, const std::string& to_start);

struct AppointmentInput {
  std::string case_id, permanence_id, date, time, place;
};

// Books case `case_id` (which this replica must hold: kNotFound) at a permanence session
// (permanence_id, date, time: the time must lie within a session held that day, and the slot be
// free on this replica) or at a place (date, time, place). Its territory is the permanence's, or
// the case's for a place.
Result<schema::Record> AddAppointment(Records& records, const AppointmentInput& input);

// Records the outcome (vu, absent, excuse) of appointment `id`: it is no longer to be called back.
Result<schema::Record> SetOutcome(Records& records, const std::string& id, const std::string& outcome);

// The appointments of `date` (every one when empty), by date, time and id.
Result<std::vector<Booking>> ListAppointments(Records& records, const std::string& date);

// The permanences of this replica, by reception point, weekday and start.
Result<std::vector<schema::Record>> ListPermanences(Records& records);

}  // namespace relais::client
