// What a device checks of a decoded pull page before any of it reaches the replica: a centre that
// is broken, impersonated or hostile must not be able to store what a counsellor could not type,
// nor records of another territory (docs/PROTOCOL.md, "What a device checks of a page"). Pure: no
// storage, no transport. The replica checks the one rule that needs its rows (a record's version
// never goes back: client/replica_port.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "sync/protocol.h"

namespace relais::sync {

// Whom a page is for: the device's own territories, as the centre told them at enrolment
// (`relais init`, GET /v1/whoami). nullopt when the replica does not know them: scope is then not
// checked.
struct PageScope {
  std::optional<std::vector<std::string>> territories;
};

// OK when every record of `page` passes the schema's declared validation (schema::ValidateRecord,
// the same as a local write), every case lies in `scope`, every record's version, removal's and
// notice's sequence lies in (since, next], and no record comes twice at different versions.
// Otherwise a kProtocol error in French naming the table, the record, the field and the rule;
// the caller then applies none of the page. Allocates only to say what is wrong.
Status CheckPulledPage(const PullPage& page, const PageScope& scope);

}  // namespace relais::sync
