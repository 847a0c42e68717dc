// Whether a device holds exactly what the centre holds of its scope, row by row.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"

namespace relais::e2e {

// Every row of a device's scope when it is the territory hautes-alpes-gap, by the same columns on
// the replica and the centre: cases, follow-ups, contacts.
inline const std::vector<std::string>& ScopeQueries() {
  static const std::vector<std::string> kScopeQueries = {
      "SELECT id, version, last_name, first_name, birth_date, phone, email, status, territory, notes, closed_on, "
      "commune, merged_into FROM cases WHERE territory = 'hautes-alpes-gap' ORDER BY id",
      "SELECT f.id, f.version, f.case_id, f.kind, f.date, f.text FROM followups f JOIN cases c ON c.id = f.case_id "
      "WHERE c.territory = 'hautes-alpes-gap' ORDER BY f.id",
      "SELECT id, version, organisation, phone, email FROM contacts ORDER BY id"};
  return kScopeQueries;
}

inline void CheckSameAsCentre(const Device& d, const Central& central) {
  for (const std::string& sql : ScopeQueries()) {
    INFO(sql);
    CHECK(SqliteRows(d.db(), sql) == central.Rows(sql));
  }
}

}  // namespace relais::e2e
