// The register of visits (main courante) on the device: appending an entry, amending one, reading a
// day or a period. Same contract as Records: each write is one transaction (the row is its pending
// create), and a refused write changes nothing. docs/SCHEMA.md,
// "visits — registre des visites, main courante".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/records.h"

namespace relais::client {

// Appends a visit. `values` are fields of schema::VisitsTable() (kUsage for another name); `date`
// defaults to today (local time). When `case_id` is set the case must be in this replica
// (kNotFound) and not merged into another (kValidation naming the survivor); the typology fields the
// entry does not give (status, sector, commune, postcode, service_level, and age_band from the
// birth date on the visit's day) are the case's, copied now. `orientation` must name a partner
// contact of this replica and `amends` a visit of this replica (kNotFound). The values are then
// validated as any record's (kValidation naming the field).
Result<schema::Record> AddVisit(Records& records, const FieldValues& values);

// The visit `id` corrected: its values with `changes` on top, as a new entry that names it in
// `amends`. kNotFound when the replica holds no such visit.
Result<schema::Record> AmendVisit(Records& records, const std::string& id, const FieldValues& changes);

struct VisitFilter {
  std::string from, to;         // dates, inclusive (YYYY-MM-DD, checked: kValidation)
  std::string reception_point;  // empty: every point
  bool with_amended = false;    // also the entries an amendment replaces
};

// The visits of the period, in date and time order. An entry that another entry amends is left out
// unless `with_amended`: the amendment stands in its place.
Result<std::vector<schema::Record>> ListVisits(Records& records, const VisitFilter& filter);

// The age band ("16-25", "26-44", "45-54", "55+") of a person born on `birth_date` on the day
// `on`, both ISO dates; nullopt under 16 or when a date is not one.
std::optional<std::string> AgeBand(const std::string& birth_date, const std::string& on);

}  // namespace relais::client
