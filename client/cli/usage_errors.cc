#include "client/cli/usage_errors.h"

#include <regex>
#include <utility>
#include <vector>

namespace relais::cli {

std::string FrenchUsageError(const std::string& message) {
  // CLI11's templates (CLI/Error.hpp, CLI/Validators.hpp), most specific first; $1… are its names
  // and values, kept as they were typed.
  static const std::vector<std::pair<std::regex, const char*>> kForms = [] {
    std::vector<std::pair<std::regex, const char*>> forms;
    auto add = [&](const char* pattern, const char* french) { forms.emplace_back(std::regex(pattern), french); };
    add("^A subcommand is required$", "commande manquante ou inconnue");
    add("^Requires at least 1 subcommands$", "commande manquante ou inconnue");
    add("^The following arguments? (?:was|were) not expected: (.*)$", "argument inattendu : $1");
    add("^(\\S+): \\d+ required \\S+ missing$", "$1 : il manque sa valeur");
    add("^(\\S+): Value (.*) not in range (.*) to (.*)$", "$1 : $2 n'est pas entre $3 et $4");
    add("^(\\S+): (.*) not in \\{(.*)\\}$", "$1 : « $2 » n'est pas une valeur possible ($3)");
    add("^Could not convert: (\\S+) = (.*)$", "$1 : « $2 » n'est pas une valeur possible");
    add("^The value (.*) is not an allowed value for (.*)$", "$2 : « $1 » n'est pas une valeur possible");
    add("^(\\S+): At Most (\\d+) required but received (\\d+)$", "$1 : au plus $2 valeur(s), $3 données");
    add("^(\\S+): At least (\\d+) required but received (\\d+)$", "$1 : au moins $2 valeur(s), $3 données");
    add("^Expected exactly (\\d+) arguments to (\\S+), got (\\d+)$", "$2 : $1 valeur(s) attendue(s), $3 données");
    add("^(\\S+) requires (\\S+)$", "$1 ne va pas sans $2");
    add("^(\\S+) excludes (\\S+)$", "$1 et $2 ne vont pas ensemble");
    add("^(.+) is required$", "$1 est obligatoire");
    return forms;
  }();
  for (const auto& [form, french] : kForms) {
    if (std::regex_match(message, form)) return std::regex_replace(message, form, french);
  }
  return message;
}

}  // namespace relais::cli
