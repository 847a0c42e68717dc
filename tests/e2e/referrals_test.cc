// Referrals to partners (issue 29) and the sharing consent they need (issue 27) through the real
// binaries: answered differently offline on two laptops of a territory, synced through a real
// `relais-central` (SQLite, and PostgreSQL as test_e2e_pg). The referrals table is a declaration in
// schema/model.cc and a migration per database; its status moves are declared there and checked
// on the device and by the centre.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

// Every column of the referrals, the same query on a replica and on the centre.
const std::string kReferrals =
    "SELECT id, version, case_id, organisation, contact, service, status, reason, feedback, due_on, note, sent_on "
    "FROM referrals ORDER BY id";

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

RunResult CentralCmd(const Central& c, std::vector<std::string> args) {
  args.insert(args.begin(), CentralBinary());
  for (const std::string& a : c.StoreArgs()) args.push_back(a);
  return Run(args);
}

// Two laptops in Gap and one in Bastia; on the first, a person and a partner of the directory.
struct Network {
  Network() : central(dir.path()), gap1(dir, "gap1"), gap2(dir, "gap2"), bastia(dir, "bastia") {
    central.Start();
    gap1.Init(central, central.Enrol("pae-gap-1", {kGap}));
    gap2.Init(central, central.Enrol("pae-gap-2", {kGap}));
    bastia.Init(central, central.Enrol("pae-bastia", {kBastia}));
    person = gap1.AddCase("Névache", "Zoé", kGap);
    partner = gap1.Json({"contact", "add", "--organisation", "GRETA Alpes du Sud", "--commune", "Gap"})["id"];
  }
  // Records the person's consent to sharing on the first laptop, then sends her to the partner.
  json Refer() {
    const json consented = gap1.Json({"case", "edit", person, "--consent-sharing", "yes"});
    CHECK(consented["consent_sharing"] == "oui");
    CHECK(consented["consent_sharing_by"] == "pae-gap-1");  // the device that collected it
    CHECK_FALSE(consented["consent_sharing_on"].is_null());
    return gap1.Json({"referral", "add", person, "--to", partner, "--service", "bilan_competences", "--due",
                      "2026-01-15", "--note", "Projet de reconversion"});
  }
  TempDir dir;
  Central central;
  Device gap1, gap2, bastia;
  std::string person, partner;
};

}  // namespace

TEST_CASE("a referral needs the person's sharing consent: without it the device refuses and changes nothing",
          "[e2e][referrals]") {
  Network net;
  const std::string before = net.gap1.ContentHash();
  RunResult refused =
      net.gap1.Cmd({"referral", "add", net.person, "--to", net.partner, "--service", "formation", "--json"});
  CHECK(refused.exit_code == 3);
  INFO(refused.err);
  CHECK(Contains(refused.err, "relais case edit " + net.person + " --consent-sharing oui"));
  CHECK(net.gap1.ContentHash() == before);
  // A tripartite meeting without its participants is refused too; with them it is kept.
  RunResult alone = net.gap1.Cmd({"followup", "add", net.person, "--kind", "tripartite", "--text", "Réunion."});
  CHECK(alone.exit_code == 3);
  CHECK(net.gap1.ContentHash() == before);
  const json met = net.gap1.Json({"followup", "add", net.person, "--kind", "tripartite", "--text", "Réunion.",
                                  "--participant", "Mme Roux (GRETA Alpes du Sud)", "--participant", "Zoé Névache"});
  CHECK(met["participants"] == "Mme Roux (GRETA Alpes du Sud); Zoé Névache");
}

