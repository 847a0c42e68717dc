// `relais ui` through the real programs (docs/UI.md): a counsellor's pages in headless Chromium
// driven by chromedriver (tests/e2e/webdriver.h) — search « briancon », open the case, add a
// follow-up entry, see it after a reload, a refused entry shown beside its field and nothing
// written; the same pages on a 390-pixel-wide screen; and what must be refused, through a plain
// HTTP client: no cookie, another Host, a form without its token or from another Origin, a wrong
// opening key — nothing written (content hash of the replica).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <httplib.h>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"
#include "tests/e2e/webdriver.h"

using namespace relais::e2e;

namespace {

const std::string kGap = "hautes-alpes-gap";

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `relais ui` on a free port, stopped (SIGTERM) at scope exit.
struct Ui {
  Listening process;
  std::string base;  // http://127.0.0.1:PORT
  Ui(const TempDir& dir, const Device& device) {
    process = SpawnListening({RelaisBinary(), "--db", device.db(), "ui", "--no-browser", "--listen", "127.0.0.1:0"},
                             dir / "ui.log", std::chrono::seconds(20), {}, "Relais est ouvert sur ce poste : ");
    base = process.url.substr(0, process.url.find("/ouvrir"));
  }
  ~Ui() {
    ::kill(process.pid, SIGTERM);
    int status = 0;
    ::waitpid(process.pid, &status, 0);
  }
};

}  // namespace

TEST_CASE("relais ui: a counsellor finds a person, adds a follow-up entry in the browser, sees it kept",
          "[e2e][ui]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device gap(dir, "gap");
  gap.Init(central, central.Enrol("pae-gap", {kGap}));
  const std::string elodie = gap.Json({"case", "add", "--last-name", "Martin", "--first-name", "Élodie", "--commune",
                                       "Briançon", "--territory", kGap, "--phone", "06 11 22 33 44"})["id"];
  gap.Json({"case", "add", "--last-name", "Roux", "--first-name", "Paul", "--commune", "Gap", "--territory", kGap});
  gap.Json({"followup", "add", elodie, "--kind", "accueil", "--text", "Premier accueil.", "--date", "2026-11-02"});
  Ui ui(dir, gap);

  Browser browser(dir / "chromium", 1366, 900);
  browser.Go(ui.process.url);  // the opening link: a session cookie, then the agenda
  CHECK(browser.Url() == ui.base + "/");
  CHECK(Contains(browser.Source(), "Agenda de la semaine"));
  browser.Screenshot((Artefacts() / "ui-agenda.png").string());

  // Search as a person types it: no accent, no capital.
  browser.Type(browser.Find("#q"), "briancon");
  browser.Click(browser.Find("form.recherche button"));
  REQUIRE(browser.WaitFor("table.resultats", std::chrono::seconds(10)));  // the next page, loaded
  std::string page = browser.Source();
  CHECK(Contains(page, "1 personne(s) trouvée(s)."));
  CHECK(Contains(page, "Martin Élodie"));
  CHECK_FALSE(Contains(page, "Roux Paul"));
  browser.Click(browser.Find("a[href='/dossiers/" + elodie + "']"));
  REQUIRE(browser.WaitFor("#text", std::chrono::seconds(10)));
  CHECK(browser.Url() == ui.base + "/dossiers/" + elodie);
  CHECK(Contains(browser.Source(), "Premier accueil."));

  // A refused entry: the reason beside its field, the text kept in the form, nothing written.
  const std::string before = gap.ContentHash();
  browser.Type(browser.Find("#text"), "Entretien : CV revu, candidature au centre hospitalier.");
  browser.Type(browser.Find("#minutes"), "0");
  browser.Click(browser.Find("form.formulaire button"));
  REQUIRE(browser.WaitFor(".en-erreur #minutes", std::chrono::seconds(10)));
  page = browser.Source();
  CHECK(Contains(page, "de 1 à 600"));
  CHECK(Contains(page, "Rien n'a été enregistré."));
  CHECK(Contains(page, "candidature au centre hospitalier"));
  CHECK(gap.ContentHash() == before);

  // Corrected, it is written once, through the same repository as `relais followup add`.
  browser.Clear(browser.Find("#minutes"));
  browser.Type(browser.Find("#minutes"), "45");
  browser.Click(browser.Find("form.formulaire button"));
  REQUIRE(browser.WaitFor("li.entree + li.entree", std::chrono::seconds(10)));
  CHECK(Contains(browser.Url(), "/dossiers/" + elodie));
  browser.Refresh();
  page = browser.Source();
  CHECK(Contains(page, "CV revu, candidature au centre hospitalier."));
  CHECK(Contains(page, "45 min"));
  CHECK(Contains(page, "2 entrée(s)"));
  // Newest first.
  CHECK(page.find("CV revu") < page.find("Premier accueil."));
  browser.Screenshot((Artefacts() / "ui-dossier.png").string());
  const nlohmann::json entries = gap.Json({"followup", "list", elodie});
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["minutes"] == 45);

  // The search box finds as you type, without sending the form (client/ui/relais.js).
  browser.Type(browser.Find("#q"), "rou");
  REQUIRE(browser.WaitFor("#resultats-direct a", std::chrono::seconds(10)));
  CHECK(browser.Text(browser.Find("#resultats-direct")).find("Roux Paul") != std::string::npos);
  CHECK(Contains(browser.Url(), ui.base + "/dossiers/" + elodie));

  // A phone's width: nothing wider than the screen.
  browser.Resize(390, 844);
  browser.Refresh();
  CHECK(browser.Script("return document.documentElement.scrollWidth;").get<int>() <= 390);
  browser.Screenshot((Artefacts() / "ui-dossier-390.png").string());

  // The entry goes to the centre with the next sync, as any other.
  gap.Sync();
  Device other(dir, "other");
  other.Init(central, central.Enrol("pae-gap-2", {kGap}));
  other.Sync();
  CHECK(other.Json({"followup", "list", elodie}).size() == 2);
}

