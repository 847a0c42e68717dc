// The `relais-central` commands of the data-protection officer (docs/PRIVACY.md): the access log
// and retention.
#pragma once

#include <cstdint>
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

// `relais-central retention show | set | run`.
struct RetentionOptions {
  int64_t closed_after_months = -1;       // set: -1 (not given) keeps the current value
  int64_t device_closed_after_days = -1;  // set: -1 (not given) keeps the current value
  bool dry_run = false;
  bool json = false;
  std::string ledger;  // run: the erasure ledger (server/erasure_ledger.h; main.cc gives its default)
};
int RetentionShow(const std::string& db_path, const RetentionOptions& options);
int RetentionSet(const std::string& db_path, const RetentionOptions& options);
int RetentionRunCommand(const std::string& db_path, const RetentionOptions& options);

}  // namespace relais::central_cli
