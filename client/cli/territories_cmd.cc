// relais territories: the territories the centre declared, as the last sync learnt them.
#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/cli/output.h"
#include "client/replica_port.h"
#include "client/territories.h"

namespace relais::cli {

namespace {

Status ShowTerritories(Context& ctx) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto declared = client::DeclaredTerritories(**replica);
  if (!declared) return declared.error();
  auto mine_text = (*replica)->GetState(client::kStateTerritories);
  if (!mine_text) return mine_text.error();
  std::vector<std::string> mine;
  if (*mine_text) {
    nlohmann::json list = nlohmann::json::parse(**mine_text, nullptr, false);
    for (const auto& t : list) {
      if (t.is_string()) mine.push_back(t.get<std::string>());
    }
  }
  auto is_mine = [&](const std::string& code) { return std::find(mine.begin(), mine.end(), code) != mine.end(); };
  if (ctx.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const client::DeclaredTerritory& t : declared->value_or(std::vector<client::DeclaredTerritory>())) {
      out.push_back(
          {{"code", t.code}, {"label", t.label}, {"reception_points", t.reception_points}, {"mine", is_mine(t.code)}});
    }
    std::cout << out.dump(2) << "\n";
    return OkStatus();
  }
  if (!*declared) {
    std::cout << "Cette base ne connaît pas encore les territoires du centre : relais init, puis relais sync.\n";
    return OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const client::DeclaredTerritory& t : **declared) {
    std::string points;
    for (const std::string& p : t.reception_points) points += (points.empty() ? "" : ", ") + p;
    rows.push_back({t.code, t.label, points.empty() ? "-" : points, is_mine(t.code) ? "oui" : ""});
  }
  std::cout << FormatTable({"Code", "Libellé", "Points d'accueil", "Le vôtre"}, rows);
  std::cout << "Un dossier ne peut porter que l'un de ces codes (--territory CODE).\n";
  return OkStatus();
}

}  // namespace

void RegisterTerritoriesCommand(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("territories",
                                     "Les territoires déclarés par le centre (appris à la dernière synchronisation)");
  cmd->callback([&ctx] { ctx.Finish(ShowTerritories(ctx)); });
}

}  // namespace relais::cli
