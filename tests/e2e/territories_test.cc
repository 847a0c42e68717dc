// Territories declared at the centre, transfers of cases between them, and what a device may learn
// of the cases outside its territories (issue 24, items 9 and 10). Real `relais-central` and
// `relais`, on SQLite and, as test_e2e_pg, on PostgreSQL.
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
const std::string kBastia = "corse-bastia";

// `relais-central ARGS… --db|--store …`.
RunResult CentralCmd(const Central& central, std::vector<std::string> args) {
  args.insert(args.begin(), CentralBinary());
  for (const std::string& a : central.StoreArgs()) args.push_back(a);
  return Run(args);
}

json CentralJson(const Central& central, std::vector<std::string> args) {
  args.push_back("--json");
  RunResult r = CentralCmd(central, args);
  INFO("relais-central " << args.front() << " failed: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A centre with a counsellor's laptop in Gap and one in Bastia, each bound after both territories
// are declared (enrolment declares them).
struct GapAndBastia {
  GapAndBastia() : central(dir.path()), gap(dir, "gap"), bastia(dir, "bastia") {
    central.Start();
    const std::string gap_token = central.Enrol("pae-gap", {kGap});
    const std::string bastia_token = central.Enrol("pae-bastia", {kBastia});
    gap.Init(central, gap_token);
    bastia.Init(central, bastia_token);
  }
  TempDir dir;
  Central central;
  Device gap, bastia;
};

// The reason the centre gave for the one rejected change of a `relais sync --json`.
std::string OnlyRejection(const json& sync) {
  REQUIRE(sync["rejections"].size() == 1);
  return sync["rejections"][0]["reason"].get<std::string>();
}

// Makes `device` hold a case row `id` it never pulled, then edits it: the update goes to the centre
// as if the device had learnt the id. Returns the reason of the rejection.
std::string PushEditOf(const Device& device, const std::string& id) {
  Exec(device.db(), "INSERT INTO cases(id, version, last_name, first_name, opened_on, territory) VALUES ('" + id +
                        "', 1, 'SANTINI', 'Paul', '2026-11-02', '" + kGap + "')");
  REQUIRE(device.Cmd({"case", "edit", id, "--phone", "0611223344"}).exit_code == 0);
  return OnlyRejection(device.Sync());
}

}  // namespace

TEST_CASE("a duplicate of a case of another territory goes to central staff, and the device learns nothing of it",
          "[e2e][territories]") {
  GapAndBastia net;
  const std::string other = net.bastia.Json({"case", "add", "--last-name", "SANTINI", "--first-name", "Paul",
                                             "--birth-date", "1985-02-03", "--territory", kBastia})["id"];
  net.bastia.Sync();
  const std::string created = net.gap.Json({"case", "add", "--last-name", "Santini", "--first-name", "Paul",
                                            "--birth-date", "1985-02-03", "--territory", kGap})["id"];
  const json pushed = net.gap.Sync();
  const json pulled = net.gap.Sync();

  // Central staff see both cases.
  json staff = CentralJson(net.central, {"conflicts", "list"});
  REQUIRE(staff.size() == 1);
  CHECK(staff[0]["kind"] == "duplicate");
  CHECK(staff[0]["record"] == created);
  CHECK(staff[0]["other"] == other);
  CHECK(staff[0]["other_territory"] == kBastia);

  // The device is told that the centre checks, and nothing of the other case: not its id, not its
  // territory — in the sync's answers, its list of conflicts, or anywhere in its replica.
  json notices = net.gap.Json({"conflicts"});
  REQUIRE(notices.size() == 1);
  CHECK(notices[0]["kind"] == "duplicate");
  CHECK(notices[0]["other"].is_null());
  CHECK(Contains(net.gap.Cmd({"conflicts"}).out, "vérifié par le centre"));
  json opened = pushed["opened"].empty() ? pulled["opened"] : pushed["opened"];
  REQUIRE(opened.size() == 1);
  CHECK(Contains(opened[0]["message"].get<std::string>(), "le centre vérifie"));
  for (const std::string& seen : {pushed.dump(), pulled.dump(), notices.dump(), net.gap.Show(created).dump(),
                                  net.gap.Cmd({"case", "show", created}).out}) {
    CHECK_FALSE(Contains(seen, other));
    CHECK_FALSE(Contains(seen, kBastia));
  }
  CHECK_FALSE(Contains(relais::testing::SqliteContent(net.gap.db()), other));
  CHECK(Count(net.gap.db(), "SELECT count(*) FROM conflicts WHERE other_id IS NOT NULL AND other_id <> ''") == 0);

  // An edit pushed to that id is refused exactly as an edit of an id nobody holds: the reason
  // names no territory, and the two refusals cannot be told apart.
  const std::string unknown = "0190a1b2-0000-7000-8000-00000000dead";
  const std::string out_of_scope = PushEditOf(net.gap, other);
  const std::string never_existed = PushEditOf(net.gap, unknown);
  CHECK_FALSE(Contains(out_of_scope, kBastia));
  CHECK(Contains(out_of_scope, other));
  std::string as_unknown = out_of_scope;
  as_unknown.replace(as_unknown.find(other), other.size(), unknown);
  CHECK(as_unknown == never_existed);
}

TEST_CASE("a case can only be moved to a declared territory: refused at the edit, rejected by the centre",
          "[e2e][territories]") {
  GapAndBastia net;
  const std::string id = net.gap.AddCase("Roux", "Inès", kGap);
  net.gap.Sync();

  // The device knows the list: refused at once, naming the territories it may choose.
  const std::string before = net.gap.ContentHash();
  RunResult refused = net.gap.Cmd({"case", "edit", id, "--territory", "nulle-part"});
  CHECK(refused.exit_code == 3);
  CHECK(Contains(refused.err, "nulle-part"));
  CHECK(Contains(refused.err, kGap));
  CHECK(Contains(refused.err, kBastia));
  CHECK(net.gap.ContentHash() == before);
  CHECK(net.gap.Cmd({"case", "add", "--last-name", "A", "--first-name", "B", "--territory", "nulle-part"}).exit_code ==
        3);

  // A device that does not know the list (a replica from before it): the centre rejects the move.
  Exec(net.gap.db(), "DELETE FROM sync_state WHERE key = 'declared_territories'");
  REQUIRE(net.gap.Cmd({"case", "edit", id, "--territory", "nulle-part"}).exit_code == 0);
  const std::string reason = OnlyRejection(net.gap.Sync());
  CHECK(Contains(reason, "nulle-part"));
  CHECK(Contains(reason, "déclaré"));
  CHECK(net.central.Rows("SELECT territory FROM cases WHERE id = '" + id + "'") == std::vector<std::string>{kGap});
  // The sync taught it the list again.
  json territories = net.gap.Json({"territories"});
  REQUIRE(territories.size() == 2);
  CHECK(territories[0]["code"] == kBastia);
  CHECK(territories[1]["code"] == kGap);
  CHECK(territories[1]["mine"] == true);
}

TEST_CASE("territories are declared with their reception points and renamed by label, and devices learn them",
          "[e2e][territories]") {
  GapAndBastia net;
  json added =
      CentralJson(net.central, {"territory", "add", "alpes-briancon", "--label", "Briançonnais", "--reception-point",
                                "PAE Névache", "--reception-point", "Mairie de Briançon"});
  CHECK(added["code"] == "alpes-briancon");
  CHECK(CentralCmd(net.central, {"territory", "add", "alpes-briancon", "--label", "Encore"}).exit_code == 3);
  CHECK(CentralCmd(net.central, {"territory", "add", " espace", "--label", "X"}).exit_code == 3);
  REQUIRE(CentralCmd(net.central, {"territory", "rename", kGap, "--label", "Gapençais"}).exit_code == 0);
  CHECK(CentralCmd(net.central, {"territory", "rename", "inconnu", "--label", "X"}).exit_code == 4);

  json listed = CentralJson(net.central, {"territory", "list"});
  REQUIRE(listed["territories"].size() == 3);
  CHECK(listed["territories"][0]["code"] == "alpes-briancon");
  CHECK(listed["territories"][0]["reception_points"] == json({"Mairie de Briançon", "PAE Névache"}));
  CHECK(listed["territories"][2]["label"] == "Gapençais");
  CHECK(listed["transfers"] == "allow");

  net.gap.Sync();
  json learnt = net.gap.Json({"territories"});
  REQUIRE(learnt.size() == 3);
  CHECK(learnt[0]["label"] == "Briançonnais");
  CHECK(learnt[2]["code"] == kGap);  // the code stays: the cases that carry it are untouched
  CHECK(learnt[2]["label"] == "Gapençais");
  CHECK(Contains(net.gap.Cmd({"territories"}).out, "PAE Névache"));
}

TEST_CASE("a case moved out of the device's territories is a transfer that staff see in history",
          "[e2e][territories]") {
  GapAndBastia net;
  const std::string id = net.gap.AddCase("Girard", "Maël", kGap);
  net.gap.Sync();
  REQUIRE(net.gap.Json({"case", "edit", id, "--territory", kBastia})["territory"] == kBastia);
  json sync = net.gap.Sync();
  CHECK(sync["applied"] == 1);
  CHECK(net.gap.CaseCount() == 0);  // it left this device
  net.bastia.Sync();
  CHECK(net.bastia.Show(id)["territory"] == kBastia);

  json history = CentralJson(net.central, {"history", id});
  REQUIRE(history.size() == 2);
  CHECK_FALSE(history[0].contains("transfer"));
  CHECK(history[1]["transfer"] == json({{"from", kGap}, {"to", kBastia}}));
  CHECK(history[1]["device"] == "pae-gap");
  CHECK(Contains(CentralCmd(net.central, {"history", id}).out, "transfert : de " + kGap + " vers " + kBastia));
}

TEST_CASE("when transfers are reviewed, a move waits for central staff, who approve or refuse it",
          "[e2e][territories]") {
  GapAndBastia net;
  REQUIRE(CentralCmd(net.central, {"territory", "policy", "--transfers", "review"}).exit_code == 0);
  CHECK(CentralCmd(net.central, {"territory", "policy", "--transfers", "maybe"}).exit_code == 2);
  const std::string approved = net.gap.AddCase("Dubois", "Zoé", kGap);
  const std::string refused = net.gap.AddCase("Martin", "Luc", kGap);
  net.gap.Sync();
  net.gap.Json({"case", "edit", approved, "--territory", kBastia, "--phone", "0611223344"});
  net.gap.Json({"case", "edit", refused, "--territory", kBastia});
  json sync = net.gap.Sync();
  CHECK(sync["conflicts"] == 2);
  CHECK(sync["rejected"] == 0);

  // Nothing moved yet: the cases stay in Gap, on the centre and on the device (the phone edit went
  // through).
  CHECK(net.central.Rows("SELECT territory, phone FROM cases WHERE id = '" + approved + "'") ==
        std::vector<std::string>{kGap + "|0611223344"});
  net.gap.Sync();
  CHECK(net.gap.Show(approved)["territory"] == kGap);
  CHECK(net.gap.Show(refused)["territory"] == kGap);
  net.bastia.Sync();
  CHECK(net.bastia.CaseCount() == 0);

  json waiting = CentralJson(net.central, {"conflicts", "list"});
  REQUIRE(waiting.size() == 2);
  int64_t approve_id = 0, refuse_id = 0;
  for (const json& c : waiting) {
    CHECK(c["field"] == "territory");
    CHECK(c["server"] == kGap);
    CHECK(c["device_value"] == kBastia);
    (c["record"] == approved ? approve_id : refuse_id) = c["id"].get<int64_t>();
  }
  REQUIRE(approve_id > 0);
  REQUIRE(refuse_id > 0);
  CHECK(Contains(CentralCmd(net.central, {"history", approved}).out, "transfert en attente d'approbation"));

  REQUIRE(CentralCmd(net.central, {"conflicts", "resolve", std::to_string(approve_id), "--keep", "device"}).exit_code ==
          0);
  REQUIRE(CentralCmd(net.central, {"conflicts", "resolve", std::to_string(refuse_id), "--keep", "server"}).exit_code ==
          0);
  json history = CentralJson(net.central, {"history", approved});
  CHECK(history.back()["transfer"] == json({{"from", kGap}, {"to", kBastia}}));
  CHECK(Contains(history.back()["device"].get<std::string>(), "central:"));

  net.gap.Sync();
  CHECK(net.gap.Cmd({"case", "show", approved}).exit_code == 4);
  CHECK(net.gap.Show(refused)["territory"] == kGap);
  net.bastia.Sync();
  CHECK(net.bastia.Show(approved)["territory"] == kBastia);
  CHECK(net.bastia.CaseCount() == 1);
}

TEST_CASE("a case's reception point is one its territory declares: refused at the edit, rejected by the centre",
          "[e2e][territories][reception_points]") {
  GapAndBastia net;
  // Staff declare Gap's points after enrolment declared the territory without any, then change them.
  RunResult none = CentralCmd(net.central, {"territory", "points", kGap});
  CHECK(none.exit_code == 2);
  CHECK(CentralCmd(net.central, {"territory", "points", "inconnu", "--add", "X"}).exit_code == 4);
  json points = CentralJson(net.central, {"territory", "points", kGap, "--add", "PAE Gap", "--add", "Mairie de Veynes",
                                          "--add", "Ancien guichet"});
  CHECK(points["reception_points"] == json({"Ancien guichet", "Mairie de Veynes", "PAE Gap"}));
  // A case of Bastia, which declares no point, takes any; one of Gap keeps a point later removed.
  const std::string kept = net.gap.Json({"case", "add", "--last-name", "Blanc", "--first-name", "Ana", "--territory",
                                         kGap, "--reception-point", "Ancien guichet"})["id"];
  net.gap.Sync();
  points = CentralJson(net.central, {"territory", "points", kGap, "--remove", "Ancien guichet"});
  CHECK(points["reception_points"] == json({"Mairie de Veynes", "PAE Gap"}));
  CHECK(CentralCmd(net.central, {"territory", "points", kGap, "--remove", "Nulle part"}).exit_code == 4);
  CHECK(CentralJson(net.central, {"territory", "list"})["territories"][1]["reception_points"] ==
        json({"Mairie de Veynes", "PAE Gap"}));
  net.gap.Sync();  // learns the points

  // The device knows them: an undeclared point is refused at once, naming the declared ones, and
  // nothing changes.
  const std::string before = net.gap.ContentHash();
  RunResult refused = net.gap.Cmd({"case", "add", "--last-name", "Roux", "--first-name", "Inès", "--territory", kGap,
                                   "--reception-point", "Gare de Gap"});
  CHECK(refused.exit_code == 3);
  CHECK(Contains(refused.err, "Gare de Gap"));
  CHECK(Contains(refused.err, "Mairie de Veynes"));
  CHECK(Contains(refused.err, "PAE Gap"));
  CHECK(net.gap.Cmd({"case", "edit", kept, "--reception-point", "Gare de Gap"}).exit_code == 3);
  CHECK(net.gap.ContentHash() == before);
  // Declared, empty, or kept as it is: taken.
  const std::string id = net.gap.Json({"case", "add", "--last-name", "Roux", "--first-name", "Inès", "--territory",
                                       kGap, "--reception-point", "PAE Gap"})["id"];
  CHECK(net.gap.Json({"case", "edit", kept, "--phone", "0611223344"})["reception_point"] == "Ancien guichet");
  CHECK(net.gap.Cmd({"case", "edit", id, "--clear", "reception_point"}).exit_code == 0);
  REQUIRE(net.gap.Cmd({"case", "edit", id, "--reception-point", "Mairie de Veynes"}).exit_code == 0);
  json synced = net.gap.Sync();
  CHECK(synced["rejected"] == 0);
  CHECK(net.central.Rows("SELECT reception_point FROM cases WHERE id = '" + kept + "'") ==
        std::vector<std::string>{"Ancien guichet"});
  // A move checks the point against the new territory: Bastia declares none, so any is taken.
  CHECK(net.gap.Cmd({"case", "edit", kept, "--territory", kBastia}).exit_code == 0);
  CHECK(net.gap.Sync()["rejected"] == 0);
  CHECK(net.central.Rows("SELECT territory FROM cases WHERE id = '" + kept + "'") == std::vector<std::string>{kBastia});
  REQUIRE(CentralCmd(net.central, {"territory", "points", kBastia, "--add", "PAE Bastia"}).exit_code == 0);
  net.bastia.Sync();
  const std::string moving = net.bastia.Json({"case", "add", "--last-name", "Costa", "--first-name", "Jean",
                                              "--territory", kBastia, "--reception-point", "PAE Bastia"})["id"];
  net.bastia.Sync();
  RunResult move = net.bastia.Cmd({"case", "edit", moving, "--territory", kGap});
  CHECK(move.exit_code == 3);
  CHECK(Contains(move.err, "PAE Bastia"));
  CHECK(Contains(move.err, "PAE Gap"));
  CHECK(net.bastia.Cmd({"case", "edit", moving, "--territory", kGap, "--reception-point", "PAE Gap"}).exit_code == 0);
  CHECK(net.bastia.Sync()["rejected"] == 0);

  // A device that does not know the points (a replica from before them): the centre rejects each
  // write of an undeclared point, and a move whose point the new territory lacks; the device keeps
  // them as rejected, with the code.
  net.gap.Sync();
  const std::string bastia_case = net.gap.Json({"case", "add", "--last-name", "Moretti", "--first-name", "Paul",
                                                "--territory", kGap, "--reception-point", "PAE Gap"})["id"];
  net.gap.Sync();
  Exec(net.gap.db(), "DELETE FROM sync_state WHERE key = 'declared_territories'");
  const std::string created = net.gap.Json({"case", "add", "--last-name", "Petit", "--first-name", "Léa",
                                            "--territory", kGap, "--reception-point", "Gare de Gap"})["id"];
  REQUIRE(net.gap.Cmd({"case", "edit", moving, "--reception-point", "Gare de Gap"}).exit_code == 0);
  REQUIRE(net.gap.Cmd({"case", "edit", bastia_case, "--territory", kBastia}).exit_code == 0);
  const std::string centre_before = net.central.Rows("SELECT count(*) FROM history").at(0);
  json rejected = net.gap.Sync();
  CHECK(rejected["rejected"] == 3);
  CHECK(net.central.Rows("SELECT count(*) FROM history").at(0) == centre_before);
  CHECK(net.central.Count("SELECT count(*) FROM cases WHERE id = '" + created + "'") == 0);
  CHECK(net.central.Rows("SELECT reception_point, territory FROM cases WHERE id = '" + moving + "'") ==
        std::vector<std::string>{"PAE Gap|" + kGap});
  CHECK(net.central.Rows("SELECT territory FROM cases WHERE id = '" + bastia_case + "'") ==
        std::vector<std::string>{kGap});
  json listed = net.gap.Json({"rejected", "list"});
  INFO(listed.dump(1));
  REQUIRE(listed.size() == 3);
  for (const json& r : listed) {
    CHECK(r["code"] == "unknown_reception_point");
    const std::string reason = r["reason"].get<std::string>();
    CHECK(Contains(reason, "point d'accueil"));
    CHECK(Contains(reason, r["record"] == bastia_case ? "PAE Bastia" : "Mairie de Veynes"));
  }
}

TEST_CASE("an import is checked for reception points as case add is: one undeclared point refuses the whole file",
          "[e2e][territories][reception_points]") {
  GapAndBastia net;
  REQUIRE(CentralCmd(net.central, {"territory", "points", kGap, "--add", "PAE Gap"}).exit_code == 0);
  net.gap.Sync();  // learns the points
  const std::string before = net.gap.ContentHash();
  const std::string file = net.dir / "import.csv";
  {
    std::ofstream out(file);
    out << "last_name,first_name,opened_on,territory,reception_point\n"
        << "Roux,Inès,2026-11-02," << kGap << ",PAE Gap\n"
        << "Blanc,Ana,2026-11-02," << kGap << ",\n"
        << "Costa,Jean,2026-11-02," << kBastia << ",Où que ce soit\n"
        << "Girard,Zoé,2026-11-02," << kGap << ",Gare de Gap\n";
  }
  RunResult refused = net.gap.Cmd({"import", file});
  CHECK(refused.exit_code == 3);
  CHECK(Contains(refused.err, "ligne 5"));
  CHECK(Contains(refused.err, "Gare de Gap"));
  CHECK(Contains(refused.err, "PAE Gap"));
  CHECK(net.gap.ContentHash() == before);
  // A declared point, or none: the file is imported.
  {
    std::ofstream out(file);
    out << "last_name,first_name,opened_on,territory,reception_point\n"
        << "Roux,Inès,2026-11-02," << kGap << ",PAE Gap\n"
        << "Blanc,Ana,2026-11-02," << kGap << ",\n";
  }
  RunResult imported = net.gap.Cmd({"import", file});
  INFO(imported.err);
  CHECK(imported.exit_code == 0);
  CHECK(net.gap.CaseCount() == 2);
}
