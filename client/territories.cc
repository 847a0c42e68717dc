#include "client/territories.h"

#include <nlohmann/json.hpp>

#include "client/replica_port.h"

namespace relais::client {

namespace {

using nlohmann::json;

Result<std::vector<DeclaredTerritory>> Parse(const json& list) {
  const Error malformed =
      MakeError(ErrorCode::kProtocol, "la liste des territoires envoyée par le centre n'est pas comprise");
  if (!list.is_array()) return malformed;
  std::vector<DeclaredTerritory> out;
  for (const json& t : list) {
    if (!t.is_object() || !t.contains("code") || !t["code"].is_string()) return malformed;
    DeclaredTerritory d;
    d.code = t["code"].get<std::string>();
    d.label = t.contains("label") && t["label"].is_string() ? t["label"].get<std::string>() : d.code;
    if (t.contains("reception_points") && t["reception_points"].is_array()) {
      for (const json& p : t["reception_points"]) {
        if (p.is_string()) d.reception_points.push_back(p.get<std::string>());
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

Status KeepDeclaredTerritories(Replica& replica, const std::string& whoami_body) {
  json who = json::parse(whoami_body, nullptr, false);
  if (!who.is_object() || !who.contains("declared_territories")) return OkStatus();
  const json& list = who["declared_territories"];
  auto parsed = Parse(list);
  if (!parsed) return parsed.error();
  return replica.SetState(kStateDeclaredTerritories, list.dump());
}

Result<std::optional<std::vector<DeclaredTerritory>>> DeclaredTerritories(Replica& replica) {
  auto text = replica.GetState(kStateDeclaredTerritories);
  if (!text) return text.error();
  if (!*text) return std::optional<std::vector<DeclaredTerritory>>();
  auto parsed = Parse(json::parse(**text, nullptr, false));
  if (!parsed) return parsed.error();
  return std::optional<std::vector<DeclaredTerritory>>(std::move(*parsed));
}

Result<std::optional<std::vector<std::string>>> DeviceTerritories(Replica& replica) {
  auto text = replica.GetState(kStateTerritories);
  if (!text) return text.error();
  if (!*text) return std::optional<std::vector<std::string>>();
  std::vector<std::string> mine;
  for (const json& t : json::parse(**text, nullptr, false)) {
    if (t.is_string()) mine.push_back(t.get<std::string>());
  }
  return std::optional(std::move(mine));
}

Status CheckDeclaredTerritory(Replica& replica, const schema::Value& given) {
  const schema::Field* field = schema::CasesTable().FindField("territory");
  const schema::Value territory = field ? schema::Normalize(*field, given) : given;
  if (!territory) return OkStatus();
  auto declared = DeclaredTerritories(replica);
  if (!declared) return declared.error();
  if (!*declared) return OkStatus();
  std::string choices;
  for (const DeclaredTerritory& t : **declared) {
    if (t.code == *territory) return OkStatus();
    choices += (choices.empty() ? "" : ", ") + t.code + (t.label == t.code ? "" : " (" + t.label + ")");
  }
  return MakeError(ErrorCode::kValidation, "territory: « " + *territory +
                                               " » n'est pas un territoire déclaré par le centre (territoires : " +
                                               (choices.empty() ? "aucun" : choices) + ")");
}

Status CheckDeclaredReceptionPoint(Replica& replica, const schema::Value& given, const schema::Value& territory) {
  const schema::Field* field = schema::CasesTable().FindField("reception_point");
  const schema::Value point = field ? schema::Normalize(*field, given) : given;
  if (!point || point->empty() || !territory) return OkStatus();
  auto declared = DeclaredPoints::Load(replica);
  if (!declared) return declared.error();
  return declared->Check(point, territory);
}

Result<DeclaredPoints> DeclaredPoints::Load(Replica& replica) {
  auto declared = DeclaredTerritories(replica);
  if (!declared) return declared.error();
  DeclaredPoints points;
  points.declared_ = std::move(*declared);
  return points;
}

Status DeclaredPoints::Check(const schema::Value& point, const schema::Value& territory) const {
  if (!point || point->empty() || !territory || !declared_) return OkStatus();
  for (const DeclaredTerritory& t : *declared_) {
    if (t.code != *territory || t.reception_points.empty()) continue;
    std::string choices;
    for (const std::string& p : t.reception_points) {
      if (p == *point) return OkStatus();
      choices += (choices.empty() ? "« " : ", « ") + p + " »";
    }
    return MakeError(ErrorCode::kValidation, "reception_point: « " + *point +
                                                 " » n'est pas un point d'accueil déclaré pour le territoire " +
                                                 *territory + " (points d'accueil : " + choices +
                                                 ") ; choisissez-en un, ou videz le champ (--clear reception_point)");
  }
  return OkStatus();
}

}  // namespace relais::client
