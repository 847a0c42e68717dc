// The territories the centre declared (docs/PROTOCOL.md, "GET /v1/whoami"), as the replica keeps
// them from the centre's last answer: a case may carry only one of them. Not thread-safe, like the
// Replica.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/replica.h"
#include "schema/model.h"

namespace relais::client {

struct DeclaredTerritory {
  std::string code;   // what cases carry
  std::string label;  // French, for people
  std::vector<std::string> reception_points;
};

// The sync_state key of the list: the JSON array of whoami's `declared_territories`, verbatim.
inline constexpr const char* kStateDeclaredTerritories = "declared_territories";

// Keeps the `declared_territories` of a whoami answer's body in the replica. An answer without it
// (a centre older than the list) leaves what the replica knew; kProtocol for a malformed list.
Status KeepDeclaredTerritories(Replica& replica, const std::string& whoami_body);

// The list, or nullopt when the replica never learnt it (not bound yet, or an older centre).
Result<std::optional<std::vector<DeclaredTerritory>>> DeclaredTerritories(Replica& replica);

// The territories this device may write (the sync_state list the centre's whoami gave at init or
// at the last sync), or nullopt when the replica never learnt them.
Result<std::optional<std::vector<std::string>>> DeviceTerritories(Replica& replica);

// OK when `territory` (as given: it is normalised first) is null, declared, or the list is unknown (the centre then
// decides, and rejects an undeclared one). Otherwise kValidation naming the declared territories.
Status CheckDeclaredTerritory(Replica& replica, const schema::Value& territory);

// OK when the reception point `point` (as given: it is normalised first) is empty, one the centre
// declared for `territory`, or when that territory declares none or the list is unknown (the
// centre then decides). Otherwise kValidation naming the territory's declared points
// (docs/SERVER.md, "Territories").
Status CheckDeclaredReceptionPoint(Replica& replica, const schema::Value& point, const schema::Value& territory);

// The declared list read once, for checks of many records (`relais import`).
class DeclaredPoints {
 public:
  static Result<DeclaredPoints> Load(Replica& replica);
  // As CheckDeclaredReceptionPoint, `point` and `territory` already normalised (as stored).
  Status Check(const schema::Value& point, const schema::Value& territory) const;

 private:
  std::optional<std::vector<DeclaredTerritory>> declared_;
};

}  // namespace relais::client
