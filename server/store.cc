#include "server/store.h"

#include <algorithm>

namespace relais::server {

const char* ToString(Role role) { return role == Role::kStaff ? "staff" : "device"; }

const char* ToString(TransferPolicy policy) { return policy == TransferPolicy::kReview ? "review" : "allow"; }

const Territory* Network::Find(std::string_view code) const {
  auto at = std::lower_bound(territories.begin(), territories.end(), code,
                             [](const Territory& t, std::string_view c) { return t.code < c; });
  return at != territories.end() && at->code == code ? &*at : nullptr;
}

bool Device::InScope(std::string_view territory) const {
  return std::binary_search(territories.begin(), territories.end(), territory);
}

std::string Device::TerritoryList() const {
  std::string out;
  for (const std::string& t : territories) {
    if (!out.empty()) out += ", ";
    out += t;
  }
  return out;
}

}  // namespace relais::server
