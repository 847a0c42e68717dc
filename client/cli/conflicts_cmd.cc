// relais conflicts: what central staff must settle about this replica's records (and, with --all,
// what they settled), as the centre's notices told it at the last sync.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/cli/conflict_text.h"
#include "client/cli/output.h"
#include "client/replica_port.h"

namespace relais::cli {

namespace {

using nlohmann::ordered_json;

ordered_json TextOrNull(const std::string& text) { return text.empty() ? ordered_json(nullptr) : ordered_json(text); }
ordered_json ValueOrNull(const schema::Value& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }

const schema::Field* FieldOf(const sync::ConflictNotice& n) {
  const schema::Table* t = schema::FindTable(n.table);
  return t ? t->FindField(n.field) : nullptr;
}

std::string State(const sync::ConflictNotice& n) {
  if (n.status == "open") return "en attente";
  if (n.settlement == "server") return "arbitré : valeur du centre gardée";
  if (n.settlement == "device") return "arbitré : valeur de l'appareil retenue";
  if (n.settlement == "value") return "arbitré : valeur fixée « " + DisplayValue(FieldOf(n), n.settled_value) + " »";
  if (n.settlement == "merged") return "arbitré : fusionné";
  if (n.settlement == "dismissed") return "arbitré : deux personnes différentes";
  return "arbitré";
}

Status ListConflicts(Context& ctx, bool all) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto records = ctx.Records();
  if (!records) return records.error();
  auto me = (*replica)->GetState(client::kStateDeviceName);
  if (!me) return me.error();
  const std::string device_name = me->value_or("");
  client::ConflictQuery query;
  query.settled_too = all;
  auto notices = client::StoredConflicts(**replica, query);
  if (!notices) return notices.error();

  if (ctx.json) {
    ordered_json out = ordered_json::array();
    for (const sync::ConflictNotice& n : *notices) {
      auto name = CaseName(**records, n.record_id);
      if (!name) return name.error();
      out.push_back({{"id", n.id},
                     {"kind", n.kind},
                     {"status", n.status},
                     {"table", n.table},
                     {"record", n.record_id},
                     {"record_name", TextOrNull(*name)},
                     {"field", TextOrNull(n.field)},
                     {"other", TextOrNull(n.other_id)},
                     {"server_value", ValueOrNull(n.server_value)},
                     {"server_device", TextOrNull(n.server_device)},
                     {"device_value", ValueOrNull(n.device_value)},
                     {"device", TextOrNull(n.device)},
                     {"mine", !device_name.empty() && n.device == device_name},
                     {"settled_value", ValueOrNull(n.settled_value)},
                     {"settlement", TextOrNull(n.settlement)}});
    }
    std::cout << out.dump(2) << "\n";
    return OkStatus();
  }
  if (notices->empty()) {
    std::cout << (all ? "Aucun conflit connu sur cette base.\n"
                      : "Aucun conflit en attente d'arbitrage sur cette base.\n");
    return OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const sync::ConflictNotice& n : *notices) {
    auto dossier = CaseLabel(**records, n.record_id);
    if (!dossier) return dossier.error();
    bool mine = !device_name.empty() && n.device == device_name;
    std::string device = n.device.empty() ? "" : mine ? "vous (" + n.device + ")" : n.device;
    if (n.kind == "duplicate") {
      auto other = CaseLabel(**records, n.other_id);
      if (!other) return other.error();
      // An unnamed other case: one the centre holds outside this device's territories.
      rows.push_back({std::to_string(n.id), *dossier, "doublon possible",
                      n.other_id.empty() ? "(vérifié par le centre)" : *other + " (" + n.other_id + ")",
                      "nouveau dossier " + n.record_id, device, State(n)});
      continue;
    }
    std::string server = "« " + DisplayValue(FieldOf(n), n.server_value) + " »";
    if (!n.server_device.empty()) server += " (" + n.server_device + ")";
    rows.push_back({std::to_string(n.id), *dossier, FieldWord(n.table, n.field), server,
                    "« " + DisplayValue(FieldOf(n), n.device_value) + " »", device, State(n)});
  }
  std::cout << FormatTable(
      {"N°", "Dossier", "Champ", "Valeur du centre", "Votre valeur / autre appareil", "Appareil", "État"}, rows);
  size_t open = 0;
  for (const sync::ConflictNotice& n : *notices) open += n.status == "open" ? 1 : 0;
  std::cout << open << " conflit(s) en attente d'arbitrage par le centre";
  if (all) std::cout << ", " << notices->size() - open << " arbitré(s)";
  std::cout
      << ". Les valeurs en attente ne sont pas perdues : le centre choisit, la synchronisation suivante l'apporte.\n";
  return OkStatus();
}

}  // namespace

void RegisterConflictCommands(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("conflicts",
                                     "Conflits en attente d'arbitrage par le centre sur les dossiers de cette base "
                                     "(état à la dernière synchronisation)");
  auto all = std::make_shared<bool>(false);
  cmd->add_flag("--all", *all, "Aussi les conflits déjà arbitrés, avec la valeur retenue");
  cmd->callback([&ctx, all] { ctx.Finish(ListConflicts(ctx, *all)); });
}

}  // namespace relais::cli