TEST_CASE("relais ui refuses whoever is not the person at the keyboard, and writes nothing", "[e2e][ui]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device gap(dir, "gap");
  gap.Init(central, central.Enrol("pae-gap", {kGap}));
  const std::string id = gap.AddCase("Martin", "Élodie", kGap);
  Ui ui(dir, gap);
  const std::string port = ui.base.substr(ui.base.rfind(':') + 1);
  httplib::Client http("127.0.0.1", std::stoi(port));

  // The opening key: a wrong one opens nothing; the right one gives an HttpOnly, SameSite cookie.
  auto wrong = http.Get("/ouvrir?cle=0000");
  REQUIRE(wrong);
  CHECK(wrong->status == 403);
  CHECK_FALSE(wrong->has_header("Set-Cookie"));
  auto opened = http.Get(ui.process.url.substr(ui.base.size()).c_str());
  REQUIRE(opened);
  CHECK(opened->status == 303);
  const std::string set = opened->get_header_value("Set-Cookie");
  CHECK(Contains(set, "HttpOnly"));
  CHECK(Contains(set, "SameSite=Strict"));
  const std::string cookie = set.substr(0, set.find(';'));
  const std::string host = "127.0.0.1:" + port;

  // No cookie, or another Host (a page of another site resolved to 127.0.0.1: DNS rebinding).
  auto bare = http.Get(("/dossiers/" + id).c_str());
  REQUIRE(bare);
  CHECK(bare->status == 403);
  CHECK_FALSE(Contains(bare->body, "Élodie"));
  auto rebound = http.Get(("/dossiers/" + id).c_str(), {{"Cookie", cookie}, {"Host", "attaquant.example:" + port}});
  REQUIRE(rebound);
  CHECK(rebound->status == 403);
  auto mine = http.Get(("/dossiers/" + id).c_str(), {{"Cookie", cookie}});
  REQUIRE(mine);
  CHECK(mine->status == 200);
  CHECK(Contains(mine->body, "Élodie"));
  CHECK(mine->get_header_value("Cache-Control") == "no-store");
  const std::string marker = "name=\"jeton\" value=\"";
  const size_t at = mine->body.find(marker);
  REQUIRE(at != std::string::npos);
  const std::string csrf = mine->body.substr(at + marker.size(), 64);

  // Forms: without the token, with another one, from another Origin — refused, nothing written.
  const std::string before = gap.ContentHash();
  const std::string path = "/dossiers/" + id + "/suivis";
  const std::string entry = "kind=entretien&text=Intrus";
  const std::string with_token = entry + "&jeton=" + csrf;
  const std::string with_other = entry + "&jeton=" + std::string(64, 'a');
  for (const auto& [origin, body] : std::vector<std::pair<std::string, std::string>>{
           {"http://" + host, entry},
           {"http://" + host, with_other},
           {"http://attaquant.example", with_token},
           {"", with_token}}) {
    httplib::Headers headers = {{"Cookie", cookie}};
    if (!origin.empty()) headers.emplace("Origin", origin);
    auto posted = http.Post(path.c_str(), headers, body, "application/x-www-form-urlencoded");
    REQUIRE(posted);
    CHECK(posted->status == 403);
  }
  CHECK(gap.ContentHash() == before);
  // The same form from the page itself is taken.
  auto taken = http.Post(path.c_str(), {{"Cookie", cookie}, {"Origin", "http://" + host}}, with_token,
                         "application/x-www-form-urlencoded");
  REQUIRE(taken);
  CHECK(taken->status == 303);
  CHECK(gap.Json({"followup", "list", id}).size() == 1);

  // It listens on this computer only.
  RunResult outside = gap.Cmd({"ui", "--no-browser", "--listen", "0.0.0.0:0"});
  CHECK(outside.exit_code == 2);
  CHECK(Contains(outside.err, "n'écoute que sur ce poste"));
}
