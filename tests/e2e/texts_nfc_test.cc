// Texts stored in decomposed form (NFD) before every entry point normalised them are rewritten in
// NFC when the new binaries open the centre's store and a device's replica (issue 24, item 7;
// docs/SCHEMA.md, "Texts in NFC"). Real `relais-central` and `relais`, on SQLite and, as
// test_e2e_pg, on PostgreSQL.
#include <httplib.h>
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"
#include "tests/pg_test_db.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
// "Inès" and "Saint-Étienne", precomposed (NFC) and decomposed (NFD: a letter, then U+0300 or
// U+0301), as macOS and some browsers type them.
const std::string kInesNfc = "In\xc3\xa8s";
const std::string kInesNfd = "Ine\xcc\x80s";
const std::string kCommuneNfc = "Saint-\xc3\x89tienne";
const std::string kCommuneNfd = "Saint-E\xcc\x81tienne";

// Runs `sql` on the centre's store behind its back (the server stopped).
void CentralExec(const Central& central, const std::string& sql) {
  if (relais::testing::OnPostgres()) {
    central.Rows(sql);
  } else {
    Exec(central.StoreArgs().at(1), sql);
  }
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("texts stored decomposed before normalisation are rewritten in NFC on the centre and the devices",
          "[e2e][nfc]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  const std::string id = a.Json({"case", "add", "--last-name", "ROUX", "--first-name", kInesNfc, "--birth-date",
                                 "1985-02-03", "--commune", kCommuneNfc, "--territory", kGap})["id"];
  a.Json({"followup", "add", id, "--kind", "entretien", "--text", "Entretien avec " + kInesNfc + "."});
  const std::string contact = a.Json({"contact", "add", "--organisation", "Mairie de " + kCommuneNfc})["id"];
  REQUIRE(a.Sync()["rejected"] == 0);
  a.Sync();

  // A store and a replica as versions before the normalisation wrote them: the same texts in NFD,
  // with everything computed from them (the centre's identity key as its folding then made it, its
  // digests, the replica's search index), and neither migrated yet.
  const std::string where = " WHERE id = '" + id + "'";
  const std::vector<std::string> version = central.Rows("SELECT version FROM cases" + where);
  central.Kill(SIGTERM);
  CentralExec(central, "UPDATE cases SET first_name = '" + kInesNfd + "', commune = '" + kCommuneNfd +
                           "', identity_key = 'roux|ine\xcc\x80s|1985-02-03', digest_key = NULL, digest_values = NULL" +
                           where);
  CentralExec(central, "UPDATE followups SET text = 'Entretien avec " + kInesNfd +
                           ".', digest_key = NULL, digest_values = NULL WHERE case_id = '" + id + "'");
  CentralExec(central, "UPDATE contacts SET organisation = 'Mairie de " + kCommuneNfd +
                           "', digest_key = NULL, digest_values = NULL");
  CentralExec(central, "UPDATE history SET snapshot = replace(snapshot, '" + kInesNfc + "', '" + kInesNfd + "')");
  // Its digests made from those values, as the store that held them had them; then the rewrite
  // is still to come, as right after the migration that adds it.
  CentralExec(central, "UPDATE meta SET texts_nfc = 1");
  REQUIRE(Run({CentralBinary(), "territory", "list", central.StoreArgs()[0], central.StoreArgs()[1]}).exit_code == 0);
  CentralExec(central, "UPDATE meta SET texts_nfc = 0");
  REQUIRE(central.Count("SELECT count(*) FROM cases WHERE first_name = '" + kInesNfd + "'") == 1);

  Exec(a.db(), "UPDATE cases SET first_name = '" + kInesNfd + "', commune = '" + kCommuneNfd +
                   "', digest_version = NULL" + where);
  Exec(a.db(), "UPDATE followups SET text = 'Entretien avec " + kInesNfd + ".', digest_version = NULL");
  Exec(a.db(), "UPDATE contacts SET organisation = 'Mairie de " + kCommuneNfd + "', digest_version = NULL");
  // A replica from before migration 0011 had none of the tables later migrations add (0012 the
  // register of visits, 0013 permanences and appointments, 0014 referrals, 0017 the access log, 0018
  // the records purged, with an index on cases, 0019 the open next actions, 0020 working times) nor the columns 0014
  // adds (consent on cases, participants of a follow-up): they go, to be made again.
  for (const char* table : {"visits", "permanences", "permanence_changes", "appointments", "referrals", "access_log",
                            "purged_records", "working_times"}) {
    Exec(a.db(), std::string("DROP TABLE ") + table);
  }
  Exec(a.db(), "DROP INDEX cases_closed_on");
  for (const char* column : {"consent_processing", "consent_processing_on", "consent_processing_by",
                             "consent_sharing", "consent_sharing_on", "consent_sharing_by"}) {
    Exec(a.db(), std::string("ALTER TABLE cases DROP COLUMN ") + column);
  }
  Exec(a.db(), "ALTER TABLE followups DROP COLUMN participants");
  // 0019, the open next actions, kept by triggers on the columns that go (it dropped 0015's index).
  for (const char* trigger : {"followups_next_insert", "followups_next_delete"}) {
    Exec(a.db(), std::string("DROP TRIGGER ") + trigger);
  }
  Exec(a.db(), "DROP TABLE open_next_actions");
  Exec(a.db(), "DROP VIEW open_followups");
  Exec(a.db(), "ALTER TABLE followups DROP COLUMN next_date");
  // Nor the columns they add to older tables (0016 rectification of follow-ups, 0020 minutes).
  Exec(a.db(), "ALTER TABLE followups DROP COLUMN minutes");
  Exec(a.db(), "DROP INDEX followups_by_amends");
  for (const char* column : {"amends", "amendment", "reason"}) {
    Exec(a.db(), std::string("ALTER TABLE followups DROP COLUMN ") + column);
  }
  Exec(a.db(), "PRAGMA user_version = 10");

  central.Start();
  CHECK(Contains(central.Log(), "textes remis en forme NFC"));

  // The centre holds NFC: the record, its follow-up, the directory, the history.
  CHECK(central.Rows("SELECT first_name, commune FROM cases" + where) ==
        std::vector<std::string>{kInesNfc + "|" + kCommuneNfc});
  CHECK(central.Count("SELECT count(*) FROM followups WHERE text = 'Entretien avec " + kInesNfc + ".'") == 1);
  CHECK(central.Rows("SELECT organisation FROM contacts WHERE id = '" + contact + "'") ==
        std::vector<std::string>{"Mairie de " + kCommuneNfc});
  CHECK(central.Count("SELECT count(*) FROM history WHERE snapshot LIKE '%" + kInesNfd + "%'") == 0);
  CHECK(central.Count("SELECT count(*) FROM cases WHERE digest_values IS NULL") == 0);
  CHECK(central.Rows("SELECT version FROM cases" + where) == version);  // devices pull nothing

  // The device, opened by the new binary, holds NFC too, found by a search in either form.
  json shown = a.Show(id);
  CHECK(shown["first_name"] == kInesNfc);
  CHECK(shown["commune"] == kCommuneNfc);
  CHECK(a.Json({"case", "search", "Ines"}).size() == 1);
  CHECK(a.Json({"case", "search", kInesNfd}).size() == 1);
  CHECK(a.Json({"case", "search", "Etienne"}).size() == 1);
  CHECK(a.Json({"contact", "search", kCommuneNfc}).size() == 1);
  CHECK(Count(a.db(), "SELECT count(*) FROM followups WHERE text = 'Entretien avec " + kInesNfc + ".'") == 1);

  // Centre and device agree, without a copy: the digest check passes.
  json synced = a.Sync();
  CHECK(synced["checked"] == true);
  CHECK(synced["divergence"].is_null());
  CHECK(a.Show(id)["first_name"] == kInesNfc);

  // The same person typed decomposed on another device is found a probable duplicate.
  Device b(dir, "b");
  b.Init(central, central.Enrol("b", {kGap}));
  REQUIRE(b.Cmd({"case", "add", "--last-name", "Roux", "--first-name", kInesNfd, "--birth-date", "1985-02-03",
                 "--territory", kGap})
              .exit_code == 0);
  b.Sync();
  CHECK(central.Count("SELECT count(*) FROM conflicts WHERE kind = 'duplicate' AND other_id = '" + id + "'") == 1);
}

