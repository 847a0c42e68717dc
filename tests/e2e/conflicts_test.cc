// End-to-end conflicts on the device side: what a counsellor is told and shown when central staff
// must settle an edit or a probable duplicate, and when they did. Real `relais-central serve`, real
// `relais` replicas; central staff act with `relais-central conflicts … --db central.db`.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/run.h"
#include "tests/sqlite_content.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";

// A counsellor's laptop: a replica file driven through the `relais` binary.
class Laptop {
 public:
  Laptop(const TempDir& dir, std::string name) : name_(std::move(name)), db_(dir / (name_ + ".db")) {}

  RunResult Cmd(std::vector<std::string> args) const {
    std::vector<std::string> argv = {RelaisBinary(), "--db", db_};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  }
  json Json(std::vector<std::string> args) const {
    args.push_back("--json");
    RunResult r = Cmd(args);
    INFO("relais " << args.front() << " failed: " << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }
  std::string Text(std::vector<std::string> args) const {
    RunResult r = Cmd(args);
    INFO("relais " << args.front() << " failed: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
  void Init(Central& c) {
    RunResult r = Cmd({"init", "--server", c.url(), "--token", c.Enrol(name_, {kGap})});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  json Sync() const { return Json({"sync"}); }
  json Show(const std::string& id) const { return Json({"case", "show", id}); }
  std::string AddCase(const std::string& last, const std::string& first, const std::string& birth = "") const {
    std::vector<std::string> args = {"case", "add",         "--last-name", last,       "--first-name",
                                     first,  "--territory", kGap,          "--status", "demandeur_emploi"};
    if (!birth.empty()) args.insert(args.end(), {"--birth-date", birth});
    return Json(args)["id"].get<std::string>();
  }
  void AddFollowup(const std::string& case_id, const std::string& text) const {
    Json({"followup", "add", case_id, "--kind", "entretien", "--text", text});
  }
  // Another laptop holding a copy of this replica (same device, same token), to see one pull twice.
  Laptop Copy(const TempDir& dir, const std::string& copy_name) const {
    Laptop copy(dir, name_);
    copy.db_ = dir / (copy_name + ".db");
    std::filesystem::copy_file(db_, copy.db_);
    if (std::filesystem::exists(db_ + "-wal")) std::filesystem::copy_file(db_ + "-wal", copy.db_ + "-wal");
    return copy;
  }
  const std::string& name() const { return name_; }
  // SHA-256 of every row of every table of the replica: what a refused command leaves as it was.
  std::string ContentHash() const { return relais::testing::SqliteContentHash(db_); }

 private:
  std::string name_;
  std::string db_;
};

// Central staff at the centre's host.
class Staff {
 public:
  explicit Staff(const Central& c) : store_args_(c.StoreArgs()) {}
  RunResult Cmd(std::vector<std::string> args) const {
    std::vector<std::string> argv = {CentralBinary(), "conflicts"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), store_args_.begin(), store_args_.end());
    return Run(argv);
  }
  json Open() const {
    RunResult r = Cmd({"list", "--status", "open", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }
  RunResult History(const std::string& record_id) const {
    std::vector<std::string> argv = {CentralBinary(), "history", record_id};
    argv.insert(argv.end(), store_args_.begin(), store_args_.end());
    return Run(argv);
  }
  void Settle(std::vector<std::string> args) const {
    args.insert(args.end(), {"--by", "claire-centre"});
    RunResult r = Cmd(args);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }

 private:
  std::vector<std::string> store_args_;
};

// Two counsellors of the same territory and their centre; both laptops hold case "Girard Maël".
struct TwoLaptops {
  TwoLaptops() : central(dir.path()), nevache(dir, "pae-nevache"), briancon(dir, "pae-briancon"), staff(central) {
    central.Start();
    nevache.Init(central);
    briancon.Init(central);
  }
  TempDir dir;
  Central central;
  Laptop nevache, briancon;
  Staff staff;
};

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE(
    "an edit held for review is told to its author, listed, marked, and its settlement flows back to every device",
    "[e2e][conflicts]") {
  TwoLaptops w;
  std::string id = w.nevache.AddCase("Girard", "Maël");
  w.nevache.Sync();
  w.briancon.Sync();

  // Offline, the same week: two permanences change the same person's status.
  w.briancon.Json({"case", "edit", id, "--status", "salarie"});
  w.nevache.Json({"case", "edit", id, "--status", "independant"});
  CHECK(w.briancon.Sync()["conflicts_opened"] == 0);
  json told = w.nevache.Sync();
  CHECK(told["conflicts"] == 1);  // the push's own answer: held for review
  CHECK(told["conflicts_opened"] == 1);
  CHECK(told["conflicts_settled"] == 0);
  REQUIRE(told["opened"].size() == 1);
  std::string sentence = told["opened"][0]["message"].get<std::string>();
  INFO(sentence);
  CHECK(Contains(sentence,
                 "Votre saisie du champ statut du dossier Girard Maël est en attente d'arbitrage par le centre"));
  CHECK(Contains(sentence, "« indépendant » (vous) / « salarié » (pae-briancon)"));
  for (const char* key : {"pushed", "pulled", "rejected", "merged", "removed", "bytes_sent", "bytes_received",
                          "requests", "seconds", "rejections", "settlements"}) {
    CHECK(told.contains(key));
  }

  // The author's laptop lists the conflict and marks the field; the centre's value stands meanwhile.
  json listed = w.nevache.Json({"conflicts"});
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["kind"] == "field");
  CHECK(listed[0]["status"] == "open");
  CHECK(listed[0]["table"] == "cases");
  CHECK(listed[0]["record"] == id);
  CHECK(listed[0]["field"] == "status");
  CHECK(listed[0]["server_value"] == "salarie");
  CHECK(listed[0]["device_value"] == "independant");
  CHECK(listed[0]["device"] == "pae-nevache");
  std::string table = w.nevache.Text({"conflicts"});
  CHECK(Contains(table, "Girard Maël"));
  CHECK(Contains(table, "statut"));
  CHECK(Contains(table, "« indépendant »"));
  CHECK(w.briancon.Sync()["conflicts_opened"] == 0);  // not its edit, but every device of the scope sees it
  CHECK(w.briancon.Json({"conflicts"}).size() == 1);

  json shown = w.nevache.Show(id);
  CHECK(shown["status"] == "salarie");
  REQUIRE(shown["under_review"].size() == 1);
  CHECK(shown["under_review"][0]["field"] == "status");
  CHECK(shown["under_review"][0]["server_value"] == "salarie");
  CHECK(shown["under_review"][0]["device_value"] == "independant");
  CHECK(shown["under_review"][0]["device"] == "pae-nevache");
  CHECK(shown["under_review"][0]["conflict"] == listed[0]["id"]);
  std::string human = w.nevache.Text({"case", "show", id});
  CHECK(Contains(human, "(!) en attente d'arbitrage"));
  CHECK(Contains(human, "valeur du centre   « salarié » (pae-briancon)"));
  CHECK(Contains(human, "valeur en attente  « indépendant » (pae-nevache)"));

  // Central staff keep the device's value. Their tables read values in words, as the devices' do.
  json open = w.staff.Open();
  REQUIRE(open.size() == 1);
  CHECK(open[0]["id"] == listed[0]["id"]);
  CHECK(open[0]["device_value"] == "independant");  // codes for scripts
  RunResult staff_list = w.staff.Cmd({"list"});
  INFO(staff_list.out);
  CHECK(Contains(staff_list.out, "indépendant (pae-nevache)"));
  CHECK(Contains(staff_list.out, "salarié (pae-briancon)"));
  RunResult staff_show = w.staff.Cmd({"show", std::to_string(open[0]["id"].get<int64_t>())});
  INFO(staff_show.out);
  CHECK(Contains(staff_show.out, "valeur tenue pour arbitrage : status = indépendant (par pae-nevache"));
  w.staff.Settle({"resolve", std::to_string(open[0]["id"].get<int64_t>()), "--keep", "device"});

  RunResult history = w.staff.History(id);
  INFO(history.out << history.err);
  REQUIRE(history.exit_code == 0);
  CHECK(Contains(history.out, "status : salarié → indépendant"));
  CHECK(Contains(history.out, "valeur écartée : status = salarié (par pae-briancon"));

  Laptop same_laptop = w.nevache.Copy(w.dir, "pae-nevache-copy");
  std::string news = same_laptop.Text({"sync"});
  INFO(news);
  CHECK(Contains(news,
                 "Arbitrage du centre : statut du dossier Girard Maël — valeur retenue « indépendant » (la vôtre)"));
  json settled = w.nevache.Sync();
  CHECK(settled["conflicts_settled"] == 1);
  CHECK(settled["conflicts_opened"] == 0);
  REQUIRE(settled["settlements"].size() == 1);
  CHECK(settled["settlements"][0]["settlement"] == "device");
  CHECK(settled["settlements"][0]["settled_value"] == "independant");
  CHECK(w.briancon.Sync()["conflicts_settled"] == 0);  // not the author of the held value

  for (const Laptop* l : {&w.nevache, &w.briancon}) {
    json c = l->Show(id);
    CHECK(c["status"] == "independant");
    CHECK(c["under_review"].empty());
    CHECK(l->Json({"conflicts"}).empty());
    json all = l->Json({"conflicts", "--all"});
    REQUIRE(all.size() == 1);
    CHECK(all[0]["status"] == "settled");
    CHECK(all[0]["settlement"] == "device");
  }
  CHECK(w.staff.Open().empty());
}

TEST_CASE("the same person created on two devices is merged by the centre, and every device follows the redirect",
          "[e2e][conflicts][duplicates]") {
  TwoLaptops w;
  // Offline: a reception point and a partner both record the same newcomer.
  std::string first = w.nevache.AddCase("Lefèvre", "Élodie", "1990-04-12");
  w.nevache.AddFollowup(first, "Premier accueil à Névache");
  std::string second = w.briancon.AddCase("LEFEVRE", "Elodie", "1990-04-12");
  w.briancon.AddFollowup(second, "Entretien à Briançon");
  CHECK(w.nevache.Sync()["conflicts_opened"] == 0);
  json told = w.briancon.Sync();
  CHECK(told["conflicts_opened"] == 1);
  REQUIRE(told["opened"].size() == 1);
  CHECK(Contains(told["opened"][0]["message"].get<std::string>(), "doublon possible"));
  w.nevache.Sync();

  json open = w.staff.Open();
  REQUIRE(open.size() == 1);
  CHECK(open[0]["kind"] == "duplicate");
  CHECK(open[0]["record"] == second);
  CHECK(open[0]["other"] == first);

  // Before the centre decides, both cases say they may be one person.
  for (const Laptop* l : {&w.nevache, &w.briancon}) {
    json shown = l->Show(second);
    REQUIRE(shown["possible_duplicate_of"].size() == 1);
    CHECK(shown["possible_duplicate_of"][0]["id"] == first);
    CHECK(Contains(l->Text({"case", "show", second}), "doublon possible de Lefèvre Élodie (" + first + ")"));
    CHECK(l->Show(first)["possible_duplicate_of"][0]["id"] == second);
  }

  w.staff.Settle({"merge", std::to_string(open[0]["id"].get<int64_t>())});
  json settled = w.briancon.Sync();
  CHECK(settled["conflicts_settled"] == 1);
  REQUIRE(settled["settlements"].size() == 1);
  CHECK(settled["settlements"][0]["settlement"] == "merged");
  CHECK(Contains(settled["settlements"][0]["message"].get<std::string>(),
                 "fusionné dans Lefèvre Élodie (" + first + ")"));
  // Whole: where the follow-ups went and which case to complete from now on.
  CHECK(Contains(settled["settlements"][0]["message"].get<std::string>(),
                 "ses entrées de suivi y ont été déplacées, et c'est ce dossier qu'il faut désormais compléter (relais "
                 "case show " +
                     first + ")"));
  w.nevache.Sync();

  const std::string redirect_note = "Ce dossier (" + second + ") a été fusionné dans Lefèvre Élodie (" + first + ")";
  for (const Laptop* l : {&w.nevache, &w.briancon}) {
    INFO(l->name());
    json shown = l->Show(second);
    CHECK(shown["id"] == first);
    CHECK(shown["redirected_from"] == second);
    REQUIRE(shown["followups"].size() == 2);
    CHECK(shown["possible_duplicate_of"].empty());
    CHECK(Contains(l->Text({"case", "show", second}), redirect_note));
    CHECK(l->Json({"case", "list"}).size() == 1);
    CHECK(l->Json({"case", "list", "--all"}).size() == 2);
    json found = l->Json({"case", "search", "lefevre"});
    REQUIRE(found.size() == 1);
    CHECK(found[0]["id"] == first);
  }

  // Nothing is written on a redirect: the counsellor is sent to the surviving case.
  const std::string before = w.briancon.ContentHash();
  for (std::vector<std::string> args :
       {std::vector<std::string>{"case", "edit", second, "--commune", "Gap"},
        std::vector<std::string>{"case", "close", second},
        std::vector<std::string>{"followup", "add", second, "--kind", "autre", "--text", "x"}}) {
    RunResult r = w.briancon.Cmd(args);
    INFO(args[0] << " " << args[1] << ": " << r.err);
    CHECK(r.exit_code == 3);
    CHECK(Contains(r.err, first));
  }
  CHECK(w.briancon.ContentHash() == before);
  CHECK(w.briancon.Json({"status"})["pending"] == 0);
}

TEST_CASE("a duplicate dismissed by the centre leaves both cases, no longer marked", "[e2e][conflicts][duplicates]") {
  TwoLaptops w;
  std::string first = w.nevache.AddCase("Dubois", "Inès", "1985-09-30");
  std::string second = w.briancon.AddCase("Dubois", "Ines", "1985-09-30");
  w.nevache.Sync();
  CHECK(w.briancon.Sync()["conflicts_opened"] == 1);
  w.nevache.Sync();
  json open = w.staff.Open();
  REQUIRE(open.size() == 1);
  CHECK(w.nevache.Show(second)["possible_duplicate_of"].size() == 1);

  w.staff.Settle({"dismiss", std::to_string(open[0]["id"].get<int64_t>())});
  json settled = w.briancon.Sync();
  CHECK(settled["conflicts_settled"] == 1);
  CHECK(settled["settlements"][0]["settlement"] == "dismissed");
  w.nevache.Sync();
  for (const Laptop* l : {&w.nevache, &w.briancon}) {
    CHECK(l->Json({"case", "list"}).size() == 2);
    json shown = l->Show(second);
    CHECK(shown["id"] == second);
    CHECK_FALSE(shown.contains("redirected_from"));
    CHECK(shown["possible_duplicate_of"].empty());
    CHECK(l->Json({"conflicts"}).empty());
  }
}
