#include "server/cli/rgpd_cmd.h"

#include <iostream>

#include <nlohmann/json.hpp>

#include "schema/model.h"
#include "server/access_log.h"
#include "server/cli/output.h"
#include "server/store_open.h"

namespace relais::central_cli {

namespace {

std::string ActionLabel(const server::AccessEntry& e) {
  if (e.action == "recherche") return "recherche (" + std::to_string(e.results.value_or(0)) + " résultat(s))";
  return server::AccessActionLabel(e.action);
}

}  // namespace

int AccessLogList(const std::string& db_path, const AccessLogOptions& options) {
  server::AccessFilter filter;
  if (!options.case_id.empty()) filter.case_id = options.case_id;
  if (!options.device.empty()) filter.device = options.device;
  if (!options.since.empty()) {
    if (!schema::IsIsoDate(options.since)) {
      return Fail(MakeError(ErrorCode::kUsage, "--since : « " + options.since + " » n'est pas une date AAAA-MM-JJ"));
    }
    filter.since = options.since;
  }
  if (filter.case_id && filter.device) {
    return Fail(MakeError(ErrorCode::kUsage, "nommez un dossier ou un appareil (--device), pas les deux"));
  }
  auto store = server::OpenStore(db_path, server::OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto entries = (*store)->AccessLog(filter);
  if (!entries) return Fail(entries.error());
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const server::AccessEntry& e : *entries) out.push_back(server::AccessEntryJson(e));
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  const std::string what = filter.case_id ? "le dossier " + *filter.case_id : "l'appareil " + *filter.device;
  if (entries->empty()) {
    std::cout << "Aucune lecture enregistrée pour " << what << (filter.since ? " depuis le " + *filter.since : "")
              << ".\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"LE", "APPAREIL", "PAR", "LECTURE", "DOSSIER"}};
  for (const server::AccessEntry& e : *entries) {
    rows.push_back({e.at, e.device, e.reader, ActionLabel(e), e.case_id.value_or("-")});
  }
  PrintTable(rows);
  std::cout << entries->size() << " lecture(s) "
            << (filter.case_id ? "du dossier " + *filter.case_id : "de l'appareil " + *filter.device) << "\n";
  return 0;
}

}  // namespace relais::central_cli