// A batch in flight when the centre rewrote its texts: the centre applied it as it came (NFD) and
// kept its hash and its changes' digests; the device, its replica rewritten too, resends it in NFC.
// The centre must answer it (its first answers, nothing applied twice), not refuse the batch key as
// used for other changes (409) for ever. The old hash and digests are put in the store by hand, as
// the binary before the rewrite made them.
TEST_CASE("a batch applied before the centre's NFC rewrite and resent in NFC is answered again, not refused",
          "[e2e][nfc]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  const std::string token = central.Enrol("a", {kGap});
  const std::string record = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  const std::string body = R"({"protocol": 1, "batch": "lot-en-vol", "changes": [
    {"id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60", "table": "cases", "record": ")" +
                           record + R"(", "op": "create", "hlc": "1763900000000-000000-a1b2c3d4", "base_version": 0,
     "values": {"last_name": "ROUX", "first_name": ")" + kInesNfc +
                           R"(", "opened_on": "2026-11-23", "territory": ")" + kGap + R"("}}]})";
  auto push = [&] {
    httplib::Client client(central.url());
    httplib::Headers headers = {{"Authorization", "Bearer " + token}, {"Relais-Protocol", "1"}};
    auto answer = client.Post("/v1/push", headers, body, "application/json");
    REQUIRE(answer);
    INFO(answer->body);
    return std::make_pair(answer->status, json::parse(answer->body, nullptr, false));
  };
  auto [status, first] = push();
  REQUIRE(status == 200);
  REQUIRE(first["results"][0]["status"] == "applied");
  const std::string where = " WHERE id = '" + record + "'";
  const std::vector<std::string> version = central.Rows("SELECT version FROM cases" + where);
  const int64_t history = central.Count("SELECT count(*) FROM history");

  central.Kill(SIGTERM);
  CentralExec(central, "UPDATE cases SET first_name = '" + kInesNfd + "', digest_key = NULL, digest_values = NULL" +
                           where);
  CentralExec(central, "UPDATE push_batches SET request_hash = 'v2:" + std::string(64, '0') + "'");
  CentralExec(central, "UPDATE change_outcomes SET digest = '" + std::string(32, '0') + "'");
  CentralExec(central, "UPDATE meta SET texts_nfc = 0");
  central.Start();
  REQUIRE(central.Rows("SELECT first_name FROM cases" + where) == std::vector<std::string>{kInesNfc});

  auto [again, second] = push();
  CHECK(again == 200);
  CHECK(second["results"][0]["status"] == "applied");
  CHECK(second["results"][0]["version"] == first["results"][0]["version"]);
  CHECK(central.Rows("SELECT version FROM cases" + where) == version);  // applied once
  CHECK(central.Count("SELECT count(*) FROM history") == history);
}
