#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "client/csv.h"
#include "client/export.h"
#include "client/import.h"
#include "schema/header_aliases.h"
#include "tests/client/fixture.h"

using namespace relais;
using namespace relais::client;
using namespace relais::client::testing;

namespace {

const std::string kHeader = "id,last_name,first_name,birth_date,commune,opened_on\n";
std::string Row(const std::string& id, const std::string& birth_date = "1990-05-04") {
  return id + ",Lefèvre,Élodie," + birth_date + ",Briançon,2026-01-02\n";
}
const std::string kId1 = "3f2c6c8e-5b1a-4d4e-9a43-8e1b2f6a7c01";
const std::string kId2 = "3f2c6c8e-5b1a-4d4e-9a43-8e1b2f6a7c02";
const std::string kId3 = "3f2c6c8e-5b1a-4d4e-9a43-8e1b2f6a7c03";

std::string Refusal(TestReplica& t, const std::string& text, const std::string& name = "cases.csv") {
  auto before = t.ContentHash();
  auto imported = ImportText(t.records(), text, name, std::nullopt);
  CHECK(t.ContentHash() == before);
  REQUIRE_FALSE(imported.ok());
  CHECK(imported.error().code == ErrorCode::kValidation);
  return imported.error().message;
}

std::string Export(Replica& replica, const schema::Table& table, FileFormat format) {
  std::ostringstream out;
  auto written = ExportTable(replica, table, format, out);
  REQUIRE(written.ok());
  return out.str();
}

}  // namespace

TEST_CASE("a CSV file imports every row as a pending create, keeping its ids", "[import]") {
  TestReplica t;
  auto imported = ImportText(t.records(), kHeader + Row(kId1) + Row(kId2), "cases.csv", std::nullopt);
  REQUIRE(imported.ok());
  CHECK(imported->records == 2);
  CHECK(imported->table == &schema::CasesTable());
  CHECK(t.Counts() == "2/0/0/0/0");  // the rows are the creates: no outbox entry until a push batch
  CHECK(t.records().PendingTotal()->pending == 2);
  CHECK(t.Text("SELECT id FROM cases ORDER BY id") == kId1);
}

TEST_CASE("a CSV with a byte-order mark, CRLF line ends and quoted fields imports", "[import]") {
  TestReplica t;
  std::string text = "\xEF\xBB\xBFid,last_name,first_name,opened_on,notes\r\n" + kId1 +
                     ",\"Dupont, dit \"\"Jo\"\"\",Jean,2026-01-02,\"deux\r\nlignes\"\r\n" + kId2 +
                     ",Roux,Léa,2026-01-03,\r\n";
  auto imported = ImportText(t.records(), text, "x.csv", std::string("cases"));
  REQUIRE(imported.ok());
  CHECK(imported->records == 2);
  CHECK(t.Text("SELECT last_name FROM cases WHERE id = '" + kId1 + "'") == "Dupont, dit \"Jo\"");
  CHECK(t.Text("SELECT notes FROM cases WHERE id = '" + kId1 + "'") == "deux\r\nlignes");
  CHECK(t.Scalar("SELECT notes IS NULL FROM cases WHERE id = '" + kId2 + "'") == 1);
}

TEST_CASE("an import with a bad date refuses the whole file, naming the line and the field", "[import]") {
  TestReplica t;
  std::string message = Refusal(t, kHeader + Row(kId1) + Row(kId2) + Row(kId3, "1990-13-45"));
  CHECK(message == "ligne 4 : birth_date: « 1990-13-45 » n'est pas une date qui existe (attendu : AAAA-MM-JJ)");
}

TEST_CASE("line numbers count the lines of the file, even inside quoted fields", "[import]") {
  TestReplica t;
  std::string text = "id,last_name,first_name,opened_on,notes\n" + kId1 + ",A,B,2026-01-02,\"une\nnote\nlongue\"\n" +
                     kId2 + ",A,B,2026-02-30,\n";
  CHECK(Refusal(t, text).rfind("ligne 5 : opened_on: « 2026-02-30 »", 0) == 0);
}

