// End-to-end: work written offline on a case that then left the device's territories, or was merged
// into another, reaches the case where it now lives; and what the centre still refuses is readable
// and actionable on the device (`relais rejected`). Real `relais-central serve`, real `relais`.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `relais-central` at the centre's host, on the test's store.
RunResult CentralCmd(const Central& c, std::vector<std::string> args) {
  args.insert(args.begin(), CentralBinary());
  for (const std::string& a : c.StoreArgs()) args.push_back(a);
  return Run(args);
}

// Central staff merge the open duplicate conflict: the case created last goes into the other.
void MergeTheDuplicate(const Central& c) {
  RunResult open = CentralCmd(c, {"conflicts", "list", "--status", "open", "--json"});
  REQUIRE(open.exit_code == 0);
  json conflicts = json::parse(open.out);
  int64_t id = 0;
  for (const json& k : conflicts) {
    if (k["kind"] == "duplicate") id = k["id"].get<int64_t>();
  }
  REQUIRE(id > 0);
  RunResult merged = CentralCmd(c, {"conflicts", "merge", std::to_string(id), "--by", "claire-centre"});
  INFO(merged.out << merged.err);
  REQUIRE(merged.exit_code == 0);
}

std::string Text(const Device& d, const std::vector<std::string>& args) {
  RunResult r = d.Cmd(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("follow-ups and edits written offline on a case that then moved to another territory follow the case",
          "[e2e][rejected][moves]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device nevache(dir, "nevache"), hub(dir, "hub"), bastia(dir, "bastia");
  nevache.Init(central, central.Enrol("nevache", {kGap}));
  hub.Init(central, central.Enrol("hub", {kGap, kBastia}));
  bastia.Init(central, central.Enrol("bastia", {kBastia}));
  const std::string id = nevache.AddCase("Santoni", "Léa", kGap);
  nevache.Json({"followup", "add", id, "--kind", "accueil", "--text", "Premier accueil."});
  nevache.Sync();
  hub.Sync();

  // Offline at her permanence, the counsellor writes six follow-ups and edits the case, while the
  // person moves and the case goes to Bastia.
  for (int i = 1; i <= 6; ++i) {
    nevache.Json({"followup", "add", id, "--kind", "entretien", "--text", "Entretien n° " + std::to_string(i) + "."});
  }
  nevache.Json({"case", "edit", id, "--phone", "0611223344", "--notes", "Cherche un emploi saisonnier."});
  hub.Json({"case", "edit", id, "--territory", kBastia});
  hub.Sync();

  json synced = nevache.Sync();
  CHECK(synced["rejected"] == 0);
  CHECK(synced["pushed"] == 7);
  REQUIRE(synced["removed_cases"].size() == 1);
  CHECK(synced["removed_cases"][0]["case"] == id);
  CHECK(synced["removed_cases"][0]["name"] == "Santoni Léa");
  // Nothing left on the laptop, nothing learnt about the case's new life.
  CHECK(nevache.Json({"status"})["pending"] == 0);
  CHECK(Count(nevache.db(), "SELECT count(*) FROM cases") == 0);
  CHECK(Count(nevache.db(), "SELECT count(*) FROM followups") == 0);
  CHECK(Count(nevache.db(), "SELECT count(*) FROM outbox") == 0);
  CHECK(nevache.Json({"rejected", "list"}).empty());

  bastia.Sync();
  json shown = bastia.Show(id);
  CHECK(shown["territory"] == kBastia);
  CHECK(shown["followups"].size() == 7);
  CHECK(shown["phone"] == "0611223344");
  CHECK(shown["notes"] == "Cherche un emploi saisonnier.");
  CHECK(central.Count("SELECT count(*) FROM followups WHERE territory = '" + kBastia + "'") == 7);
}

TEST_CASE("the sync names each case that left, the territory it went to, its follow-ups and the work kept",
          "[e2e][rejected][moves]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  REQUIRE(CentralCmd(central, {"territory", "add", kBastia, "--label", "Pays bastiais"}).exit_code == 0);
  Device nevache(dir, "nevache"), gap(dir, "gap"), hub(dir, "hub");
  nevache.Init(central, central.Enrol("nevache", {kGap}));
  gap.Init(central, central.Enrol("gap", {kGap}));
  hub.Init(central, central.Enrol("hub", {kGap, kBastia}));
  const std::string id = nevache.AddCase("Santoni", "Léa", kGap);
  nevache.Json({"followup", "add", id, "--kind", "accueil", "--text", "Premier accueil."});
  nevache.Json({"followup", "add", id, "--kind", "entretien", "--text", "Entretien."});
  nevache.Sync();
  gap.Sync();
  hub.Sync();
  // An edit of nevache's the centre refused (say): it stays on her laptop, rejected.
  nevache.Json({"case", "edit", id, "--phone", "0611223344"});
  Exec(nevache.db(), "UPDATE outbox SET state = 'rejected', reject_reason = 'refusée' WHERE record_id = '" + id + "'");
  hub.Json({"case", "edit", id, "--territory", kBastia});
  hub.Sync();

  json synced = nevache.Sync();
  INFO(synced.dump());
  REQUIRE(synced["removed_cases"].size() == 1);
  const json& left = synced["removed_cases"][0];
  CHECK(left["case"] == id);
  CHECK(left["name"] == "Santoni Léa");
  CHECK(left["to"] == kBastia);
  CHECK(left["to_label"] == "Pays bastiais");
  CHECK(left["followups"] == 2);
  CHECK(left["rejected"] == 1);
  CHECK(Contains(left["message"].get<std::string>(), "refusées (voir relais rejected)"));
  json kept = nevache.Json({"rejected", "list"});
  REQUIRE(kept.size() == 1);
  CHECK(kept[0]["record"] == id);

  const std::string told = Text(gap, {"sync"});
  CHECK(Contains(told, "3 retirée(s)"));
  CHECK(Contains(told, "le dossier Santoni Léa (" + id +
                           ") est passé dans le territoire « Pays bastiais » : il a quitté cette base, et ses 2 "
                           "suivi(s) avec lui\n"));
}

TEST_CASE("a refused change is listed, shown whole in French, sent again, and given up only with a reason",
          "[e2e][rejected]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  central.Enrol("b", {kBastia});  // Bastia declared: the device knows it, the centre refuses it to a
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  const std::string id = a.AddCase("Dubois", "Zoé", kBastia);
  REQUIRE(a.Sync()["rejected"] == 1);

  json listed = a.Json({"rejected", "list"});
  REQUIRE(listed.size() == 1);
  const json& r = listed[0];
  CHECK(r["state"] == "rejected");
  CHECK(r["record"] == id);
  CHECK(r["case"] == id);
  CHECK(r["case_name"] == "Dubois Zoé");
  CHECK(r["what"] == "création du dossier");
  CHECK(Contains(r["reason"].get<std::string>(), kBastia));
  CHECK(r["code"] == "outside_scope");
  bool has_name = false;
  for (const json& f : r["fields"]) has_name = has_name || (f["field"] == "last_name" && f["value"] == "Dubois");
  CHECK(has_name);
  const std::string number = std::to_string(r["id"].get<int64_t>());

  const std::string table = Text(a, {"rejected"});
  CHECK(Contains(table, "Dubois Zoé (" + id + ")"));
  CHECK(Contains(table, "création du dossier"));
  const std::string shown = Text(a, {"rejected", "show", number});
  CHECK(Contains(shown, "Modification refusée n° " + number));
  CHECK(Contains(shown, "nom : « Dubois »"));
  CHECK(Contains(shown, "(code outside_scope)"));

  // Sent again: the centre answers it again.
  a.Json({"rejected", "retry", number});
  CHECK(a.Json({"status"})["rejected"] == 0);
  json again = a.Sync();
  CHECK(again["pushed"] == 1);
  CHECK(again["rejected"] == 1);

  // Refusals of the command change nothing.
  const std::string before = a.ContentHash();
  for (std::vector<std::string> args :
       {std::vector<std::string>{"rejected", "discard", number, "--reason", "  "},
        std::vector<std::string>{"rejected", "discard", number}, std::vector<std::string>{"rejected", "show", "999"},
        std::vector<std::string>{"rejected", "retry", "zzz"}}) {
    RunResult refused = a.Cmd(args);
    INFO(args[1] << ": " << refused.err);
    CHECK(refused.exit_code != 0);
    CHECK_FALSE(refused.err.empty());
  }
  CHECK(a.ContentHash() == before);

  const std::string again_number = std::to_string(a.Json({"rejected", "list"})[0]["id"].get<int64_t>());
  a.Json({"rejected", "discard", again_number, "--reason", "dossier créé par erreur dans le mauvais territoire"});
  CHECK(a.Json({"rejected", "list"}).empty());
  CHECK(a.Json({"status"})["rejected"] == 0);
  CHECK(a.Cmd({"case", "show", id}).exit_code == 4);  // the create never accepted is gone from the cases
  json kept = a.Json({"rejected", "list", "--all"});
  REQUIRE(kept.size() == 1);
  CHECK(kept[0]["state"] == "discarded");
  CHECK(kept[0]["discard_reason"] == "dossier créé par erreur dans le mauvais territoire");
  CHECK(kept[0]["case_name"] == "Dubois Zoé");

  const std::string file = dir / "refusees.json";
  a.Cmd({"rejected", "export", "--output", file});
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(file);
  json exported = json::parse(in);
  REQUIRE(exported.size() == 1);
  CHECK(exported[0]["change"] == kept[0]["change"]);
  CHECK(exported[0]["reason"] == kept[0]["reason"]);
}

TEST_CASE("edits of a case merged away while the device was offline reach the survivor through its rules",
          "[e2e][rejected][merges]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device nevache(dir, "nevache"), briancon(dir, "briancon");
  nevache.Init(central, central.Enrol("nevache", {kGap}));
  briancon.Init(central, central.Enrol("briancon", {kGap}));
  const std::string first =
      nevache.Json({"case", "add", "--last-name", "Lefèvre", "--first-name", "Élodie", "--birth-date", "1990-04-12",
                    "--territory", kGap, "--status", "demandeur_emploi"})["id"];
  nevache.Sync();
  const std::string second =
      briancon.Json({"case", "add", "--last-name", "LEFEVRE", "--first-name", "Elodie", "--birth-date", "1990-04-12",
                     "--territory", kGap, "--status", "demandeur_emploi"})["id"];
  briancon.Sync();
  nevache.Sync();

  // Offline in Briançon: phone (last writer wins), status (central review) and notes on the second.
  briancon.Json({"case", "edit", second, "--phone", "0699887766", "--status", "salarie", "--notes", "Vu à Briançon."});
  // Meanwhile the first's status changes, and central staff merge the second into the first.
  nevache.Json({"case", "edit", first, "--status", "retraite"});
  nevache.Sync();
  MergeTheDuplicate(central);

  json synced = briancon.Sync();
  CHECK(synced["rejected"] == 0);
  CHECK(synced["conflicts"] == 1);  // the status, as if written on the survivor
  CHECK(briancon.Json({"status"})["pending"] == 0);
  // The survivor took the edits; the redirect kept its values.
  CHECK(central.Rows("SELECT phone, notes, status FROM cases WHERE id = '" + first + "'") ==
        std::vector<std::string>{"0699887766|Vu à Briançon.|retraite"});
  CHECK(central.Rows("SELECT coalesce(phone, '-') FROM cases WHERE id = '" + second + "'") ==
        std::vector<std::string>{"-"});
  CHECK(central.Rows("SELECT record_id, field, device_value FROM conflicts WHERE kind = 'field'") ==
        std::vector<std::string>{first + "|status|salarie"});
  // The device learns the outcome: both cases as the centre holds them.
  json shown = briancon.Show(second);
  CHECK(shown["id"] == first);
  CHECK(shown["phone"] == "0699887766");
  CHECK(QueryText(briancon.db(), "SELECT coalesce(phone, '-') FROM cases WHERE id = '" + second + "'") == "-");
  nevache.Sync();
  CHECK(nevache.Show(first)["phone"] == "0699887766");
}

TEST_CASE("edits and follow-ups of a case merged into one of another territory go to the survivor unnamed",
          "[e2e][rejected][merges]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device nevache(dir, "nevache"), bastia(dir, "bastia");
  nevache.Init(central, central.Enrol("nevache", {kGap}));
  bastia.Init(central, central.Enrol("bastia", {kBastia}));
  const std::string survivor = bastia.Json({"case", "add", "--last-name", "Santini", "--first-name", "Paul",
                                            "--birth-date", "1985-02-03", "--territory", kBastia})["id"];
  bastia.Sync();
  const std::string absorbed = nevache.Json({"case", "add", "--last-name", "Santini", "--first-name", "Paul",
                                             "--birth-date", "1985-02-03", "--territory", kGap})["id"];
  nevache.Sync();

  nevache.Json({"case", "edit", absorbed, "--phone", "0611000000"});
  nevache.Json({"followup", "add", absorbed, "--kind", "entretien", "--text", "Entretien à Névache."});
  MergeTheDuplicate(central);

  // Nothing of the survivor's territory is told (the redirect itself names the survivor's id: that
  // is the settlement's notice, not this push's answer).
  const std::string told = Text(nevache, {"sync"});
  CHECK(Contains(told, "en conflit : 1 modification(s)"));
  CHECK_FALSE(Contains(told, kBastia));
  CHECK(nevache.Json({"status"})["pending"] == 0);
  CHECK(nevache.Json({"status"})["rejected"] == 0);
  // The phone waits for central review on the survivor; the follow-up lives there.
  CHECK(central.Rows("SELECT record_id, field, device_value FROM conflicts WHERE kind = 'field'") ==
        std::vector<std::string>{survivor + "|phone|0611000000"});
  CHECK(central.Count("SELECT count(*) FROM followups WHERE case_id = '" + survivor + "'") == 1);
  // The laptop keeps nothing of the survivor.
  CHECK(Count(nevache.db(), "SELECT count(*) FROM cases WHERE id = '" + survivor + "'") == 0);
  CHECK(Count(nevache.db(), "SELECT count(*) FROM followups") == 0);
  CHECK(Count(nevache.db(), "SELECT count(*) FROM conflicts WHERE field IS NOT NULL") == 0);
  bastia.Sync();
  CHECK(bastia.Show(survivor)["followups"].size() == 1);
}
