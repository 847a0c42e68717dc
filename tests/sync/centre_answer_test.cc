// What a device says of an answer that is not a centre's (sync/centre_answer.h): here, redirections.
#include <catch2/catch.hpp>

#include "sync/centre_answer.h"

using relais::sync::RedirectAnswer;

TEST_CASE("a redirection is named by scheme, host and port only, never its path or query", "[centre_answer]") {
  auto [status, location, target] = GENERATE(table<int, std::string, std::string>(
      {{301, "https://autre.exemple.fr/v1/whoami?jeton=x", "https://autre.exemple.fr,"},
       {302, "http://127.0.0.1:9000", "http://127.0.0.1:9000,"},
       {307, "https://user:secret@autre.exemple.fr:8443/x", "https://autre.exemple.fr:8443,"},
       {308, "/connexion?retour=/v1/pull", "une autre page de la même adresse,"},
       {303, "", "une adresse qu'elle ne donne pas,"}}));
  INFO(location);
  const std::optional<std::string> what = RedirectAnswer(status, location);
  REQUIRE(what);
  CHECK_THAT(*what, Catch::StartsWith("une redirection vers " + target) && Catch::Contains("ne suit pas") &&
                        !Catch::Contains("jeton=x") && !Catch::Contains("secret") && !Catch::Contains("retour"));
}

TEST_CASE("an answer that is not a redirection is not one", "[centre_answer]") {
  for (int status : {200, 299, 400, 401, 404, 500}) CHECK_FALSE(RedirectAnswer(status, "https://autre.exemple.fr"));
}
