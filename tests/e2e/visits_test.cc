// The register of visits (issue 29): `relais visit add|amend|list` and `relais export --kind visits`
// through the real binaries, noted offline on two laptops of a territory and synced through a real
// `relais-central`, on SQLite and, as test_e2e_pg, on PostgreSQL. The visits table is a declaration
// in schema/model.cc and a migration per database: nothing in the engine knows it.
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
const std::string kDay = "2026-12-07";

// Every column of the Gap visits, the same query on a replica and on the centre.
const std::string kGapVisits =
    "SELECT id, version, territory, reception_point, date, time, channel, mode, reasons, case_id, orientation, "
    "status, sector, age_band, commune, postcode, service_level, note, amends FROM visits WHERE territory = '" +
    kGap + "' ORDER BY id";

// Two laptops in Gap (whose reception points are declared) and one in Bastia.
struct Network {
  Network() : central(dir.path()), gap1(dir, "gap1"), gap2(dir, "gap2"), bastia(dir, "bastia") {
    central.Start();
    const std::string t1 = central.Enrol("pae-gap-1", {kGap});
    const std::string t2 = central.Enrol("pae-gap-2", {kGap});
    const std::string t3 = central.Enrol("pae-bastia", {kBastia});
    std::vector<std::string> points = {CentralBinary(), "territory", "points", kGap,
                                       "--add",         "PAE Gap",   "--add",  "Mairie de Veynes"};
    for (const std::string& a : central.StoreArgs()) points.push_back(a);
    REQUIRE(Run(points).exit_code == 0);
    gap1.Init(central, t1);
    gap2.Init(central, t2);
    bastia.Init(central, t3);
  }
  TempDir dir;
  Central central;
  Device gap1, gap2, bastia;
};

std::vector<std::string> Ids(const json& list) {
  std::vector<std::string> ids;
  for (const json& v : list) ids.push_back(v["id"].get<std::string>());
  return ids;
}

}  // namespace

TEST_CASE("visits noted offline on two laptops of a territory reach both and the centre, never another territory",
          "[e2e][visits]") {
  Network net;
  const std::string person = net.gap1.Json(
      {"case", "add", "--last-name", "Névache", "--first-name", "Zoé", "--birth-date", "1990-12-08", "--status",
       "demandeur_emploi", "--sector", "btp", "--commune", "Veynes", "--postcode", "05400", "--territory", kGap})["id"];
  // Offline: nobody syncs until every visit is noted.
  const json anonymous = net.gap1.Json(
      {"visit",      "add",      "--channel",         "accueil", "--mode",    "flux", "--reason", "emploi",
       "--reason",   "mobilite", "--reception-point", "PAE Gap", "--date",    kDay,   "--time",   "09:30",
       "--age-band", "26-44",    "--status",          "salarie", "--commune", "Gap"});
  CHECK(anonymous["territory"] == kGap);  // the reception point's territory
  CHECK(anonymous["reasons"] == "emploi,mobilite");
  CHECK(anonymous["case_id"].is_null());
  // A linked visit takes the case's typology as it is that day: 35 years old the day before her birthday.
  const json linked = net.gap1.Json({"visit", "add", "--case", person, "--channel", "telephone", "--mode",
                                     "rendez_vous", "--reason", "formation", "--date", kDay, "--time", "10:00"});
  CHECK(linked["status"] == "demandeur_emploi");
  CHECK(linked["sector"] == "btp");
  CHECK(linked["commune"] == "Veynes");
  CHECK(linked["postcode"] == "05400");
  CHECK(linked["age_band"] == "26-44");
  const json other = net.gap2.Json({"visit", "add", "--channel", "courriel", "--mode", "flux", "--reason", "numerique",
                                    "--reception-point", "Mairie de Veynes", "--date", kDay});
  // A correction is a new entry that replaces the old one in the register; both are kept.
  const json amended =
      net.gap2.Json({"visit", "amend", other["id"], "--time", "14:15", "--reason", "droits_demarches"});
  CHECK(amended["amends"] == other["id"]);
  CHECK(amended["reception_point"] == "Mairie de Veynes");
  CHECK(amended["reasons"] == "droits_demarches");
  CHECK(net.gap2.Json({"visit", "list", "--date", kDay}).size() == 1);
  CHECK(net.gap2.Json({"visit", "list", "--date", kDay, "--all"}).size() == 2);
  net.bastia.Json(
      {"visit", "add", "--channel", "permanence", "--mode", "rendez_vous", "--reason", "sante", "--date", kDay});

  for (const Device* d : {&net.gap1, &net.gap2, &net.bastia, &net.gap1}) CHECK(d->Sync()["rejected"] == 0);

  // Both laptops hold the same register, as the centre does.
  const json one = net.gap1.Json({"visit", "list", "--date", kDay});
  const json two = net.gap2.Json({"visit", "list", "--date", kDay});
  CHECK(Ids(one) == std::vector<std::string>{anonymous["id"], linked["id"], amended["id"]});  // by time
  CHECK(Ids(one) == Ids(two));
  CHECK(net.gap1.Json({"visit", "list", "--date", kDay, "--reception-point", "Mairie de Veynes"}).size() == 1);
  const std::vector<std::string> centre = net.central.Rows(kGapVisits);
  CHECK(centre.size() == 4);
  CHECK(SqliteRows(net.gap1.db(), kGapVisits) == centre);
  CHECK(SqliteRows(net.gap2.db(), kGapVisits) == centre);
  CHECK(net.central.Count("SELECT count(*) FROM visits") == 5);

  // Bastia holds its own visit and nothing of Gap's.
  CHECK(Count(net.bastia.db(), "SELECT count(*) FROM visits") == 1);
  CHECK(Count(net.bastia.db(), "SELECT count(*) FROM visits WHERE territory = '" + kGap + "'") == 0);
  CHECK(net.bastia.Json({"visit", "list", "--date", kDay}).size() == 1);

  // The export holds every entry, amended ones too, one JSON object a line.
  RunResult exported = net.gap2.Cmd({"export", "--kind", "visits", "--format", "jsonl"});
  REQUIRE(exported.exit_code == 0);
  CHECK(std::count(exported.out.begin(), exported.out.end(), '\n') == 4);
  CHECK(exported.out.find("\"reasons\":\"emploi,mobilite\"") != std::string::npos);
}

