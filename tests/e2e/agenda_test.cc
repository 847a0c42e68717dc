// `relais agenda` through the built binary (issue 29, "Agenda"): an appointment, a session another
// laptop cancelled, a follow-up due and an overdue one, each on its day, after real syncs with
// `relais-central` (on SQLite and, as test_e2e_pg, on PostgreSQL); and the imports of permanences
// and visits, whose refusals change nothing. "Today" is fixed by libfaketime for the one command
// that reads it (SkewedJson), so that the test does not depend on the day it runs.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kWeek = "2027-W10";               // Monday 8 to Sunday 14 March 2027
const std::string kToday = "@2027-03-10 08:00:00";  // Wednesday of that week, as libfaketime takes it

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& bytes) {
  std::string path = dir / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// A file `relais import` must refuse, with what its error must say.
struct Refusal {
  std::string name, bytes, says;
};

// Each file refused (exit 3), saying what it must, and the replica unchanged.
void CheckRefused(Device& laptop, const TempDir& dir, const std::vector<Refusal>& refusals) {
  const std::string before = laptop.ContentHash();
  for (const Refusal& r : refusals) {
    INFO(r.name);
    RunResult refused = laptop.Cmd({"import", WriteFile(dir, r.name, r.bytes)});
    CHECK(refused.exit_code == 3);
    CHECK(Contains(refused.err, r.says));
    CHECK(laptop.ContentHash() == before);
  }
}

// The items of an agenda of `kind` about record `id`.
std::vector<json> ItemsAbout(const json& agenda, const std::string& kind, const std::string& id) {
  std::vector<json> out;
  for (const json& i : agenda["items"]) {
    if (i["kind"] == kind && i["record_id"] == id) out.push_back(i);
  }
  return out;
}

}  // namespace

