// The staff API's side of the RGPD (issue 27): POST /v1/persons/{id}/erase erases as the command
// does, for a staff token only and with a reason; the staff API's reads are in the access log.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

std::string EnrolStaff(const Central& central) {
  std::vector<std::string> args = {CentralBinary(), "device", "add", "--name", "accueil-central", "--staff",
                                   "--territory", kGap, "--json"};
  for (const std::string& a : central.StoreArgs()) args.push_back(a);
  RunResult r = Run(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out)["token"].get<std::string>();
}

}  // namespace

TEST_CASE("the staff API erases a person with a staff token and a reason, and logs its reads",
          "[e2e][rgpd][erasure]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  const std::string device_token = central.Enrol("a", {kGap});
  a.Init(central, device_token);
  const std::string staff_token = EnrolStaff(central);
  const std::string person = a.AddCase("Quenardelle", "Ombeline", kGap);
  a.Json({"followup", "add", person, "--kind", "entretien", "--text", "Entretien d'Ombeline"});
  a.Sync();

  httplib::Client client(central.url());
  auto headers = [](const std::string& token) {
    return httplib::Headers{{"Authorization", "Bearer " + token}, {"Relais-Protocol", "1"}};
  };
  auto history = client.Get("/v1/history/" + person, headers(staff_token));
  REQUIRE(history);
  CHECK(history->status == 200);
  CHECK(central.Count("SELECT count(*) FROM access_log WHERE case_id = '" + person +
                      "' AND action = 'historique' AND reader = 'accueil-central'") == 1);

  const std::string path = "/v1/persons/" + person + "/erase";
  const std::string before = central.Rows("SELECT id, version FROM cases ORDER BY id").at(0);
  auto by_device = client.Post(path, headers(device_token), R"({"reason": "demande"})", "application/json");
  REQUIRE(by_device);
  CHECK(by_device->status == 403);
  auto no_reason = client.Post(path, headers(staff_token), R"({"reason": "  "})", "application/json");
  REQUIRE(no_reason);
  CHECK(no_reason->status == 400);
  CHECK_THAT(no_reason->body, Catch::Contains("reason"));
  CHECK(central.Rows("SELECT id, version FROM cases ORDER BY id").at(0) == before);
  CHECK(central.Count("SELECT count(*) FROM erasures") == 0);

  auto erased = client.Post(path, headers(staff_token), R"({"reason": "demande n° 2026-118"})", "application/json");
  REQUIRE(erased);
  INFO(erased->body);
  REQUIRE(erased->status == 200);
  const json receipt = json::parse(erased->body);
  CHECK(receipt["case"] == person);
  CHECK(receipt["records"] == 2);
  CHECK(receipt["by"] == "accueil-central");
  CHECK(central.Count("SELECT count(*) FROM cases") == 0);
  for (const std::string& row : central.Rows("SELECT snapshot FROM history")) {
    CHECK(row.find("Quenardelle") == std::string::npos);
  }
  auto again = client.Post(path, headers(staff_token), R"({"reason": "demande n° 2026-118"})", "application/json");
  REQUIRE(again);
  CHECK(again->status != 200);
  CHECK(a.Sync()["erased_cases"] == 1);
}
