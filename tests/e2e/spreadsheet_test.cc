// A partner table saved by a French spreadsheet (semicolons, Windows-1252, French headings, phone
// numbers without their leading 0) imported by the built `relais` and synced to a real centre, on
// SQLite and, as test_e2e_pg, on PostgreSQL (issue 29, "The partners' own spreadsheets").
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Writes `bytes` as they are (no conversion) to `name` in `dir`; returns its path.
std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& bytes) {
  std::string path = dir / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// LibreOffice's "CSV" on a French system: ; separators, CRLF, Windows-1252 (é = E9, è = E8,
// ç = E7, É = C9), and a phone column read as numbers, so without its leading 0.
const std::string kHeading1252 = "Organisme;Nom;Pr\xe9nom;T\xe9l\xe9phone;Courriel;Commune";
const std::string kRows1252 =
    "Mission locale du Brian\xe7onnais;Lef\xe8vre;\xc9lodie;612345678;e.lefevre@ml05.fr;Brian\xe7on\r\n"
    "\"Cap emploi; antenne de Gap\";Roux;L\xe9\x61;04 92 00 00 00;;Gap\r\n";

}  // namespace

TEST_CASE("a French spreadsheet's partner table imports as it was saved and reaches the centre", "[e2e][sheets]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device laptop(dir, "laptop");
  laptop.Init(central, central.Enrol("pae-gap", {"hautes-alpes-gap"}));

  // An extra column the aliases do not know: refused, saying what was read and what to do, and
  // nothing changes.
  const std::string with_extra = WriteFile(
      dir, "partenaires-2.csv", kHeading1252 + ";Permanence\r\n" + "Mission locale;Martin;Zo\xe9;;;Embrun;mardi\r\n");
  const std::string before = laptop.ContentHash();
  RunResult refused = laptop.Cmd({"import", with_extra});
  CHECK(refused.exit_code == 3);
  CHECK(Contains(refused.err, "ligne 1 : colonne inconnue « Permanence » pour contacts"));
  CHECK(Contains(refused.err, "séparateur « ; », encodage Windows-1252"));
  CHECK(Contains(refused.err, "--map \"Permanence=champ\""));
  CHECK(laptop.ContentHash() == before);

  // The whole table, read for people: how it was read, and a warning for the restored 0.
  RunResult read = laptop.Cmd({"import", WriteFile(dir, "partenaires.csv", kHeading1252 + "\r\n" + kRows1252)});
  INFO(read.err);
  REQUIRE(read.exit_code == 0);
  CHECK(Contains(read.out, "Importé : 2 contact(s)"));
  CHECK(Contains(read.out,
                 "Lu avec le séparateur « ; », en Windows-1252 ; colonnes : « Organisme » → organisation, "
                 "« Nom » → last_name, « Prénom » → first_name"));
  CHECK(read.err ==
        "attention : ligne 2 : phone: « 612345678 » lu comme « 0612345678 » (le 0 initial, effacé par le tableur, est "
        "rétabli)\n");

  // The extra column ignored on request, for scripts.
  json mapped = laptop.Json({"import", with_extra, "--map", "Permanence="});
  CHECK(mapped["kind"] == "contacts");
  CHECK(mapped["separator"] == ";");
  CHECK(mapped["encoding"] == "windows-1252");
  CHECK(mapped["columns"]["Téléphone"] == "phone");
  CHECK(mapped["warnings"].empty());

  const json synced = laptop.Sync();
  CHECK(synced["pushed"] == 3);
  CHECK(central.Count("SELECT count(*) FROM contacts") == 3);
  CHECK(central.Rows("SELECT organisation || '|' || first_name || '|' || phone || '|' || commune FROM contacts "
                     "WHERE last_name = 'Lefèvre'") ==
        std::vector<std::string>{"Mission locale du Briançonnais|Élodie|0612345678|Briançon"});
  CHECK(central.Rows("SELECT organisation FROM contacts WHERE last_name = 'Roux'") ==
        std::vector<std::string>{"Cap emploi; antenne de Gap"});
}
