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

}  // namespace relais::sync
