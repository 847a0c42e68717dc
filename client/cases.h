#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/records.h"

namespace relais::client {

// What only cases and their follow-up entries do, on top of the generic Records. Same contract as
// Records: each write is one transaction with its outbox entry, and a refused write changes nothing.

// Closes case `id` on `date` (today, local time, when absent) for `reason`. kNotFound when absent;
// kValidation when it is already closed (closing twice changes nothing) or a value is invalid.
Result<schema::Record> CloseCase(Records& records, const std::string& id, const schema::Value& reason,
                                 const schema::Value& date);

// Appends a follow-up entry to case `case_id`, which must exist in this replica (kNotFound). `date`
// defaults to today. A tripartite meeting names at least two participants besides its author (the
// partner and the person; kValidation otherwise). Entries are append-only: they are never edited
// afterwards.
Result<schema::Record> AddFollowup(Records& records, const std::string& case_id, const FieldValues& values);

// The consents of a case as a person gives them (`relais case add|edit --consent-sharing oui`):
// in `values` (fields of cases), each of consent_processing and consent_sharing given as oui|non
// (yes|no, any case, are taken for them) is written as oui or non, and, unless given too, its date
// (`_on`) is `today` and its collector (`_by`) is `collector`. kValidation naming the field for
// another word. A withdrawal is a `non` like any other edit, kept in the history.
Status CompleteConsent(FieldValues& values, const std::string& today, const std::string& collector);

// The participants of a meeting as the follow-up's `participants` field holds them: each trimmed,
// joined by "; ". kValidation when one is empty or holds a ";".
Result<std::string> JoinParticipants(const std::vector<std::string>& participants);


// How an entry is rectified: the new text, or its withdrawal.
struct Rectification {
  std::string amendment;  // "correction" or "retrait"
  std::string text;       // a correction's new text
  std::string reason;     // why; required for a withdrawal
  std::string author;
};

// Appends to the case of follow-up `entry_id` an entry that corrects it (a new text, same kind and
// date) or withdraws it, naming it in `amends`: the entry then no longer shows (ListFollowups), and
// stays in the store (ListFollowups with `all`). kNotFound for an unknown entry; kValidation for an
// entry already rectified (the message names the entry that replaced it), a withdrawal without
// reason, or an amendment itself withdrawn. Nothing is written when refused.
Result<schema::Record> RectifyFollowup(Records& records, const std::string& entry_id, const Rectification& how);

// The follow-up entries of a case, newest first: those still showing (not corrected or withdrawn
// by another entry, and not a withdrawal), or with `all` every entry ever written.
Result<std::vector<schema::Record>> ListFollowups(Records& records, const std::string& case_id, bool all = false);

}  // namespace relais::client
