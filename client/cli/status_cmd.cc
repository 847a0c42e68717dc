// relais status
#include "client/cli/status.h"

#include <ctime>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "base/clock.h"

#include "client/access_log.h"
#include "client/cli/clock_notes.h"
#include "client/cli/output.h"
#include "client/keyring.h"
#include "client/purge.h"
#include "client/referrals.h"
#include "client/replica_port.h"
#include "client/sync_text.h"

namespace relais::cli {

namespace {

struct Label {
  const char* key;
  const char* text;
};
// French labels of the human output; keys without one are printed as they are.
constexpr Label kLabels[] = {{"replica", "Base locale"},
                             {"node_id", "Poste"},
                             {"cases", "Dossiers"},
                             {"followups", "Entrées de suivi"},
                             {"contacts", "Contacts"},
                             {"visits", "Visites (registre)"},
                             {"referrals", "Orientations vers un partenaire"},
                             {"referrals_overdue", "Orientations en retard"},
                             {"pending", "À synchroniser"},
                             {"rejected", "Modifications refusées"},
                             {"access_log_pending", "Lectures à transmettre (journal des accès)"},
                             {"purge_due", "Dossiers clos que la prochaine synchronisation retirera"},
                             {"purged_cases", "Dossiers clos retirés de cet appareil (gardés au centre)"},
                             {"device_retention_days", "Conservation sur l'appareil après clôture (jours)"},
                             {"last_sync", "Dernière synchronisation"},
                             {"server", "Serveur"},
                             {"insecure_http", "En clair sur le réseau (--insecure-http)"},
                             {"ca_file", "Autorité de certification"}};

// The protection keys of a status (ProtectionStatus) in one line of French.
std::string ProtectionText(const nlohmann::ordered_json& status) {
  if (!status["encrypted"].get<bool>()) return "NON chiffrée";
  if (status["unlocked_until"].is_string()) {
    std::time_t t = status["unlocked_until_unix"].get<int64_t>();
    std::tm tm{};
    localtime_r(&t, &tm);
    char when[40];
    std::strftime(when, sizeof when, "%d/%m/%Y à %H:%M", &tm);
    return std::string("chiffrée, déverrouillée jusqu'au ") + when + " (relais lock pour la verrouiller)";
  }
  if (!status["locked"].get<bool>()) return "chiffrée, déverrouillée (relais lock pour la verrouiller)";
  if (status["key_from"] == "RELAIS_PASSPHRASE") return "chiffrée, verrouillée (ouverte par RELAIS_PASSPHRASE)";
  return "chiffrée, verrouillée : lancez relais unlock";
}

void PrintRows(const std::vector<std::vector<std::string>>& rows) {
  std::string table = FormatTable({"", ""}, rows);
  std::cout << table.substr(table.find('\n', table.find('\n') + 1) + 1);  // no heading rows
}

Status ShowStatus(Context& ctx) {
  auto replica = ctx.Replica();
  if (!replica) {
    // A locked replica still says what it is, before the error that says how to unlock it.
    if (replica.error().code != ErrorCode::kLocked) return replica.error();
    auto path = ResolveDbPath(ctx.db_flag);
    if (!path) return replica.error();
    auto protection = ProtectionStatus(*path, false);
    if (!protection) return replica.error();
    nlohmann::ordered_json locked = {{"replica", *path}};
    locked.update(*protection);
    if (ctx.json) {
      std::cout << locked.dump(2) << "\n";
    } else {
      PrintRows({{"Base locale", *path}, {"Protection", ProtectionText(locked)}});
    }
    return replica.error();
  }
  auto records = ctx.Records();
  if (!records) return records.error();
  auto status = BuildStatus(**replica, **records);
  if (!status) return status.error();
  if (ctx.json) {
    std::cout << status->dump(2) << "\n";
    return OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (auto it = status->begin(); it != status->end(); ++it) {
    if (it.key() == "encrypted") rows.push_back({"Protection", ProtectionText(*status)});
    if (it.key() == "rejections" || it.key() == "pending_records" || it.key() == "clock_skew_ms" ||
        it.key() == "encrypted" || it.key() == "locked" || it.key() == "key_from" || it.key() == "unlocked_until" ||
        it.key() == "unlocked_until_unix") {
      continue;  // said below the table; pending_records in "pending"; protection in one row
    }
    std::string label = it.key();
    for (const Label& l : kLabels) {
      if (it.key() == l.key) label = l.text;
    }
    const auto& v = it.value();
    std::string text = v.is_null()      ? "jamais / aucun"
                       : v.is_string()  ? v.get<std::string>()
                       : v.is_boolean() ? (v.get<bool>() ? "oui" : "non")
                                        : v.dump();
    // Successive edits of a record are one change: what waits is a number of records.
    if (it.key() == "pending") text = client::PendingRecordsText((*status)["pending_records"].get<int64_t>());
    rows.push_back({label, text});
  }
  PrintRows(rows);
  if ((*status)["clock_skew_ms"].is_number_integer()) {
    if (const std::string warning = ClockWarning((*status)["clock_skew_ms"].get<int64_t>()); !warning.empty()) {
      std::cout << "\nAttention : " << warning << "\n";
    }
  }
  const auto& rejections = (*status)["rejections"];
  if (!rejections.empty()) {
    std::vector<std::vector<std::string>> lines;
    for (const auto& r : rejections) {
      lines.push_back({r["table"].get<std::string>(), r["record"].get<std::string>(), r["reason"].get<std::string>()});
    }
    std::cout << "\nModifications refusées par le centre (conservées sur cet appareil) :\n"
              << FormatTable({"Table", "Fiche", "Motif"}, lines);
  }
  return OkStatus();
}

nlohmann::ordered_json OrNull(const std::optional<std::string>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

Result<nlohmann::ordered_json> ProtectionStatus(const std::string& path, bool opened) {
  auto envelope = sqlite::crypt::ReadEnvelope(path);
  if (!envelope) return envelope.error();
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["encrypted"] = envelope->has_value();
  std::optional<client::KeptKey> kept;
  if (*envelope) kept = client::FindKeptKey((*envelope)->replica_id);
  out["locked"] = envelope->has_value() && !kept;
  out["key_from"] = !*envelope ? nlohmann::ordered_json(nullptr)
                    : kept     ? nlohmann::ordered_json("keyring")
                    : opened   ? nlohmann::ordered_json("RELAIS_PASSPHRASE")
                               : nlohmann::ordered_json(nullptr);
  if (kept && kept->expires_at) {
    out["unlocked_until"] = IsoTimestamp(*kept->expires_at * 1000);
    out["unlocked_until_unix"] = *kept->expires_at;
  } else {
    out["unlocked_until"] = nullptr;
    out["unlocked_until_unix"] = nullptr;
  }
  if (kept) sodium_memzero(kept->key.data(), kept->key.size());
  return out;
}

Result<nlohmann::ordered_json> BuildStatus(client::Replica& replica, client::Records& records) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["replica"] = replica.path();
  auto protection = ProtectionStatus(replica.path(), true);
  if (!protection) return protection.error();
  out.update(*protection);
  out["node_id"] = replica.node_id();
  for (const schema::Table& t : schema::Tables()) {
    auto n = records.Count(t);
    if (!n) return n.error();
    out[std::string(t.name)] = *n;
  }
  client::ReferralFilter overdue;
  overdue.overdue_only = true;
  auto late = client::ListReferrals(records, overdue);
  if (!late) return late.error();
  out["referrals_overdue"] = late->size();
  auto pending = records.PendingTotal();
  if (!pending) return pending.error();
  out["pending"] = pending->pending;
  auto pending_records = records.PendingRecords();
  if (!pending_records) return pending_records.error();
  out["pending_records"] = *pending_records;
  out["rejected"] = pending->rejected;
  auto reads = client::PendingAccessCount(replica);
  if (!reads) return reads.error();
  out["access_log_pending"] = *reads;
  // Retention on the device (client/purge.h): what the next sync purges, and what it purged.
  auto due = client::PurgeDue(replica);
  if (!due) return due.error();
  out["purge_due"] = *due;
  auto purged = replica.db().Prepare("SELECT count(*) FROM purged_records WHERE tbl = 'cases'");
  if (!purged) return purged.error();
  auto counted = purged->Step();
  if (!counted) return counted.error();
  out["purged_cases"] = *counted ? purged->Int(0) : 0;
  auto days = client::DeviceRetentionDays(replica);
  if (!days) return days.error();
  out["device_retention_days"] = *days ? nlohmann::ordered_json(**days) : nlohmann::ordered_json(nullptr);
  // What the centre refused, kept on the device until someone acts on it.
  nlohmann::ordered_json rejections = nlohmann::ordered_json::array();
  auto refused = replica.db().Prepare(
      "SELECT change_id, tbl, record_id, op, coalesce(reject_reason, '') FROM outbox WHERE state = 'rejected' ORDER BY "
      "seq");
  if (!refused) return refused.error();
  while (true) {
    auto row = refused->Step();
    if (!row) return row.error();
    if (!*row) break;
    rejections.push_back({{"change", refused->Text(0)},
                          {"table", refused->Text(1)},
                          {"record", refused->Text(2)},
                          {"op", refused->Text(3)},
                          {"reason", refused->Text(4)}});
  }
  out["rejections"] = std::move(rejections);
  auto last_sync = replica.GetState("last_sync_at");
  if (!last_sync) return last_sync.error();
  out["last_sync"] = OrNull(*last_sync);
  auto server = replica.GetState("server_url");
  if (!server) return server.error();
  out["server"] = OrNull(*server);
  auto insecure_http = replica.GetState(client::kStateInsecureHttp);
  if (!insecure_http) return insecure_http.error();
  out["insecure_http"] = *insecure_http == "1";
  auto ca_file = replica.GetState("ca_file");
  if (!ca_file) return ca_file.error();
  if (ca_file->has_value() && !(*ca_file)->empty()) out["ca_file"] = **ca_file;
  auto skew = KnownClockSkew(replica);
  if (!skew) return skew.error();
  out["clock_skew_ms"] = *skew ? nlohmann::ordered_json(**skew) : nlohmann::ordered_json(nullptr);
  return out;
}

void RegisterStatusCommand(CLI::App& app, Context& ctx) {
  CLI::App* status =
      app.add_subcommand("status", "État de la base locale : nombre de fiches, modifications à synchroniser");
  status->callback([&ctx] { ctx.Finish(ShowStatus(ctx)); });
}

}  // namespace relais::cli
