// The `relais-central` commands of the data-protection officer (docs/PRIVACY.md): the access log.
#pragma once

#include <optional>
#include <string>

namespace relais::central_cli {

// `relais-central access-log [CASE_ID] [--device NAME] [--since DATE] [--json]`: who read the
// person's case, or what one device read, oldest first.
struct AccessLogOptions {
  std::string case_id;
  std::string device;
  std::string since;
  bool json = false;
};
int AccessLogList(const std::string& db_path, const AccessLogOptions& options);

}  // namespace relais::central_cli
