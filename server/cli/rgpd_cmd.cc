#include "server/cli/rgpd_cmd.h"

#include <iostream>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "schema/model.h"
#include "server/access_log.h"
#include "server/cli/output.h"
#include "server/retention.h"
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

namespace {

nlohmann::json PolicyJson(const server::RetentionPolicy& p) {
  return {{"closed_after_months", p.closed_after_months}, {"device_closed_after_days", p.device_closed_after_days}};
}

void PrintPolicy(const server::RetentionPolicy& p) {
  std::cout << "Au centre : un dossier clos depuis plus de " << p.closed_after_months
            << " mois est effacé (chaque jour par serve, ou relais-central retention run).\n"
            << "Sur les appareils : un dossier clos depuis plus de " << p.device_closed_after_days
            << " jours quitte la base locale à la synchronisation (il reste au centre).\n";
}

}  // namespace

int RetentionShow(const std::string& db_path, const RetentionOptions& options) {
  auto store = server::OpenStore(db_path, server::OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto policy = (*store)->Retention();
  if (!policy) return Fail(policy.error());
  if (options.json) {
    std::cout << PolicyJson(*policy).dump(2) << std::endl;
    return 0;
  }
  PrintPolicy(*policy);
  return 0;
}

int RetentionSet(const std::string& db_path, const RetentionOptions& options) {
  if (options.closed_after_months == -1 && options.device_closed_after_days == -1) {
    return Fail(MakeError(ErrorCode::kUsage, "dites quoi changer : --closed-after-months N, --device-closed-after-days N"));
  }
  auto store = server::OpenStore(db_path, server::OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto policy = (*store)->Retention();
  if (!policy) return Fail(policy.error());
  if (options.closed_after_months != -1) policy->closed_after_months = options.closed_after_months;
  if (options.device_closed_after_days != -1) policy->device_closed_after_days = options.device_closed_after_days;
  if (auto set = (*store)->SetRetention(*policy); !set) return Fail(set.error());
  PrintPolicy(*policy);
  std::cout << "Voir ce que la prochaine passe effacerait : relais-central retention run --dry-run\n";
  return 0;
}

int RetentionRunCommand(const std::string& db_path, const RetentionOptions& options) {
  auto store = server::OpenStore(db_path, server::OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto run = server::RunRetention(**store, IsoDate(SystemClock::Instance().NowMs()), options.dry_run, options.ledger);
  if (!run) return Fail(run.error());
  if (options.json) {
    nlohmann::json cases = nlohmann::json::array();
    for (const server::ClosedCase& c : run->cases) cases.push_back({{"case_id", c.case_id}, {"closed_on", c.closed_on}});
    std::cout << nlohmann::json{{"policy", PolicyJson(run->policy)},
                                {"closed_before", run->cutoff},
                                {"dry_run", run->dry_run},
                                {"cases", std::move(cases)},
                                {"records", run->records}}
                     .dump(2)
              << std::endl;
    return 0;
  }
  if (run->cases.empty()) {
    std::cout << "Aucun dossier clos avant le " << run->cutoff << " : rien à effacer.\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"DOSSIER", "CLOS LE"}};
  for (const server::ClosedCase& c : run->cases) rows.push_back({c.case_id, c.closed_on});
  PrintTable(rows);
  if (run->dry_run) {
    std::cout << run->cases.size() << " dossier(s) clos avant le " << run->cutoff
              << " seraient effacés (rien n'a changé ; sans --dry-run pour les effacer).\n";
  } else {
    std::cout << run->cases.size() << " dossier(s) clos avant le " << run->cutoff << " effacé(s), " << run->records
              << " fiche(s) en tout ; reçus : relais-central erasures\n";
  }
  return 0;
}

}  // namespace relais::central_cli
