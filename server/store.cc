#include "server/store.h"

#include <algorithm>

namespace relais::server {

const char* ToString(Role role) { return role == Role::kStaff ? "staff" : "device"; }

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
