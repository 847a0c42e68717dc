#include "schema/display.h"

#include <string_view>
#include <utility>

namespace relais::schema {

std::string DisplayValue(const Field* field, const Value& value) {
  if (!value) return "(vide)";
  if (field && field->type == FieldType::kEnum) {
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
        {"numerique", "numérique"}};
    for (const auto& [code, words] : kWords) {
      if (*value == code) return std::string(words);
    }
  }
  return *value;
}

}  // namespace relais::schema
