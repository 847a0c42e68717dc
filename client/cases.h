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
// defaults to today. Entries are append-only: they are never edited afterwards.
Result<schema::Record> AddFollowup(Records& records, const std::string& case_id, const FieldValues& values);

// The follow-up entries of a case, newest first.
Result<std::vector<schema::Record>> ListFollowups(Records& records, const std::string& case_id);

}  // namespace relais::client
