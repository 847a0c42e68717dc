#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "schema/migrations.h"
#include "schema/model.h"
#include "sqlite/db.h"
#include "sqlite/migrate.h"

using namespace relais;
using namespace relais::schema;

namespace {
std::filesystem::path TempDb(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("relais-schema-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p;
}
std::string Validate(const Table& t, std::string_view field, const std::optional<std::string>& v) {
  auto st = ValidateValue(*t.FindField(field), Normalize(*t.FindField(field), v));
  return st.ok() ? "" : st.error().message;
}
}  // namespace

TEST_CASE("every validation rule refuses a bad value and names the field", "[schema]") {
  const Table& c = CasesTable();
  CHECK(Validate(c, "birth_date", "1990-13-45") ==
        "birth_date: « 1990-13-45 » n'est pas une date qui existe (attendu : AAAA-MM-JJ)");
  CHECK_FALSE(Validate(c, "birth_date", "2023-02-29").empty());
  CHECK(Validate(c, "birth_date", "2024-02-29").empty());
  CHECK_FALSE(Validate(c, "postcode", "00100").empty());
  CHECK_FALSE(Validate(c, "postcode", "5100").empty());
  CHECK(Validate(c, "postcode", "05100").empty());
  CHECK_FALSE(Validate(c, "phone", "12345").empty());
  CHECK(Validate(c, "phone", "06 12 34 56 78").empty());
  CHECK(Validate(c, "phone", "+33 6 12 34 56 78").empty());
  CHECK_FALSE(Validate(c, "email", "pas-un-courriel").empty());
  CHECK(Validate(c, "email", "a.b@exemple.fr").empty());
  CHECK_FALSE(Validate(c, "status", "chomeur").empty());
  CHECK_FALSE(Validate(c, "sector", "peche").empty());
  CHECK_FALSE(Validate(c, "service_level", "4").empty());
  CHECK_FALSE(Validate(c, "service_level", "deux").empty());
  CHECK(Validate(c, "service_level", "3").empty());
  CHECK(Validate(c, "last_name", std::nullopt) == "last_name: obligatoire (ne peut pas être vide)");
  CHECK_FALSE(Validate(c, "last_name", std::string("Du\xff", 3)).empty());
  CHECK_FALSE(Validate(FollowupsTable(), "kind", "visite").empty());
  CHECK(Validate(FollowupsTable(), "kind", "bilan_competences").empty());
}

TEST_CASE("a visit's time, reasons and age band are checked against their declaration", "[schema][visits]") {
  const Table& v = VisitsTable();
  CHECK(Validate(v, "time", "09:05").empty());
  CHECK(Validate(v, "time", "23:59").empty());
  CHECK(Validate(v, "time", "24:00") == "time: « 24:00 » n'est pas une heure (attendu : HH:MM, de 00:00 à 23:59)");
  CHECK_FALSE(Validate(v, "time", "9:05").empty());
  CHECK_FALSE(Validate(v, "time", "09h05").empty());
  CHECK(Validate(v, "reasons", "emploi").empty());
  CHECK(Validate(v, "reasons", "emploi, mobilite,logement").empty());
  CHECK(Normalize(*v.FindField("reasons"), std::string(" emploi, mobilite ")) ==
        std::optional<std::string>("emploi,mobilite"));
  CHECK(Validate(v, "reasons", "emploi,chomage") ==
        "reasons: « chomage » n'est pas une valeur permise (valeurs permises : emploi, formation, "
        "creation_activite, orientation, droits_demarches, numerique, mobilite, logement, sante, autre)");
  CHECK(Validate(v, "reasons", "emploi,emploi") == "reasons: « emploi » est donné deux fois");
  CHECK_FALSE(Validate(v, "reasons", "emploi,").empty());
  CHECK(Validate(v, "reasons", std::nullopt) == "reasons: obligatoire (ne peut pas être vide)");
  CHECK(Validate(v, "age_band", "55+").empty());
  CHECK_FALSE(Validate(v, "age_band", "60").empty());
  CHECK_FALSE(Validate(v, "channel", "guichet").empty());
  CHECK_FALSE(Validate(v, "mode", "rdv").empty());
}

TEST_CASE("every table scoped by territory declares its territory, and an append-only table only immutable fields",
          "[schema]") {
  for (const Table& t : Tables()) {
    INFO(t.name);
    if (t.scope == Scope::kTerritory) {
      REQUIRE(t.FindField("territory") != nullptr);
      CHECK(t.FindField("territory")->type == FieldType::kText);
    }
    if (t.scope == Scope::kParentCase) CHECK(t.FindField("case_id") != nullptr);
    if (t.kind == TableKind::kAppendOnly) {
      for (const Field& f : t.fields) CHECK(f.rule == MergeRule::kImmutable);
    }
  }
}

TEST_CASE("normalisation trims and canonicalises", "[schema]") {
  const Table& c = CasesTable();
  CHECK(Normalize(*c.FindField("phone"), std::string(" 06.12.34.56.78 ")) == std::optional<std::string>("0612345678"));
  CHECK(Normalize(*c.FindField("email"), std::string("Léa.Martin@Exemple.FR")) ==
        std::optional<std::string>("Léa.Martin@exemple.fr"));
  CHECK_FALSE(Normalize(*c.FindField("commune"), std::string("   ")).has_value());
  CHECK_FALSE(Normalize(*c.FindField("phone"), std::string(" . - ")).has_value());
  CHECK(Normalize(*c.FindField("notes"), std::string("  Indented.\n\t")) == std::optional<std::string>("  Indented."));
  CHECK(Normalize(*FollowupsTable().FindField("case_id"), std::string(" 0AB1-CD ")) ==
        std::optional<std::string>("0ab1-cd"));
}

TEST_CASE("normalisation puts text in Unicode NFC and says it changed it", "[schema]") {
  const Table& c = CasesTable();
  Value name = std::string("  Lefe\u0300vre ");
  CHECK(NormalizeInPlace(*c.FindField("last_name"), name));
  CHECK(name == std::optional<std::string>("Lefèvre"));
  Value notes = std::string("Re\u0301orientation\nvers la Mission locale");
  CHECK(NormalizeInPlace(*c.FindField("notes"), notes));
  CHECK(notes == std::optional<std::string>("Réorientation\nvers la Mission locale"));
  Value nfc = std::string("Lefèvre");
  CHECK_FALSE(NormalizeInPlace(*c.FindField("last_name"), nfc));
}

TEST_CASE("control characters are refused, and kept only as line breaks in long text", "[schema]") {
  const Table& c = CasesTable();
  CHECK(Validate(c, "last_name", "Mar\ttin") == "last_name: doit tenir sur une seule ligne");
  CHECK(Validate(c, "notes", "Ligne 1\r\nLigne 2\tfin").empty());
  CHECK(Validate(c, "notes", "Ligne\x01") == "notes: contient un caractère de contrôle");
  CHECK(Validate(c, "commune", "Névache").empty());
  // Values are scanned eight bytes at a time: a control byte or a bad UTF-8 byte anywhere is found.
  for (size_t at = 0; at < 21; ++at) {
    std::string text(21, 'e');
    INFO("at " << at);
    text[at] = '\x1f';
    CHECK(Validate(c, "commune", text) == "commune: doit tenir sur une seule ligne");
    text[at] = '\x7f';
    CHECK(Validate(c, "commune", text).empty());
    text[at] = '\xa0';
    CHECK(Validate(c, "commune", text) == "commune: n'est pas un texte UTF-8 valide");
  }
}

// The declaration and the migrations must agree: a field added in one place only fails here.
TEST_CASE("replica and central migrations hold exactly the declared columns", "[schema]") {
  for (auto* set : {&replica_migrations(), &central_migrations()}) {
    auto path = TempDb("columns.db");
    auto db = sqlite::Db::Open(path.string());
    REQUIRE(db.ok());
    REQUIRE(sqlite::Migrate(*db, *set, "test").ok());
    for (const Table& t : Tables()) {
      auto st = db->Prepare("SELECT name FROM pragma_table_info(?)");
      REQUIRE(st.ok());
      st->Bind(1, t.name);
      std::set<std::string> columns;
      while (*st->Step()) columns.insert(st->Text(0));
      for (const Field& f : t.fields) CHECK(columns.count(std::string(f.name)) == 1);
      CHECK(columns.count("id") == 1);
      CHECK(columns.count("version") == 1);
    }
  }
}

TEST_CASE("a database written by a newer Relais is refused and left unchanged", "[schema]") {
  auto path = TempDb("newer.db");
  {
    auto db = sqlite::Db::Open(path.string());
    REQUIRE(db.ok());
    REQUIRE(sqlite::Migrate(*db, replica_migrations(), "replica").ok());
    REQUIRE(db->Exec("PRAGMA user_version = 999").ok());
  }
  auto db = sqlite::Db::Open(path.string());
  REQUIRE(db.ok());
  auto st = sqlite::Migrate(*db, replica_migrations(), "replica");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == ErrorCode::kTooNew);
  CHECK(st.error().message.find("version plus récente de Relais") != std::string::npos);
  CHECK(*sqlite::SchemaVersion(*db) == 999);
}

TEST_CASE("migrating twice is a no-op and records the version", "[schema]") {
  auto path = TempDb("twice.db");
  auto db = sqlite::Db::Open(path.string());
  REQUIRE(db.ok());
  REQUIRE(sqlite::Migrate(*db, replica_migrations(), "replica").ok());
  REQUIRE(sqlite::Migrate(*db, replica_migrations(), "replica").ok());
  CHECK(*sqlite::SchemaVersion(*db) == replica_migrations().back().number);
}
