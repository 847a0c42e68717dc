// Whether an answer comes from a Relais centre at all: an address that leads to a web site, a
// captive portal or another service answers HTML, or JSON of another shape, and the counsellor must
// be told to check the address rather than to update Relais. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relais::sync {

// nullopt when `body` is a JSON object that holds `member` (the message a centre sends there: "error"
// for a refusal, "device" for whoami, "protocol" for a pull page); otherwise what came instead, in
// French for people: "une page HTML", "une réponse vide", "un texte qui n'est pas du JSON", "un
// document JSON d'une autre forme".
std::optional<std::string> NotRelaisAnswer(std::string_view body, std::string_view member);

// nullopt unless `status` is a redirection (3xx); then what came instead, in French for people,
// naming where it points as scheme, host and port only (never a path or a query): "une redirection
// vers https://autre.exemple.fr, que Relais ne suit pas …". `location` is the answer's Location
// header, empty when absent. Relais follows no redirection: the token goes to the address given to
// `relais init` and to no other.
std::optional<std::string> RedirectAnswer(int status, std::string_view location);

}  // namespace relais::sync