TEST_CASE("a CSV file of a header row only is refused, as an empty JSONL file is", "[import]") {
  // Found by tests/fuzz/fuzz_import: "\xEF\xBB\xBForganisation" imported "successfully" with no record.
  TestReplica t;
  CHECK(Refusal(t, "\xEF\xBB\xBForganisation", "contacts.csv") ==
        "contacts.csv ne contient aucune fiche (seulement sa ligne d'en-tête)");
  CHECK(Refusal(t, "last_name,first_name,opened_on\r\n\r\n") ==
        "cases.csv ne contient aucune fiche (seulement sa ligne d'en-tête)");
}

TEST_CASE("an import with an unknown column is refused", "[import]") {
  TestReplica t;
  std::string message = Refusal(t, "id,last_name,first_name,opened_on,shoe_size\n" + kId1 + ",A,B,2026-01-02,42\n");
  CHECK(message.rfind("ligne 1 : colonne inconnue « shoe_size »", 0) == 0);
}

TEST_CASE("an import without a required column is refused", "[import]") {
  TestReplica t;
  CHECK(Refusal(t, "id,last_name,opened_on\n" + kId1 + ",A,2026-01-02\n") ==
        "ligne 1 : il manque la colonne obligatoire first_name (« Prénom » ; si elle porte un autre nom : --map \"Nom "
        "de la colonne=first_name\")");
}

TEST_CASE("an import repeating an id within the file is refused", "[import]") {
  TestReplica t;
  CHECK(Refusal(t, kHeader + Row(kId1) + Row(kId2) + Row(kId1)) ==
        "ligne 4 : id: " + kId1 + " apparaît deux fois dans le fichier (d'abord ligne 2)");
  // In another case, in JSONL, after a blank line and a record without an id.
  std::string upper = kId2;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto line = [](const std::string& id) {
    return "{" + (id.empty() ? std::string() : "\"id\": \"" + id + "\", ") +
           "\"last_name\": \"A\", \"first_name\": \"B\", \"opened_on\": \"2026-01-02\"}\n";
  };
  CHECK(Refusal(t, line("") + line(kId2) + "\n" + line(kId1) + line(upper), "x.jsonl") ==
        "ligne 5 : id: " + kId2 + " apparaît deux fois dans le fichier (d'abord ligne 2)");
}

TEST_CASE("an import of an id the replica already holds is refused and changes nothing", "[import]") {
  TestReplica t;
  REQUIRE(ImportText(t.records(), kHeader + Row(kId2), "a.csv", std::nullopt).ok());
  CHECK(Refusal(t, kHeader + Row(kId1) + Row(kId2)) == "ligne 3 : id: " + kId2 + " existe déjà dans cette base");
}

TEST_CASE("an import with a wrong number of cells is refused", "[import]") {
  TestReplica t;
  CHECK(Refusal(t, kHeader + Row(kId1) + kId2 + ",Roux,Léa\n")
            .rfind("ligne 3 : 3 cellules alors que l'en-tête en a 6", 0) == 0);
}

TEST_CASE("a file mixing UTF-8 and other bytes is refused, naming the line and the byte", "[import][sheets]") {
  TestReplica t;
  // Élodie in UTF-8 on line 2, Lef\xe8vre in Windows-1252 on line 3: neither encoding reads both.
  std::string message = Refusal(t, kHeader + Row(kId1) + kId2 + ",Lef\xe8vre,Elodie,,Brian\xe7on,2026-01-02\n");
  CHECK(message.rfind("ligne 3, octet 41 (0xE8) : n'est pas de l'UTF-8, alors que le fichier en contient (ligne 2, "
                      "octet 41 (0xC3))",
                      0) == 0);
  CHECK(message.find("--encoding utf-8|windows-1252") != std::string::npos);
  // A BOM says UTF-8 as well.
  CHECK(Refusal(t, "\xEF\xBB\xBF" + kHeader + kId2 + ",Lef\xe8vre,Elodie,,Gap,2026-01-02\n")
            .rfind("ligne 2, octet 41 (0xE8) : n'est pas de l'UTF-8", 0) == 0);
  // A byte that Windows-1252 leaves undefined, and a UTF-16 file.
  CHECK(Refusal(t, kHeader + kId2 + ",Lef\x81vre,Elodie,,Gap,2026-01-02\n")
            .rfind("ligne 2, octet 41 (0x81) : cet octet n'est un caractère ni en UTF-8 ni en Windows-1252", 0) == 0);
  CHECK(Refusal(t, std::string("\xFF\xFEi\0d\0", 6)).rfind("ligne 1 : le fichier est en UTF-16", 0) == 0);
}