TEST_CASE("an acceptance and a refusal made offline on two laptops wait for central review, nothing lost",
          "[e2e][referrals]") {
  Network net;
  const json sent = net.Refer();
  const std::string id = sent["id"];
  CHECK(sent["status"] == "envoyee");
  for (const Device* d : {&net.gap1, &net.gap2, &net.bastia}) CHECK(d->Sync()["rejected"] == 0);

  // Offline: the partner said yes to one counsellor and no to the other.
  CHECK(net.gap1.Json({"referral", "update", id, "--status", "acceptee"})["status"] == "acceptee");
  CHECK(net.gap2.Json({"referral", "update", id, "--status", "refusee", "--reason", "Session complète"})["status"] ==
        "refusee");
  for (const Device* d : {&net.gap1, &net.gap2, &net.gap1, &net.bastia}) CHECK(d->Sync()["rejected"] == 0);

  // The centre kept the first answer it received and holds the other for staff.
  RunResult open = CentralCmd(net.central, {"conflicts", "list", "--status", "open", "--json"});
  REQUIRE(open.exit_code == 0);
  const json conflicts = json::parse(open.out);
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0]["table"] == "referrals");
  CHECK(conflicts[0]["record"] == id);
  CHECK(conflicts[0]["field"] == "status");
  CHECK(conflicts[0]["server"] == "acceptee");
  CHECK(conflicts[0]["device_value"] == "refusee");
  // Both laptops agree with the centre; the refusal's reason is kept on the record.
  const std::vector<std::string> centre = net.central.Rows(kReferrals);
  REQUIRE(centre.size() == 1);
  CHECK(SqliteRows(net.gap1.db(), kReferrals) == centre);
  CHECK(SqliteRows(net.gap2.db(), kReferrals) == centre);
  const json listed = net.gap2.Json({"referral", "list", "--case", net.person});
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["status"] == "acceptee");
  CHECK(listed[0]["reason"] == "Session complète");
  CHECK(listed[0]["organisation_name"] == "GRETA Alpes du Sud");
  CHECK(listed[0]["overdue"] == true);  // due 2026-01-15, accepted, not done
  CHECK(net.gap1.Json({"referral", "list", "--overdue"}).size() == 1);
  CHECK(net.gap1.Json({"status"})["referrals_overdue"] == 1);
  // The case's page lists it too, with its partner, state and delay.
  const json shown = net.gap2.Show(net.person);
  REQUIRE(shown["referrals"].size() == 1);
  CHECK(shown["referrals"][0]["id"] == id);
  CHECK(shown["referrals"][0]["overdue"] == true);
  const RunResult page = net.gap2.Cmd({"case", "show", net.person});
  CHECK_THAT(page.out, Catch::Contains("Orientations (1)") && Catch::Contains("GRETA Alpes du Sud") &&
                           Catch::Contains("acceptée") && Catch::Contains("EN RETARD"));

  // Bastia never holds it.
  CHECK(Count(net.bastia.db(), "SELECT count(*) FROM referrals") == 0);
  CHECK(net.bastia.Json({"referral", "list"}).empty());

  // Staff see it, in its case's territory.
  RunResult staff = CentralCmd(net.central, {"referrals", "list", "--overdue", "--territory", kGap, "--json"});
  INFO(staff.err);
  REQUIRE(staff.exit_code == 0);
  const json at_centre = json::parse(staff.out);
  REQUIRE(at_centre.size() == 1);
  CHECK(at_centre[0]["territory"] == kGap);
  CHECK(at_centre[0]["case_name"] == "Névache Zoé");
  CHECK(json::parse(CentralCmd(net.central, {"referrals", "list", "--territory", kBastia, "--json"}).out).empty());

  // Staff settle for the refusal: it reaches both laptops.
  RunResult settled = CentralCmd(
      net.central, {"conflicts", "resolve", std::to_string(conflicts[0]["id"].get<int64_t>()), "--keep", "device"});
  INFO(settled.err);
  REQUIRE(settled.exit_code == 0);
  for (const Device* d : {&net.gap1, &net.gap2}) CHECK(d->Sync()["rejected"] == 0);
  CHECK(QueryText(net.gap1.db(), "SELECT status FROM referrals") == "refusee");
  CHECK(SqliteRows(net.gap2.db(), kReferrals) == net.central.Rows(kReferrals));

  RunResult exported = net.gap2.Cmd({"export", "--kind", "referrals", "--format", "jsonl"});
  REQUIRE(exported.exit_code == 0);
  CHECK(Contains(exported.out, "\"status\":\"refusee\""));
}

TEST_CASE("a status move the centre does not declare is refused there, kept on the device and shown",
          "[e2e][referrals]") {
  Network net;
  const std::string id = net.Refer()["id"];
  CHECK(net.gap1.Sync()["rejected"] == 0);
  // An older binary, or a hand-edited file, wrote envoyee → realisee, which the device now refuses.
  CHECK(net.gap1.Cmd({"referral", "update", id, "--status", "realisee"}).exit_code == 3);
  CHECK(net.gap1.Json({"referral", "update", id, "--status", "acceptee"})["status"] == "acceptee");
  Exec(net.gap1.db(),
       "UPDATE outbox SET fields = replace(fields, '\"acceptee\"', '\"realisee\"') WHERE tbl = 'referrals'; "
       "UPDATE referrals SET status = 'realisee'");
  const json sync = net.gap1.Sync();
  CHECK(sync["rejected"] == 1);
  // The centre kept what it had; the device keeps its change, shown with the centre's reason.
  CHECK(net.central.Rows("SELECT status FROM referrals") == std::vector<std::string>{"envoyee"});
  const json rejected = net.gap1.Json({"rejected"});
  REQUIRE(rejected.size() == 1);
  INFO(rejected.dump());
  CHECK(rejected[0]["table"] == "referrals");
  CHECK(rejected[0]["code"] == "invalid_transition");
  CHECK(rejected[0]["case"] == net.person);  // the case it concerns, named for the counsellor
  CHECK(Contains(rejected[0]["reason"].get<std::string>(), "passer de « envoyee » à « realisee » n'est pas permis"));
  CHECK(QueryText(net.gap1.db(), "SELECT status FROM referrals") == "realisee");
}

TEST_CASE("a referral that reaches the centre after the consent was withdrawn elsewhere is refused there, kept "
          "and shown",
          "[e2e][referrals][rgpd]") {
  Network net;
  REQUIRE(net.gap1.Json({"case", "edit", net.person, "--consent-sharing", "yes"})["consent_sharing"] == "oui");
  net.gap1.Sync();
  net.gap2.Sync();  // gap2 holds the person with her consent
  // She withdraws it at the first reception point; the second laptop, offline, still reads « oui ».
  net.gap1.Json({"case", "edit", net.person, "--consent-sharing", "non"});
  net.gap1.Sync();
  const json referral =
      net.gap2.Json({"referral", "add", net.person, "--to", net.partner, "--service", "formation"});
  const json sync = net.gap2.Sync();
  CHECK(sync["rejected"] == 1);
  CHECK(net.central.Count("SELECT count(*) FROM referrals") == 0);
  const json rejected = net.gap2.Json({"rejected"});
  REQUIRE(rejected.size() == 1);
  INFO(rejected.dump());
  CHECK(rejected[0]["table"] == "referrals");
  CHECK(rejected[0]["record"] == referral["id"]);
  CHECK(rejected[0]["code"] == "no_consent");
  CHECK(Contains(rejected[0]["reason"].get<std::string>(), "la personne a refusé le partage"));
  CHECK(Contains(rejected[0]["reason"].get<std::string>(), "--consent-sharing oui"));
  // The laptop that wrote it keeps it; the other never sees it.
  CHECK(Count(net.gap2.db(), "SELECT count(*) FROM referrals") == 1);
  net.gap1.Sync();
  CHECK(Count(net.gap1.db(), "SELECT count(*) FROM referrals") == 0);
}
