#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "client/csv.h"
#include "client/export.h"
#include "client/import.h"
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
        "ligne 1 : il manque la colonne obligatoire first_name");
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

TEST_CASE("an import with invalid UTF-8 is refused", "[import]") {
  TestReplica t;
  CHECK(Refusal(t, kHeader + kId1 + ",Lef\xe8vre,Elodie,,Brian\xe7on,2026-01-02\n")
            .rfind("ligne 2 : last_name: n'est pas un texte UTF-8 valide", 0) == 0);
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