TEST_CASE("an import with malformed quoting is refused", "[import]") {
  TestReplica t;
  CHECK(Refusal(t, kHeader + kId1 + ",\"Lefèvre,Elodie,,Briançon,2026-01-02\n").rfind("ligne 2 :", 0) == 0);
}

TEST_CASE("JSONL imports with numbers for integer fields and names its lines", "[import]") {
  TestReplica t;
  std::string ok =
      "{\"id\":\"" + kId1 +
      "\",\"last_name\":\"Névache\",\"first_name\":\"Zoé\",\"opened_on\":\"2026-01-02\",\"service_level\":2}\n\n";
  auto imported = ImportText(t.records(), ok, "cases.jsonl", std::nullopt);
  REQUIRE(imported.ok());
  CHECK(imported->format == FileFormat::kJsonl);
  CHECK(t.Scalar("SELECT service_level FROM cases") == 2);

  std::string bad = "{\"id\":\"" + kId2 +
                    "\",\"last_name\":\"A\",\"first_name\":\"B\",\"opened_on\":\"2026-01-02\"}\n\n" + "{\"id\":\"" +
                    kId3 +
                    "\",\"last_name\":\"A\",\"first_name\":\"B\",\"opened_on\":\"2026-01-02\",\"service_level\":4}\n";
  CHECK(Refusal(t, bad, "more.jsonl") == "ligne 3 : service_level: « 4 » est hors des valeurs permises (de 1 à 3)");
  CHECK(Refusal(t, "{\"last_name\": \"A\", \"first_name\": \"B\", \"opened_on\": \"2026-01-02\", \"pet\": \"cat\"}\n",
                "x.jsonl") == "ligne 1 : pet: n'est pas un champ de cases");
  CHECK(Refusal(t, "{\"last_name\": \"A\",\n", "x.jsonl") == "ligne 1 : n'est pas un objet JSON");
}

TEST_CASE("the kind of file is guessed from its columns", "[import]") {
  TestReplica t;
  auto imported = ImportText(t.records(), "organisation,commune\nMission locale,Gap\n", "annuaire.csv", std::nullopt);
  REQUIRE(imported.ok());
  CHECK(imported->table == &schema::ContactsTable());
  auto unclear = ImportText(t.records(), "commune\nGap\n", "x.csv", std::nullopt);
  REQUIRE_FALSE(unclear.ok());
  CHECK(unclear.error().code == ErrorCode::kUsage);
}

TEST_CASE("an export imports back into an empty replica unchanged", "[import][export]") {
  TestReplica source;
  std::string text = "id,last_name,first_name,opened_on,notes,service_level,phone\n" + kId1 +
                     ",\"Dupont, dit \"\"Jo\"\"\",Jean,2026-01-02,\"deux\nlignes\",2,0612345678\n" + kId2 +
                     ",Lefèvre,Élodie,2026-01-03,,,\n";
  REQUIRE(ImportText(source.records(), text, "x.csv", std::nullopt).ok());
  REQUIRE(ImportText(source.records(), "organisation,kind,commune\nCap emploi,handicap,Arles\n", "c.csv", std::nullopt)
              .ok());
  auto format = GENERATE(FileFormat::kCsv, FileFormat::kJsonl);
  for (const schema::Table* table : {&schema::CasesTable(), &schema::ContactsTable()}) {
    std::string exported = Export(source.replica(), *table, format);
    TestReplica target;
    auto imported = ImportText(target.records(), exported, format == FileFormat::kCsv ? "e.csv" : "e.jsonl",
                               std::string(table->name));
    REQUIRE(imported.ok());
    CHECK(Export(target.replica(), *table, format) == exported);
  }
}

