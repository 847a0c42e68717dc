// Referrals as `relais referral list` and `relais case show` give them: one JSON object each, or a
// table in French.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/referrals.h"

namespace relais::cli {

// The referral's fields, then "case_name", "organisation_name" (null when this replica does not hold
// them) and "overdue".
nlohmann::ordered_json ReferralJson(const client::ReferralView& view);

// An aligned table, a row per referral: its id, the person (when `with_person`), the partner, the
// service, the status, when it was sent, when it is due and « EN RETARD » when overdue.
std::string ReferralTable(const std::vector<client::ReferralView>& views, bool with_person);

}  // namespace relais::cli
