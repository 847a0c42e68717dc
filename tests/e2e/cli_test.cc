// The `relais` CLI end to end: the built binary, a real replica file in a temp folder.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/run.h"
#include "tests/sqlite_content.h"

using nlohmann::json;
using relais::e2e::Run;
using relais::e2e::RunResult;
using relais::e2e::TempDir;

namespace {

const std::string kRelais = RELAIS_BINARY_DIR "/relais";

// Runs relais on a replica of its own folder: `relais --db DIR/r.db ARGS…`.
class Relais {
 public:
  RunResult operator()(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), {kRelais, "--db", db()});
    return Run(args, {}, stdin_text, dir_.path());
  }
  // The same, expecting success and one JSON document on stdout.
  json Json(std::vector<std::string> args) {
    args.push_back("--json");
    RunResult r = (*this)(args);
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }
  std::string AddCase(const std::string& last = "Lefèvre", const std::string& first = "Élodie",
                      const std::string& commune = "Briançon") {
    return Json({"case", "add", "--last-name", last, "--first-name", first, "--commune", commune})["id"];
  }
  std::string db() const { return dir_ / "r.db"; }
  // SHA-256 of every row of every table of the replica: what a refused command leaves as it was.
  std::string ContentHash() const { return relais::testing::SqliteContentHash(db()); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
};

}  // namespace