TEST_CASE("files made by the sample-data generator import as they are", "[import]") {
  std::string script = RELAIS_SOURCE_DIR "/../shared/data/gen_dataset.py";
  if (const char* shared = std::getenv("RELAIS_SHARED")) script = std::string(shared) + "/data/gen_dataset.py";
  if (!std::ifstream(script)) {
    WARN("sample-data generator not found at " + script + "; skipped");
    return;
  }
  TestReplica t;
  std::string out = (t.dir() / "data").string();
  REQUIRE(std::system(("python3 '" + script + "' 300 40 '" + out + "' 7").c_str()) == 0);
  for (const char* file : {"cases.csv", "contacts.jsonl"}) {
    auto imported = ImportFile(t.records(), out + "/" + file, std::nullopt);
    INFO(file);
    REQUIRE(imported.ok());
  }
  TestReplica other;
  REQUIRE(ImportFile(other.records(), out + "/cases.jsonl", std::nullopt).ok());
  REQUIRE(ImportFile(other.records(), out + "/contacts.csv", std::nullopt).ok());
  CHECK(t.Counts() == "300/0/40/0/0");
  CHECK(other.Counts() == "300/0/40/0/0");
  CHECK(t.records().PendingTotal()->pending == 340);
}

TEST_CASE("CSV fields are quoted only when they must be", "[csv]") {
  std::string out;
  AppendCsvField(out, "Briançon");
  out += ",";
  AppendCsvField(out, "a,b");
  out += ",";
  AppendCsvField(out, "dit \"Jo\"");
  CHECK(out == "Briançon,\"a,b\",\"dit \"\"Jo\"\"\"");
  std::string text = out + "\n";
  CsvReader reader(text);
  std::vector<std::string> fields;
  REQUIRE(*reader.Next(fields));
  CHECK(fields == std::vector<std::string>{"Briançon", "a,b", "dit \"Jo\""});
}

namespace {

// A partner table as LibreOffice or Excel saves it in "CSV" on a French system: semicolons, CRLF,
// Windows-1252 (é = E9, è = E8, ç = E7, É = C9), French headings, the phone's leading 0 dropped.
const std::string kPartnerSheet1252 =
    "Organisme;Nom;Pr\xe9nom;T\xe9l\xe9phone;Courriel;Commune\r\n"
    "Mission locale;Lef\xe8vre;\xc9lodie;612345678;e.lefevre@ml05.fr;Brian\xe7on\r\n"
    "\"Cap emploi; antenne\";Roux;L\xe9\x61;04 92 00 00 00;;Gap\r\n"
    "France Travail;Gar\xe7on;Ma\xebl;4 92 51 00 00;;Embrun\r\n";

ImportOptions With(std::vector<std::string> column_map = {}, std::optional<char> separator = std::nullopt,
                   std::optional<TextEncoding> encoding = std::nullopt) {
  ImportOptions options;
  options.separator = separator;
  options.encoding = encoding;
  options.column_map = std::move(column_map);
  return options;
}

std::string RefusalWith(TestReplica& t, const std::string& text, const ImportOptions& options,
                        ErrorCode code = ErrorCode::kValidation, const std::string& name = "partenaires.csv") {
  auto before = t.ContentHash();
  auto imported = ImportText(t.records(), text, name, options);
  CHECK(t.ContentHash() == before);
  REQUIRE_FALSE(imported.ok());
  CHECK(imported.error().code == code);
  return imported.error().message;
}

}  // namespace