TEST_CASE("a visit the device could not refuse is refused by the centre when its point or territory is wrong",
          "[e2e][visits]") {
  Network net;
  // Written straight into the replica (an older binary, a hand-edited file): pending creates.
  Exec(net.gap1.db(),
       "INSERT INTO visits(id, territory, reception_point, date, channel, mode, reasons) VALUES "
       "('0190a1b2-0000-7000-8000-0000000000a1', '" +
           kGap + "', 'Guichet fermé', '" + kDay +
           "', 'accueil', 'flux', 'emploi'), "
           "('0190a1b2-0000-7000-8000-0000000000a2', '" +
           kBastia + "', NULL, '" + kDay + "', 'accueil', 'flux', 'emploi')");
  const json sync = net.gap1.Sync();
  REQUIRE(sync["rejections"].size() == 2);
  std::string reasons =
      sync["rejections"][0]["reason"].get<std::string>() + " | " + sync["rejections"][1]["reason"].get<std::string>();
  INFO(reasons);
  CHECK(reasons.find("le point d'accueil « Guichet fermé » n'est pas déclaré") != std::string::npos);
  CHECK(reasons.find(kBastia) != std::string::npos);
  CHECK(net.central.Count("SELECT count(*) FROM visits") == 0);
}

TEST_CASE("a visit refused on the device changes nothing in its replica", "[e2e][visits]") {
  Network net;
  const std::string person = net.gap1.AddCase("Martin", "Élodie", kGap);
  const std::string before = net.gap1.ContentHash();
  const std::vector<std::string> base = {"visit", "add", "--channel", "accueil", "--mode", "flux"};
  struct Refusal {
    std::vector<std::string> more;
    int exit_code;
    std::string says;
  };
  const std::vector<Refusal> refusals = {
      {{"--reason", "chomage"}, 3, "reasons: « chomage » n'est pas une valeur permise"},
      {{"--reason", "emploi", "--reason", "emploi"}, 3, "reasons: « emploi » est donné deux fois"},
      {{}, 3, "reasons: obligatoire"},
      {{"--reason", "emploi", "--time", "25:00"}, 3, "time: « 25:00 » n'est pas une heure"},
      {{"--reason", "emploi", "--age-band", "60"}, 3, "age_band: « 60 » n'est pas une valeur permise"},
      {{"--reason", "emploi", "--reception-point", "Guichet fermé", "--territory", kGap},
       3,
       "reception_point: « Guichet fermé » n'est pas un point d'accueil déclaré"},
      {{"--reason", "emploi", "--territory", "ailleurs"}, 3, "territory: « ailleurs » n'est pas un territoire déclaré"},
      {{"--reason", "emploi", "--case", "0190a1b2-0000-7000-8000-00000000dead"}, 4, "case_id: aucun dossier"},
      {{"--reason", "emploi", "--orientation", "0190a1b2-0000-7000-8000-00000000dead"},
       4,
       "orientation: aucun partenaire"},
      {{"--reason", "emploi", "--case", person, "--status", "salarie"},
       2,
       "--status est la typologie d'une visite anonyme"},
      {{"--reason", "emploi", "--date", "2026-02-30"}, 3, "date: « 2026-02-30 » n'est pas une date qui existe"},
  };
  for (const Refusal& r : refusals) {
    std::vector<std::string> args = base;
    args.insert(args.end(), r.more.begin(), r.more.end());
    RunResult run = net.gap1.Cmd(args);
    INFO(run.err);
    CHECK(run.exit_code == r.exit_code);
    CHECK(run.err.find(r.says) != std::string::npos);
    CHECK(net.gap1.ContentHash() == before);
  }
  RunResult amend = net.gap1.Cmd({"visit", "amend", "0190a1b2-0000-7000-8000-00000000dead", "--time", "10:00"});
  CHECK(amend.exit_code == 4);
  CHECK(net.gap1.ContentHash() == before);
  RunResult list = net.gap1.Cmd({"visit", "list", "--from", "2026-13-01"});
  CHECK(list.exit_code == 3);
  CHECK(list.err.find("--from: « 2026-13-01 » n'est pas une date") != std::string::npos);
}
