// Rectification of follow-ups (issue 27): `relais followup correct|withdraw` through the real
// binaries, written on one laptop and synced to another of the territory through a real
// `relais-central`, on SQLite and, as test_e2e_pg, on PostgreSQL. A corrected or withdrawn entry no
// longer shows anywhere; it stays in the store, for staff, and in `followup list --all`.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

std::vector<std::string> Texts(const json& entries) {
  std::vector<std::string> texts;
  for (const json& e : entries) texts.push_back(e["text"]);
  std::sort(texts.begin(), texts.end());
  return texts;
}

}  // namespace

TEST_CASE("a corrected or withdrawn follow-up entry shows nowhere, on either laptop, and stays for staff",
          "[e2e][rectification]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), b(dir, "b");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  const std::string person = a.AddCase("Garnier", "Loïc", kGap);
  const std::string wrong =
      a.Json({"followup", "add", person, "--kind", "entretien", "--date", "2026-12-01", "--text", "Texte erroné"})["id"];
  const std::string misplaced =
      a.Json({"followup", "add", person, "--kind", "accueil", "--text", "Entretien d'une autre personne"})["id"];
  a.Sync();
  b.Sync();
  REQUIRE(b.Json({"followup", "list", person}).size() == 2);

  const json corrected =
      a.Json({"followup", "correct", wrong, "--text", "Texte juste", "--reason", "faute de frappe"});
  CHECK(corrected["amends"] == wrong);
  CHECK(corrected["amendment"] == "correction");
  CHECK(corrected["date"] == "2026-12-01");  // in the place of the entry it corrects
  CHECK(corrected["kind"] == "entretien");
  const json withdrawn = a.Json({"followup", "withdraw", misplaced, "--reason", "écrite sur le mauvais dossier"});
  CHECK(withdrawn["amendment"] == "retrait");

  SECTION("refusals change nothing") {
    const std::string before = a.ContentHash();
    struct Refusal {
      std::vector<std::string> args;
      int exit_code;
      std::string says;
    };
    const std::vector<Refusal> refusals = {
        {{"followup", "correct", wrong, "--text", "Encore"}, 3, "a déjà été corrigée par l'entrée " +
                                                                   corrected["id"].get<std::string>()},
        {{"followup", "withdraw", misplaced, "--reason", "deux fois"}, 3, "a déjà été retirée"},
        {{"followup", "correct", withdrawn["id"], "--text", "x"}, 3, "est un retrait"},
        {{"followup", "withdraw", wrong}, 2, "--reason"},
        {{"followup", "correct", "0190a1b2-0000-7000-8000-00000000dead", "--text", "x"}, 4, "aucune entrée de suivi"},
    };
    for (const Refusal& r : refusals) {
      RunResult run = a.Cmd(r.args);
      INFO(r.args[1] << " " << r.args[2] << ": " << run.err);
      CHECK(run.exit_code == r.exit_code);
      CHECK_THAT(run.err, Catch::Contains(r.says));
    }
    CHECK(a.ContentHash() == before);
  }

  a.Sync();
  b.Sync();
  for (const Device* d : {&a, &b}) {
    INFO(d->db());
    CHECK(Texts(d->Json({"followup", "list", person})) == std::vector<std::string>{"Texte juste"});
    CHECK(Texts(d->Show(person)["followups"]) == std::vector<std::string>{"Texte juste"});
    CHECK(d->Json({"followup", "list", person, "--all"}).size() == 4);
  }
  // The centre keeps every entry, the originals included.
  CHECK(central.Count("SELECT count(*) FROM followups WHERE case_id = '" + person + "'") == 4);
  CHECK(central.Count("SELECT count(*) FROM followups WHERE amends = '" + wrong + "' AND amendment = 'correction'") ==
        1);
}