TEST_CASE("a French spreadsheet's partner table imports as contacts", "[import][sheets]") {
  TestReplica t;
  auto imported = ImportText(t.records(), kPartnerSheet1252, "partenaires.csv", ImportOptions{});
  REQUIRE(imported.ok());
  CHECK(imported->table == &schema::ContactsTable());
  CHECK(imported->records == 3);
  CHECK(imported->separator == ';');
  CHECK(imported->encoding == TextEncoding::kWindows1252);
  using Renamed = std::vector<std::pair<std::string, std::string>>;
  CHECK(imported->renamed_columns == Renamed{{"Organisme", "organisation"},
                                             {"Nom", "last_name"},
                                             {"Prénom", "first_name"},
                                             {"Téléphone", "phone"},
                                             {"Courriel", "email"},
                                             {"Commune", "commune"}});
  CHECK(t.Text("SELECT group_concat(organisation || '|' || last_name || '|' || first_name || '|' || "
               "coalesce(phone, '') || '|' || commune, '/') FROM (SELECT * FROM contacts ORDER BY last_name)") ==
        "France Travail|Garçon|Maël|0492510000|Embrun/Mission locale|Lefèvre|Élodie|0612345678|Briançon/"
        "Cap emploi; antenne|Roux|Léa|0492000000|Gap");
  // One warning per number whose 0 came back, naming its line.
  REQUIRE(imported->warnings.size() == 2);
  CHECK(imported->warnings[0].line == 2);
  CHECK(imported->warnings[0].field == "phone");
  CHECK(imported->warnings[0].message ==
        "ligne 2 : phone: « 612345678 » lu comme « 0612345678 » (le 0 initial, effacé par le tableur, est rétabli)");
  CHECK(imported->warnings[1].line == 4);
}

TEST_CASE("the separator is read from the header line, quotes still hold separators and new lines",
          "[import][sheets]") {
  const char separator = GENERATE(',', ';', '\t');
  const std::string bom = GENERATE(std::string(), std::string("\xEF\xBB\xBF"));
  const std::string s(1, separator);
  std::string text = bom + "last_name" + s + "first_name" + s + "opened_on" + s + "notes\r\n" +
                     "\"Dupont, dit; \"\"Jo\"\"\"" + s + "Jean" + s + "2026-01-02" + s + "\"deux\r\nlignes\t!\"\r\n" +
                     "Roux" + s + "Léa" + s + "2026-01-03" + s + "\r\n";
  TestReplica t;
  auto imported = ImportText(t.records(), text, "x.csv", ImportOptions{});
  INFO("separator " << static_cast<int>(separator) << ", BOM " << bom.size());
  REQUIRE(imported.ok());
  CHECK(imported->separator == separator);
  CHECK(imported->encoding == TextEncoding::kUtf8);
  CHECK(imported->renamed_columns.empty());
  CHECK(t.Text("SELECT last_name || '|' || notes FROM cases WHERE first_name = 'Jean'") ==
        "Dupont, dit; \"Jo\"|deux\r\nlignes\t!");
  CHECK(t.Text("SELECT last_name FROM cases WHERE first_name = 'Léa'") == "Roux");
}

TEST_CASE("headings are matched by label and declared aliases, accents and case aside", "[import][sheets]") {
  TestReplica t;
  std::string text =
      "STRUCTURE\tnom\tPrenom\tTél.\tE-mail\tVille\tFonction\n"
      "Mission locale\tNévache\tZoé\t06.12.34.56.78\tz.nevache@ml05.fr\tGap\tconseillère\n";
  auto imported = ImportText(t.records(), text, "annuaire.csv", ImportOptions{});
  REQUIRE(imported.ok());
  CHECK(imported->table == &schema::ContactsTable());
  CHECK(imported->separator == '\t');
  CHECK(imported->warnings.empty());
  CHECK(t.Text("SELECT organisation || '|' || first_name || '|' || phone || '|' || email || '|' || commune || '|' || "
               "role FROM contacts") == "Mission locale|Zoé|0612345678|z.nevache@ml05.fr|Gap|conseillère");

  TestReplica cases;
  auto person = ImportText(cases.records(),
                           "Nom;Prénom;Date de naissance;CP;Ville;Tel;Date d'ouverture\n"
                           "Lefèvre;Élodie;1990-05-04;5100;Briançon;6 12 34 56 78;2026-01-02\n",
                           "inscrits.csv", ImportOptions{});
  REQUIRE(person.ok());
  CHECK(person->table == &schema::CasesTable());
  CHECK(cases.Text("SELECT postcode || '|' || phone || '|' || birth_date FROM cases") == "05100|0612345678|1990-05-04");
  REQUIRE(person->warnings.size() == 2);
  CHECK(person->warnings[0].message ==
        "ligne 2 : postcode: « 5100 » lu comme « 05100 » (le 0 initial, effacé par le tableur, est rétabli)");
  CHECK(person->warnings[1].message ==
        "ligne 2 : phone: « 6 12 34 56 78 » lu comme « 06 12 34 56 78 » (le 0 initial, effacé par le tableur, est "
        "rétabli)");
}

