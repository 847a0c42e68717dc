// The right of access (issue 27): `relais-central person export CASE_ID [--format json|html]`
// through the real binaries, after a laptop's syncs, on SQLite and, as test_e2e_pg, on PostgreSQL.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

RunResult Export(const Central& central, std::vector<std::string> args) {
  std::vector<std::string> argv = {CentralBinary(), "person", "export"};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const std::string& a : central.StoreArgs()) argv.push_back(a);
  return Run(argv);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("person export gives everything the centre holds about a person, as JSON or a French page",
          "[e2e][rgpd]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  const std::string person = a.AddCase("Delorme", "Maëlle", kGap);
  const std::string other = a.AddCase("Vial", "Hugo", kGap);
  a.Sync();
  REQUIRE(a.Cmd({"case", "edit", person, "--phone", "0611223344"}).exit_code == 0);
  a.Sync();
  REQUIRE(a.Cmd({"case", "edit", person, "--notes", "Cherche <b>un poste</b> & une formation"}).exit_code == 0);
  const std::string entry =
      a.Json({"followup", "add", person, "--kind", "entretien", "--text", "Premier entretien"})["id"];
  a.Json({"followup", "correct", entry, "--text", "Premier entretien, bilan fait"});
  a.Json({"followup", "add", other, "--kind", "accueil", "--text", "Une autre personne"});
  a.Sync();

  RunResult as_json = Export(central, {person});
  INFO(as_json.err);
  REQUIRE(as_json.exit_code == 0);
  const json file = json::parse(as_json.out);
  CHECK(file["case_id"] == person);
  CHECK(file["case"]["first_name"] == "Maëlle");
  CHECK(file["case"]["phone"] == "0611223344");
  CHECK(file["versions"].size() == 3);
  std::vector<std::string> texts;
  for (const json& f : file["related"]["followups"]) texts.push_back(f["values"]["text"]);
  std::sort(texts.begin(), texts.end());
  CHECK(texts == std::vector<std::string>{"Premier entretien", "Premier entretien, bilan fait"});  // no one else's

  const std::string page = (dir.path() / "maelle.html").string();
  RunResult as_html = Export(central, {person, "--format", "html", "--output", page});
  INFO(as_html.err);
  REQUIRE(as_html.exit_code == 0);
  CHECK_THAT(as_html.err, Catch::Contains("Fichier écrit") && Catch::Contains("3 version(s)"));
  struct stat st {};
  REQUIRE(::stat(page.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const std::string html = Slurp(page);
  CHECK_THAT(html, Catch::Contains("Données détenues sur Maëlle Delorme") &&
                       Catch::Contains("Cherche &lt;b&gt;un poste&lt;/b&gt; &amp; une formation") &&
                       Catch::Contains("Premier entretien, bilan fait") && Catch::Contains("Toutes ses versions (3)") &&
                       !Catch::Contains("Une autre personne") && !Catch::Contains("<b>un poste"));

  RunResult unknown = Export(central, {"0190a1b2-0000-7000-8000-00000000dead"});
  CHECK(unknown.exit_code == 4);
  CHECK_THAT(unknown.err, Catch::Contains("n'a jamais tenu de dossier"));
}
