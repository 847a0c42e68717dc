#include "sync/centre_answer.h"

#include <nlohmann/json.hpp>

namespace relais::sync {

std::optional<std::string> NotRelaisAnswer(std::string_view body, std::string_view member) {
  size_t start = 0;
  while (start < body.size() &&
         (body[start] == ' ' || body[start] == '\n' || body[start] == '\r' || body[start] == '\t'))
    ++start;
  if (start == body.size()) return "une réponse vide";
  if (body[start] == '<') return "une page HTML";
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) return "un texte qui n'est pas du JSON";
  if (!doc.is_object() || !doc.contains(std::string(member))) return "un document JSON d'une autre forme";
  return std::nullopt;
}

std::optional<std::string> RedirectAnswer(int status, std::string_view location) {
  if (status < 300 || status > 399) return std::nullopt;
  // scheme://[user@]host[:port] of an absolute target; a relative one stays on the same server.
  std::string target = "une autre page de la même adresse";
  if (const size_t scheme_end = location.find("://"); scheme_end != std::string_view::npos) {
    std::string_view authority = location.substr(scheme_end + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    target = std::string(location.substr(0, scheme_end)) + "://" + std::string(authority);
  } else if (location.empty()) {
    target = "une adresse qu'elle ne donne pas";
  }
  return "une redirection vers " + target +
         ", que Relais ne suit pas (le jeton de l'appareil ne part qu'à l'adresse donnée à relais init)";
}

}  // namespace relais::sync