TEST_CASE("only a 9-digit number in a phone field gets a 0 back", "[import][sheets]") {
  TestReplica t;
  // 10 digits, +33, 8 digits, and 9 digits in a field that is not a phone: left as they are, so
  // that validation says what is wrong.
  CHECK(
      RefusalWith(t, "organisation;phone\nA;0612345678\nB;+33612345678\nC;12345678\n", ImportOptions{}) ==
      "ligne 4 : phone: « 12345678 » n'est pas un numéro de téléphone français (0X XX XX XX XX ou +33 X XX XX XX XX)");
  auto imported = ImportText(t.records(), "organisation;role\nA;612345678\n", "x.csv", ImportOptions{});
  REQUIRE(imported.ok());
  CHECK(imported->warnings.empty());
  CHECK(t.Text("SELECT role FROM contacts") == "612345678");
}

TEST_CASE("an unknown heading is refused with the header as read, what is expected and --map", "[import][sheets]") {
  TestReplica t;
  std::string text =
      "Structure porteuse;Nom;Pr\xe9nom;Fonction;Tel\r\nMission locale;Roux;L\xe9\x61;conseill\xe8re;612345678\r\n";
  std::string message = RefusalWith(t, text, ImportOptions{});
  CHECK(message ==
        "ligne 1 : colonne inconnue « Structure porteuse » pour contacts\n"
        "En-tête lu (5 colonnes, séparateur « ; », encodage Windows-1252) : « Structure porteuse » « Nom » "
        "« Prénom » « Fonction » « Tel »\n"
        "Colonnes attendues pour contacts (nom du champ ou intitulé, accents et majuscules indifférents) : id, "
        "organisation « Organisme » (obligatoire), kind « Type », last_name « Nom », first_name « Prénom », role "
        "« Fonction », phone « Téléphone », email « Courriel », commune « Commune »\n"
        "Pour dire quel champ une colonne remplit : --map \"Structure porteuse=champ\" (répétable) ; pour l'ignorer : "
        "--map \"Structure porteuse=\"");
  auto mapped = ImportText(t.records(), text, "x.csv", With({"structure PORTEUSE=organisation"}));
  REQUIRE(mapped.ok());
  CHECK(mapped->table == &schema::ContactsTable());
  CHECK(t.Text("SELECT organisation || '|' || phone FROM contacts") == "Mission locale|0612345678");
}

TEST_CASE("a header that is one column under a forced separator says which separator it holds", "[import][sheets]") {
  TestReplica t;
  std::string message =
      RefusalWith(t, "Organisme;Nom;Prénom\nMission locale;Roux;Léa\n", With({}, ',', TextEncoding::kUtf8));
  CHECK(message ==
        "ligne 1 : colonne inconnue « Organisme;Nom;Prénom » pour cases\n"
        "En-tête lu (1 colonne, séparateur « , », encodage UTF-8) : « Organisme;Nom;Prénom »\n"
        "L'en-tête ne forme qu'une colonne : le séparateur serait-il « ; » ? Essayez --separator ';'");
}

