#include "schema/display.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace relais::schema {

namespace {

// The French words of a code, or the code itself.
std::string_view Words(std::string_view code) {
  static const std::pair<std::string_view, std::string_view> kWords[] = {
      {"demandeur_emploi", "demandeur d'emploi"},
      {"salarie", "salarié"},
      {"retraite", "retraité"},
      {"etudiant", "étudiant"},
      {"independant", "indépendant"},
      {"sans_activite", "sans activité"},
      {"tourisme_hotellerie", "tourisme, hôtellerie"},
      {"services_personne", "services à la personne"},
      {"sante_social", "santé, social"},
      {"numerique", "numérique"},
      // The register of visits.
      {"telephone", "téléphone"},
      {"rendez_vous", "rendez-vous"},
      {"creation_activite", "création d'activité"},
      {"droits_demarches", "droits et démarches"},
      {"mobilite", "mobilité"},
      {"sante", "santé"},
      // Referrals to partners.
      {"bilan_competences", "bilan de compétences"},
      {"business_plan", "plan d'affaires"},
      {"prefaisabilite", "préfaisabilité"},
      {"etude_marche", "étude de marché"},
      {"envoyee", "envoyée"},
      {"acceptee", "acceptée"},
      {"refusee", "refusée"},
      {"realisee", "réalisée"},
      {"abandonnee", "abandonnée"}};
  for (const auto& [known, words] : kWords) {
    if (code == known) return words;
  }
  return code;
}

}  // namespace

std::string DisplayValue(const Field* field, const Value& value) {
  if (!value) return "(vide)";
  if (field && field->type == FieldType::kEnum) return std::string(Words(*value));
  if (field && field->type == FieldType::kCodeList) {
    std::string out;
    for (size_t at = 0; at <= value->size();) {
      const size_t comma = std::min(value->find(',', at), value->size());
      out += (out.empty() ? "" : ", ") + std::string(Words(std::string_view(*value).substr(at, comma - at)));
      at = comma + 1;
    }
    return out;
  }
  return *value;
}

}  // namespace relais::schema