TEST_CASE("case add prints the new case, opened today", "[cli]") {
  Relais relais;
  RunResult r = relais({"case", "add", "--last-name", "Lefèvre", "--first-name", "Élodie", "--postcode", "05100",
                        "--commune", "Briançon", "--phone", "06 12 34 56 78", "--status", "demandeur_emploi",
                        "--service-level", "2", "--birth-date", "1990-05-04"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Élodie") != std::string::npos);
  CHECK(r.out.find("0612345678") != std::string::npos);
  // People read an enumeration's wording, scripts its code.
  CHECK(r.out.find("demandeur d'emploi") != std::string::npos);
  CHECK(r.out.find("demandeur_emploi") == std::string::npos);
  CHECK(relais({"case", "list"}).out.find("demandeur d'emploi") != std::string::npos);
  json c = relais.Json({"case", "list"});
  REQUIRE(c.size() == 1);
  CHECK(c[0]["status"] == "demandeur_emploi");
  CHECK(c[0]["service_level"] == 2);
  CHECK(c[0]["opened_on"].get<std::string>().size() == 10);
}

TEST_CASE("--json is accepted before and after the command", "[cli]") {
  Relais relais;
  std::string id = relais.AddCase();
  RunResult before = Run({kRelais, "--json", "--db", relais.db(), "case", "show", id});
  RunResult after = Run({kRelais, "case", "show", id, "--db", relais.db(), "--json"});
  REQUIRE(before.exit_code == 0);
  REQUIRE(after.exit_code == 0);
  CHECK(json::parse(before.out)["id"] == id);
  CHECK(json::parse(after.out)["id"] == id);
}

TEST_CASE("the replica comes from RELAIS_DB when --db is absent", "[cli]") {
  TempDir dir;
  std::string db = dir / "env.db";
  RunResult r =
      Run({kRelais, "case", "add", "--last-name", "Roux", "--first-name", "Léa", "--json"}, {{"RELAIS_DB", db}});
  REQUIRE(r.exit_code == 0);
  RunResult list = Run({kRelais, "--db", db, "case", "list", "--json"});
  CHECK(json::parse(list.out).size() == 1);
}

TEST_CASE("case edit changes the given fields and --clear empties one", "[cli]") {
  Relais relais;
  std::string id = relais.AddCase();
  json edited = relais.Json({"case", "edit", id, "--commune", "Névache", "--email", "e.l@exemple.fr"});
  CHECK(edited["commune"] == "Névache");
  json cleared = relais.Json({"case", "edit", id, "--clear", "email"});
  CHECK(cleared["email"].is_null());
  CHECK(relais.Json({"status"})["pending"] == 3);
}

TEST_CASE("case show lists the follow-up entries newest first and marks pending changes", "[cli]") {
  Relais relais;
  std::string id = relais.AddCase();
  REQUIRE(relais({"followup", "add", id, "--kind", "accueil", "--text", "Premier accueil", "--date", "2026-01-05"})
              .exit_code == 0);
  REQUIRE(relais({"followup", "add", id, "--kind", "entretien", "--text", "Entretien", "--date", "2026-02-01",
                  "--author", "Marie"})
              .exit_code == 0);
  json shown = relais.Json({"case", "show", id});
  CHECK(shown["id"] == id);
  REQUIRE(shown["followups"].size() == 2);
  CHECK(shown["followups"][0]["kind"] == "entretien");
  CHECK(shown["followups"][0]["pending"] == true);
  CHECK(shown["pending_changes"] == 1);
  RunResult human = relais({"case", "show", id});
  CHECK(human.out.find("Suivi (2)") != std::string::npos);
  CHECK(human.out.find("pas encore synchronis") != std::string::npos);
  json listed = relais.Json({"followup", "list", id});
  CHECK(listed.size() == 2);
}

TEST_CASE("case list filters by territory, status and open cases, and respects --limit", "[cli]") {
  Relais relais;
  relais.Json(
      {"case", "add", "--last-name", "A", "--first-name", "A", "--territory", "corse-bastia", "--status", "salarie"});
  std::string gap =
      relais.Json({"case", "add", "--last-name", "B", "--first-name", "B", "--territory", "hautes-alpes-gap"})["id"];
  relais.Json({"case", "close", gap, "--reason", "Déménagement"});
  CHECK(relais.Json({"case", "list", "--territory", "corse-bastia"}).size() == 1);
  CHECK(relais.Json({"case", "list", "--status", "salarie"}).size() == 1);
  CHECK(relais.Json({"case", "list", "--open"}).size() == 1);
  CHECK(relais.Json({"case", "list", "--limit", "1"}).size() == 1);
  CHECK(relais.Json({"case", "list"}).size() == 2);
}

TEST_CASE("case search finds names without accents and by prefix", "[cli]") {
  Relais relais;
  relais.AddCase("Lefèvre", "Élodie", "Briançon");
  relais.AddCase("Martin", "Hugo", "Gap");
  CHECK(relais.Json({"case", "search", "briancon"}).size() == 1);
  CHECK(relais.Json({"case", "search", "elodie"})[0]["first_name"] == "Élodie");
  CHECK(relais.Json({"case", "search", "lef"}).size() == 1);
  CHECK(relais.Json({"case", "search", "hugo", "gap"}).size() == 1);
  CHECK(relais.Json({"case", "search", "zzz"}).empty());
  RunResult human = relais({"case", "search", "lefevre"});
  CHECK(human.out.find("Lefèvre") != std::string::npos);
}

TEST_CASE("closing a case twice is refused with exit code 3 and changes nothing", "[cli]") {
  Relais relais;
  std::string id = relais.AddCase();
  json closed = relais.Json({"case", "close", id, "--reason", "Emploi trouvé", "--date", "2026-03-01"});
  CHECK(closed["closed_on"] == "2026-03-01");
  const std::string before = relais.ContentHash();
  RunResult again = relais({"case", "close", id, "--reason", "Autre", "--date", "2026-04-01"});
  CHECK(again.exit_code == 3);
  CHECK(again.err.find("est déjà clos") != std::string::npos);
  CHECK(again.out.empty());
  CHECK(relais.ContentHash() == before);
  CHECK(relais.Json({"status"})["pending"] == 2);
}

TEST_CASE("a value that fails validation exits 3 naming the field and writes nothing", "[cli]") {
  Relais relais;
  const std::string id = relais.AddCase();
  const std::string before = relais.ContentHash();
  RunResult r = relais({"case", "add", "--last-name", "X", "--first-name", "Y", "--birth-date", "1990-13-45"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("birth_date: « 1990-13-45 » n'est pas une date qui existe") != std::string::npos);
  RunResult f = relais({"followup", "add", id, "--kind", "visite", "--text", "x"});
  CHECK(f.exit_code == 3);
  CHECK(f.err.find("kind: « visite » n'est pas une valeur permise") != std::string::npos);
  RunResult e = relais({"case", "edit", id, "--birth-date", "2026-02-30"});
  CHECK(e.exit_code == 3);
  CHECK(relais.ContentHash() == before);
  json status = relais.Json({"status"});
  CHECK(status["cases"] == 1);
  CHECK(status["followups"] == 0);
}

TEST_CASE("an unknown id exits 4 and changes nothing", "[cli]") {
  Relais relais;
  relais.AddCase();
  const std::string before = relais.ContentHash();
  std::string missing = "0190a1b2-0000-7000-8000-000000000000";
  CHECK(relais({"case", "show", missing}).exit_code == 4);
  CHECK(relais({"case", "edit", missing, "--commune", "Gap"}).exit_code == 4);
  CHECK(relais({"followup", "add", missing, "--kind", "accueil", "--text", "x"}).exit_code == 4);
  CHECK(relais({"contact", "show", missing}).exit_code == 4);
  CHECK(relais({"import", relais.dir() / "absent.csv"}).exit_code == 4);
  CHECK(relais.ContentHash() == before);
}

TEST_CASE("usage errors exit 2 and --help exits 0", "[cli]") {
  Relais relais;
  CHECK(relais({}).exit_code == 2);
  CHECK(relais({"case"}).exit_code == 2);
  CHECK(relais({"case", "frobnicate"}).exit_code == 2);
  CHECK(relais({"case", "add", "--last-name", "X"}).exit_code == 3);  // first_name is required by the schema
  CHECK(relais({"case", "list", "--no-such-option"}).exit_code == 2);
  CHECK(relais({"case", "edit", "0190a1b2-0000-7000-8000-000000000000"}).exit_code == 2);
  CHECK(relais({"export", "--kind", "people"}).exit_code == 2);
  // The command line's own errors read in French, naming what is wrong, and change nothing.
  relais.AddCase();
  const std::string before = relais.ContentHash();
  auto says = [&](const std::vector<std::string>& args, const std::string& expected) {
    RunResult r = relais(args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("erreur : " + expected) != std::string::npos);
  };
  says({"case"}, "commande manquante ou inconnue");
  says({"case", "list", "--no-such-option"}, "argument inattendu : --no-such-option");
  says({"case", "list", "--limit", "-3"}, "--limit : -3 n'est pas entre 0 et 1000000");
  says({"case", "add", "--last-name"}, "--last-name : il manque sa valeur");
  says({"export", "--kind", "people"},
       "--kind : « people » n'est pas une valeur possible (cases,contacts,visits,permanences,appointments,referrals)");
  says({"sync", "--batch", "0"}, "--batch : 0 n'est pas entre 1 et 10000");
  CHECK(relais.ContentHash() == before);
  RunResult help = relais({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("case") != std::string::npos);
  CHECK(relais({"case", "add", "--help"}).exit_code == 0);
}

TEST_CASE("contacts are added, edited, shown, listed and searched", "[cli]") {
  Relais relais;
  json added = relais.Json({"contact", "add", "--organisation", "Mission locale Briançon", "--kind", "jeunes",
                            "--last-name", "Girard", "--first-name", "Noémie", "--role", "conseillère", "--phone",
                            "04 92 00 00 00", "--email", "n.girard@ml.fr", "--commune", "Briançon"});
  std::string id = added["id"];
  CHECK(relais.Json({"contact", "edit", id, "--role", "directrice"})["role"] == "directrice");
  CHECK(relais.Json({"contact", "show", id})["organisation"] == "Mission locale Briançon");
  CHECK(relais.Json({"contact", "list", "--kind", "jeunes"}).size() == 1);
  CHECK(relais.Json({"contact", "search", "noemie"}).size() == 1);
  CHECK(relais.Json({"contact", "search", "mission", "brianc"}).size() == 1);
  CHECK(relais({"contact", "add", "--last-name", "Sans organisme"}).exit_code == 3);
}

TEST_CASE("import takes a whole file or nothing, and export gives it back", "[cli]") {
  Relais relais;
  std::string good = relais.dir() / "cases.csv";
  std::ofstream(good) << "id,last_name,first_name,opened_on,commune\n"
                         "3f2c6c8e-5b1a-4d4e-9a43-8e1b2f6a7c01,Lefèvre,Élodie,2026-01-02,Briançon\n"
                         "3f2c6c8e-5b1a-4d4e-9a43-8e1b2f6a7c02,Roux,Léa,2026-01-03,Gap\n";
  std::string bad = relais.dir() / "bad.csv";
  std::ofstream(bad) << "id,last_name,first_name,opened_on\n"
                        "3f2c6c8e-5b1a-4d4e-9a43-8e1b2f6a7c03,A,B,2026-01-02\n"
                        "3f2c6c8e-5b1a-4d4e-9a43-8e1b2f6a7c04,A,B,2026-13-02\n";
  json imported = relais.Json({"import", good});
  CHECK(imported["imported"] == 2);
  CHECK(imported["kind"] == "cases");
  const std::string before = relais.ContentHash();
  RunResult refused = relais({"import", bad, "--kind", "cases"});
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("ligne 3 : opened_on: « 2026-13-02 »") != std::string::npos);
  CHECK(relais.ContentHash() == before);

  RunResult csv = relais({"export", "--kind", "cases", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("id,last_name,first_name,", 0) == 0);
  RunResult jsonl = relais({"export", "--kind", "cases", "--format", "jsonl"});
  REQUIRE(jsonl.exit_code == 0);
  Relais fresh;
  std::string copy = fresh.dir() / "copy.jsonl";
  std::ofstream(copy) << jsonl.out;
  CHECK(fresh.Json({"import", copy})["imported"] == 2);
  CHECK(fresh({"export", "--kind", "cases", "--format", "csv"}).out == csv.out);
}

TEST_CASE("status counts records and pending changes", "[cli]") {
  Relais relais;
  json empty = relais.Json({"status"});
  CHECK(empty["pending"] == 0);
  CHECK(empty["rejected"] == 0);
  CHECK(empty["cases"] == 0);
  CHECK(empty["last_sync"].is_null());
  CHECK(empty["server"].is_null());
  std::string id = relais.AddCase();
  relais.Json({"followup", "add", id, "--kind", "accueil", "--text", "Accueil"});
  json after = relais.Json({"status"});
  CHECK(after["cases"] == 1);
  CHECK(after["followups"] == 1);
  CHECK(after["pending"] == 2);
  RunResult human = relais({"status"});
  CHECK(human.exit_code == 0);
  CHECK(human.out.find("Dossiers") != std::string::npos);
}

TEST_CASE("human tables align accented names", "[cli]") {
  Relais relais;
  relais.AddCase("Lefèvre", "Élodie", "Briançon");
  relais.AddCase("Martin", "Hugo", "Gap");
  RunResult list = relais({"case", "list"});
  REQUIRE(list.exit_code == 0);
  // Both rows start their commune at the same column, counted in characters.
  auto column_of = [&](const std::string& word) {
    size_t at = list.out.find(word);
    size_t line_start = list.out.rfind('\n', at) + 1;
    std::string prefix = list.out.substr(line_start, at - line_start);
    size_t chars = 0;
    for (unsigned char c : prefix) chars += (c & 0xC0) != 0x80;
    return chars;
  };
  CHECK(column_of("Briançon") == column_of("Gap"));
}