TEST_CASE("the week's agenda shows each thing to do on its day, overdue first, after another laptop cancels a session",
          "[e2e][agenda]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device mine(dir, "veynes"), other(dir, "serres");
  mine.Init(central, central.Enrol("pae-veynes", {kGap}));
  other.Init(central, central.Enrol("pae-serres", {kGap}));

  const std::string partner = mine.Json({"contact", "add", "--organisation", "France Travail Gap"})["id"];
  const std::string martin = mine.Json({"case", "add", "--last-name", "Martin", "--first-name", "Élodie", "--phone",
                                        "0611223344", "--territory", kGap})["id"];
  const std::string roux =
      mine.Json({"case", "add", "--last-name", "Roux", "--first-name", "Maël", "--territory", kGap})["id"];
  const std::string wednesdays =
      mine.Json({"permanence", "add", "--organisation", partner, "--reception-point", "Mairie de Veynes", "--weekday",
                 "mercredi", "--start", "09:00", "--end", "12:00", "--from", "2027-03-01"})["id"];
  const std::string booked = mine.Json(
      {"appointment", "add", martin, "--permanence", wednesdays, "--date", "2027-03-10", "--time", "10:00"})["id"];
  const std::string at_place = mine.Json(
      {"appointment", "add", roux, "--date", "2027-03-11", "--time", "14:00", "--place", "Mairie de Serres"})["id"];
  // Martin: an entry followed up by a later one (not due), then one whose next action is past.
  const std::string followed = mine.Json({"followup", "add", martin, "--kind", "entretien", "--text", "Premier point",
                                          "--date", "2027-02-01", "--next", "2027-02-10"})["id"];
  const std::string overdue =
      mine.Json({"followup", "add", martin, "--kind", "orientation", "--text", "Rappeler pour l'atelier CV", "--date",
                 "2027-02-15", "--next", "2027-03-02"})["id"];
  // Roux: one due on Friday.
  const std::string due = mine.Json({"followup", "add", roux, "--kind", "entretien", "--text", "Envoyer la fiche",
                                     "--date", "2027-03-01", "--next", "2027-03-12"})["id"];
  mine.Sync();
  other.Sync();
  const json cancelled =
      other.Json({"permanence", "cancel", wednesdays, "--date", "2027-03-10", "--reason", "Conseillère absente"});
  REQUIRE(cancelled["call_back"].size() == 1);
  other.Sync();
  mine.Sync();

  const json agenda = SkewedJson(mine, kToday, {"agenda", "--week", kWeek});
  CHECK(agenda["from"] == "2027-03-08");
  CHECK(agenda["to"] == "2027-03-14");
  CHECK(agenda["today"] == "2027-03-10");
  // The overdue follow-up comes first, on its own date.
  REQUIRE(!agenda["items"].empty());
  CHECK(agenda["items"][0]["record_id"] == overdue);
  CHECK(agenda["items"][0]["overdue"] == true);
  CHECK(agenda["items"][0]["status"] == "en_retard");
  CHECK(agenda["items"][0]["date"] == "2027-03-02");
  CHECK(ItemsAbout(agenda, "suivi", followed).empty());

  const auto session = ItemsAbout(agenda, "permanence", wednesdays);
  REQUIRE(session.size() == 1);
  CHECK(session[0]["date"] == "2027-03-10");
  CHECK(session[0]["status"] == "annulee");
  CHECK(session[0]["bookings"] == 1);
  CHECK(Contains(session[0]["detail"], "ANNULÉE (Conseillère absente)"));

  const auto call_back = ItemsAbout(agenda, "rendez_vous", booked);
  REQUIRE(call_back.size() == 1);
  CHECK(call_back[0]["date"] == "2027-03-10");
  CHECK(call_back[0]["status"] == "a_rappeler");
  CHECK(call_back[0]["title"] == "Rendez-vous : Martin Élodie");

  const auto thursday = ItemsAbout(agenda, "rendez_vous", at_place);
  REQUIRE(thursday.size() == 1);
  CHECK(thursday[0]["date"] == "2027-03-11");
  CHECK(thursday[0]["time"] == "14:00");
  CHECK(thursday[0]["overdue"] == false);

  const auto friday = ItemsAbout(agenda, "suivi", due);
  REQUIRE(friday.size() == 1);
  CHECK(friday[0]["date"] == "2027-03-12");
  CHECK(friday[0]["status"] == "a_faire");
  CHECK(agenda["items"].size() == 5);
  // After the overdue ones, by day.
  for (size_t i = 2; i < agenda["items"].size(); ++i)
    CHECK(agenda["items"][i - 1]["date"] <= agenda["items"][i]["date"]);

  // Without --week: the week of today; read by people, in French.
  CHECK(SkewedJson(mine, kToday, {"agenda"}) == agenda);
  RunResult text = SkewedRun(mine, kToday, {"agenda"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK(Contains(text.out, "Agenda du lundi 8 mars 2027 au dimanche 14 mars 2027 (semaine 2027-W10)"));
  CHECK(Contains(text.out, "EN RETARD (1)"));
  CHECK(Contains(text.out, "Mercredi 10 mars 2027  ◀ AUJOURD'HUI"));
  CHECK(Contains(text.out, "Vendredi 12 mars 2027\n         Suivi à faire : Roux Maël"));
  CHECK(Contains(text.out, "Samedi 13 mars 2027\n  Rien de prévu."));
  CHECK(text.out.find("EN RETARD") < text.out.find("Lundi 8 mars 2027"));
}

TEST_CASE("a refused import of permanences or visits changes nothing; a French planning imports", "[e2e][agenda]") {
  TempDir dir;
  Device laptop(dir, "laptop");
  const std::string partner =
      laptop.Json({"contact", "add", "--organisation", "Mission locale"})["id"].get<std::string>();
  const std::string heading =
      "Organisme;Point d'accueil;Jour;Heure de début;Heure de fin;Fréquence;Date de début;"
      "Territoire\r\n";
  const std::string good = partner + ";Mairie de Veynes;mardi;09:00;12:00;2;2027-03-02;" + kGap + "\r\n";
  CheckRefused(laptop, dir, {
      {"fin-avant-debut.csv", heading + good + partner + ";PAE Serres;jeudi;14:00;13:00;1;2027-03-04;" + kGap + "\r\n",
       "ligne 3 : end_time: « 13:00 » doit être après le début"},
      {"organisme-inconnu.csv",
       heading + good + "0190a1b2-0000-7000-8000-000000009999;PAE Serres;jeudi;14:00;16:00;1;2027-03-04;" + kGap +
           "\r\n",
       "ligne 3 : organisation: « 0190a1b2-0000-7000-8000-000000009999 » n'est pas une fiche de l'annuaire"},
      {"jour.csv", heading + partner + ";PAE Serres;samedi;14:00;16:00;1;2027-03-04;" + kGap + "\r\n",
       "ligne 2 : weekday: « samedi »"},
      {"registre.csv",
       "Date de la visite;Canal;Mode;Motif;Territoire\n2027-03-02;accueil;flux;emploi;" + kGap +
           "\n2027-03-02;accueil;flux;cuisine;" + kGap + "\n",
       "ligne 3 : reasons: « cuisine » n'est pas une valeur permise"},
  });

  RunResult imported = laptop.Cmd({"import", WriteFile(dir, "planning.csv", heading + good)});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK(Contains(imported.out, "Importé : 1 permanence(s)"));
  const json visits = laptop.Json({"import", WriteFile(dir, "registre.jsonl",
                                                       "{\"date\":\"2027-03-02\",\"channel\":\"telephone\",\"mode\":"
                                                       "\"flux\",\"reasons\":\"emploi,mobilite\",\"territory\":\"" +
                                                           kGap + "\"}\n")});
  CHECK(visits["kind"] == "visits");
  CHECK(visits["imported"] == 1);
  const json week = laptop.Json({"permanence", "list", "--week", "2027-W09"});
  REQUIRE(week["sessions"].size() == 1);
  CHECK(week["sessions"][0]["date"] == "2027-03-02");

  // Exported as they were imported.
  RunResult exported = laptop.Cmd({"export", "--kind", "permanences"});
  REQUIRE(exported.exit_code == 0);
  CHECK(Contains(exported.out, "id,organisation,contact,reception_point,weekday,start_time,end_time,every_weeks,"));
  CHECK(Contains(exported.out, partner + ",,Mairie de Veynes,mardi,09:00,12:00,2,2027-03-02,," + kGap));
  RunResult appointments = laptop.Cmd({"export", "--kind", "appointments", "--format", "jsonl"});
  CHECK(appointments.exit_code == 0);
  CHECK(appointments.out.empty());
}

TEST_CASE("a planning names its partners as people do; a name that is not one partner is refused", "[e2e][agenda]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device laptop(dir, "laptop");
  laptop.Init(central, central.Enrol("pae-gap", {kGap}));
  const std::string mission = laptop.Json({"contact", "add", "--organisation", "Mission locale"})["id"];
  const std::string elodie = laptop.Json({"contact", "add", "--organisation", "Mission locale", "--last-name",
                                          "Lefèvre", "--first-name", "Élodie"})["id"];
  for (const char* office : {"Gap", "Embrun"}) {
    laptop.Json({"contact", "add", "--organisation", "Cap emploi", "--last-name", "Roux", "--first-name", "Léa",
                 "--commune", office});
  }
  // A spreadsheet's planning saved on a French system: Windows-1252 (è = E8, É = C9, é = E9), the
  // partners by name, without their accents or capitals at times.
  const std::string heading =
      "Organisme;Intervenant;Point d'accueil;Jour;Heure de d\xe9\x62ut;Heure de fin;Fr\xe9quence;Date de d\xe9\x62ut;"
      "Territoire\r\n";
  const std::string good = "mission locale;\xc9lodie Lef\xe8vre;Mairie de Veynes;mardi;09:00;12:00;2;2027-03-02;" +
                           kGap + "\r\n";
  const std::string rows = heading + good;
  CheckRefused(
      laptop, dir,
      {{"inconnu.csv", rows + "P\xf4le inconnu;;PAE Serres;jeudi;14:00;16:00;1;2027-03-04;" + kGap + "\r\n",
        "ligne 3 : organisation: « Pôle inconnu » n'est ni un identifiant ni un organisme de l'annuaire"},
       {"homonymes.csv", rows + "Cap emploi;L\xe9\x61 Roux;PAE Serres;jeudi;14:00;16:00;1;2027-03-04;" + kGap + "\r\n",
        "ligne 3 : contact: « Léa Roux » désigne plusieurs fiches de l'annuaire"},
       {"ailleurs.csv",
        rows + "Cap emploi;\xc9lodie Lef\xe8vre;PAE Serres;jeudi;14:00;16:00;1;2027-03-04;" + kGap + "\r\n",
        "ligne 3 : contact: « Élodie Lefèvre » n'est ni un identifiant ni une personne de l'annuaire des partenaires "
        "de cette base pour cet organisme"}});
  RunResult imported = laptop.Cmd({"import", WriteFile(dir, "planning.csv", heading + good)});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  const json stored = laptop.Json({"export", "--kind", "permanences", "--format", "jsonl"});
  CHECK(stored["organisation"] == mission);
  CHECK(stored["contact"] == elodie);

  // The same names on the command line.
  const json added = laptop.Json({"permanence", "add", "--organisation", "MISSION LOCALE", "--contact",
                                  "lefevre elodie", "--reception-point", "PAE Serres", "--weekday", "jeudi", "--start",
                                  "14:00", "--end", "16:00", "--from", "2027-03-04", "--territory", kGap});
  CHECK(added["organisation"] == mission);
  CHECK(added["contact"] == elodie);
}