TEST_CASE("--map ignores a column, and a wrong --map is refused before anything is written", "[import][sheets]") {
  TestReplica t;
  std::string text = "Organisme;Adresse;Commune\nMission locale;1 rue de la Paix;Gap\n";
  CHECK(RefusalWith(t, text, With({"Adresse"}), ErrorCode::kUsage)
            .rfind("--map « Adresse » : attendu « Nom de la colonne=champ »", 0) == 0);
  CHECK(RefusalWith(t, text, With({"Adrese="}), ErrorCode::kUsage) ==
        "--map « Adrese= » : aucune colonne « Adrese » dans l'en-tête (colonnes lues : « Organisme », « Adresse », "
        "« Commune »)");
  CHECK(RefusalWith(t, text, With({"Adresse=adresse"}), ErrorCode::kUsage)
            .rfind("--map « Adresse=adresse » : adresse n'est pas un champ de contacts (champs : id, organisation,",
                   0) == 0);
  CHECK(RefusalWith(t, "{\"organisation\": \"A\"}\n", With({"A=organisation"}), ErrorCode::kUsage, "a.jsonl")
            .find("--separator, --encoding et --map ne valent que pour un fichier CSV") != std::string::npos);
  auto imported = ImportText(t.records(), text, "x.csv", With({"Adresse="}));
  REQUIRE(imported.ok());
  CHECK(t.Text("SELECT organisation || '|' || commune FROM contacts") == "Mission locale|Gap");
}

TEST_CASE("two headings naming one field, or a column without a heading that holds text, are refused",
          "[import][sheets]") {
  TestReplica t;
  CHECK(RefusalWith(t, "Organisme;Tel;Téléphone\nA;0612345678;0612345679\n", ImportOptions{}) ==
        "ligne 1 : les colonnes « Tel » et « Téléphone » désignent toutes deux le champ phone (gardez-en une, ou "
        "ignorez l'autre avec --map \"Téléphone=\")");
  // The empty columns a spreadsheet leaves at the end of its rows are ignored while they are empty.
  CHECK(RefusalWith(t, "Organisme;Commune;;\nA;Gap;;\nB;Gap;;oubli\n", ImportOptions{}) ==
        "ligne 3 : la colonne 4 n'a pas d'intitulé dans l'en-tête mais contient « oubli » ; donnez-lui un intitulé, ou "
        "videz-la");
  REQUIRE(ImportText(t.records(), "Organisme;Commune;;\nA;Gap;;\n", "x.csv", ImportOptions{}).ok());
}

TEST_CASE("a forced encoding is obeyed", "[import][sheets]") {
  TestReplica t;
  std::string message = RefusalWith(t, kPartnerSheet1252, With({}, std::nullopt, TextEncoding::kUtf8));
  CHECK(message.rfind("ligne 1, octet 17 (0xE9) : n'est pas de l'UTF-8 (--encoding utf-8) ; si le fichier vient d'un "
                      "tableur, essayez --encoding windows-1252",
                      0) == 0);
  // Valid UTF-8 read as Windows-1252 on request: « é » becomes « Ã© », as the user asked.
  auto imported =
      ImportText(t.records(), "organisation\nCafé\n", "x.csv", With({}, std::nullopt, TextEncoding::kWindows1252));
  REQUIRE(imported.ok());
  CHECK(t.Text("SELECT organisation FROM contacts") == "CafÃ©");
}

TEST_CASE("every declared heading names one field of its table", "[import][sheets]") {
  for (const schema::Table& table : schema::Tables()) {
    for (const schema::Field& field : table.fields) {
      INFO(table.name << "." << field.name);
      CHECK(schema::FieldForHeading(table, field.name) == &field);
      CHECK(schema::FieldForHeading(table, field.label) == &field);
    }
  }
  for (const schema::HeaderAlias& alias : schema::HeaderAliases()) {
    INFO(alias.table << "." << alias.field << " « " << alias.heading << " »");
    bool declared = false;
    for (const schema::Table& table : schema::Tables()) {
      if (!alias.table.empty() && alias.table != table.name) continue;
      const schema::Field* field = table.FindField(alias.field);
      if (!field) continue;
      declared = true;
      CHECK(schema::FieldForHeading(table, alias.heading) == field);
    }
    CHECK(declared);
  }
  CHECK(schema::FoldHeading("N° de Tél.") == "ndetel");
  CHECK(schema::FoldHeading("Point d’accueil") == "pointdaccueil");
}
