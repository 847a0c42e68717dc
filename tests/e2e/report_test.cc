// The annual activity report (docs/STATISTICS.md, "The annual report") through the real binaries:
// `relais-central report` and `relais report`, HTML loaded by headless Chromium (Debian's package,
// as a person's browser would), the PDF printed by it and read back with pdftotext and pdfinfo;
// the device's report of its scope says what the centre's says of the same territory; small counts
// hidden in the report as in `stats`. On SQLite and, as test_e2e_pg, PostgreSQL.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;

namespace {

const std::string kGap = "hautes-alpes-gap";

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

// The report from its key figures on: what does not depend on who made it, nor when.
std::string Figures(const std::string& html) { return html.substr(html.find("<h2>Chiffres clés</h2>")); }

// Where a test keeps what a person would look at (the report's screenshot): $RELAIS_TEST_ARTEFACTS,
// else test-artefacts in the folder the test runs in (ctest: the build folder).
std::filesystem::path Artefacts() {
  const char* given = std::getenv("RELAIS_TEST_ARTEFACTS");
  std::filesystem::path dir = given && *given ? given : "test-artefacts";
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("the annual report: figures of the year, charts a browser draws, a PDF that says them", "[e2e][report]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device gap(dir, "gap");
  gap.Init(central, central.Enrol("pae-gap", {kGap}));
  // Twelve visits at PAE Gap in March and May, two at Veynes (small counts), one person's case.
  const std::string zoe = gap.Json({"case", "add", "--last-name", "Névache", "--first-name", "Zoé", "--status",
                                    "demandeur_emploi", "--territory", kGap, "--reception-point", "PAE Gap"})["id"];
  for (int i = 0; i < 12; ++i) {
    gap.Json({"visit", "add", "--channel", "accueil", "--mode", "flux", "--reason", i % 2 ? "emploi" : "formation",
              "--reception-point", "PAE Gap", "--date", i < 7 ? "2026-03-1" + std::to_string(i) : "2026-05-04"});
  }
  for (int i = 0; i < 2; ++i) {
    gap.Json({"visit", "add", "--case", zoe, "--channel", "telephone", "--mode", "rendez_vous", "--reason", "mobilite",
              "--reception-point", "Mairie de Veynes", "--date", "2026-05-0" + std::to_string(5 + i)});
  }
  gap.Json({"followup", "add", zoe, "--kind", "entretien", "--text", "Premier entretien.", "--date", "2026-05-05"});
  gap.Sync();

  auto central_report = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {CentralBinary(), "report", "--year", "2026"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& a : central.StoreArgs()) argv.push_back(a);
    return Run(argv);
  };
  const std::string page = (dir / "rapport-2026.html");
  RunResult made = central_report({"--output", page});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  CHECK(Contains(made.out, "Rapport d'activité 2026 écrit dans " + page));
  CHECK((std::filesystem::status(page).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  const std::string html = Slurp(page);
  CHECK(Contains(html, "<h1>Rapport d'activité 2026</h1>"));
  CHECK(Contains(html, "<div><b>14</b>visites</div>"));  // the year's visits, published
  CHECK(Contains(html, "<div><b>&lt; 5</b>personnes reçues</div>"));  // one person: a small count
  CHECK(Contains(html, "<td>&lt; 5</td>"));  // Veynes' two visits, hidden in the tables too
  // The tables are linked: with the year's 14 visits published, PAE Gap's 12 would give Veynes' 2
  // away by subtraction; the table of points and channels hides what it takes (a table protected on
  // its own would hide the 14 and show the 12).
  CHECK_FALSE(Contains(html, "<th>PAE Gap</th><td>12</td><td>0</td><td>0</td><td>0</td><td>12</td>"));
  CHECK(Contains(html, "<tr class=\"total\"><th>Total</th><td>12</td>"));
  CHECK_FALSE(Contains(html, "ne pas diffuser"));
  // Seven visits in March, five and two in May: published as totals of the months.
  CHECK(Contains(html, "<th>mars 2026</th><td>7</td>"));
  CHECK(Contains(html, "<th>mai 2026</th><td>7</td>"));

  // A person's browser: Chromium loads the page with no error and draws its charts; the screenshot
  // is kept for people to look at.
  const std::string shot = (Artefacts() / "rapport-annuel.png").string();
  std::filesystem::remove(shot);
  RunResult shown = Run({"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--user-data-dir=" + (dir / "chromium"), "--window-size=800,2400",
                         "--screenshot=" + shot, "file://" + page});
  INFO(shown.err);
  REQUIRE(shown.exit_code == 0);
  CHECK(std::filesystem::file_size(shot) > 10000);
  RunResult dom = Run({"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                       "--user-data-dir=" + (dir / "chromium"), "--dump-dom", "file://" + page});
  REQUIRE(dom.exit_code == 0);
  size_t bars = 0;
  for (size_t at = dom.out.find("class=\"bar\""); at != std::string::npos; at = dom.out.find("class=\"bar\"", at + 1))
    ++bars;
  CHECK(bars >= 6);  // visits by month (2), people by month, points and channels, statuses…
  CHECK(Contains(dom.out, "</svg>"));

  // The PDF, printed by Chromium from the same page: its text holds the headline figures.
  const std::string pdf = (dir / "rapport-2026.pdf");
  RunResult printed = central_report({"--format", "pdf", "--output", pdf});
  INFO(printed.err);
  REQUIRE(printed.exit_code == 0);
  RunResult info = Run({"/usr/bin/pdfinfo", pdf});
  REQUIRE(info.exit_code == 0);
  std::smatch pages;
  REQUIRE(std::regex_search(info.out, pages, std::regex("Pages:\\s+(\\d+)")));
  CHECK(std::stoi(pages[1]) >= 3);  // a section per table, each kept whole on its page
  CHECK(std::stoi(pages[1]) <= 12);
  RunResult text = Run({"/usr/bin/pdftotext", "-layout", pdf, "-"});
  REQUIRE(text.exit_code == 0);
  CHECK(Contains(text.out, "Rapport d'activité 2026"));
  CHECK(Contains(text.out, "Chiffres clés"));
  // The key figures in a row, their words on the line below: 14 visits first.
  CHECK(std::regex_search(text.out, std::regex("\\n *14 [^\\n]*\\n *visites ")));
  CHECK(Contains(text.out, "secret statistique"));

  // The laptop's report of its own scope, offline, says what the centre's says of its territory.
  const std::string mine = (dir / "rapport-appareil.html");
  RunResult offline = gap.Cmd({"report", "--year", "2026", "--output", mine});
  INFO(offline.err);
  REQUIRE(offline.exit_code == 0);
  const std::string territory = (dir / "rapport-territoire.html");
  REQUIRE(central_report({"--territory", kGap, "--output", territory}).exit_code == 0);
  CHECK(Figures(Slurp(mine)) == Figures(Slurp(territory)));
  CHECK(Contains(Slurp(mine), "Périmètre : la base de cet appareil (son périmètre)."));

  // Internal: every count shown, every page marked.
  RunResult internal = central_report({"--internal"});
  REQUIRE(internal.exit_code == 0);
  CHECK(Contains(internal.out, "usage interne — ne pas diffuser"));
  CHECK(Contains(internal.out, "<div><b>1</b>personnes reçues</div>"));

  // What is refused, in French, writing nothing.
  const std::string before = gap.ContentHash();
  RunResult no_file = gap.Cmd({"report", "--year", "2026", "--format", "pdf"});
  CHECK(no_file.exit_code == 2);
  CHECK(Contains(no_file.err, "--format pdf écrit un fichier : donnez --output RAPPORT.pdf"));
  RunResult year = central_report({"--year", "1789"});
  CHECK(year.exit_code != 0);
  RunResult low = gap.Cmd({"report", "--year", "2026", "--min-count", "2"});
  CHECK(low.exit_code == 2);
  CHECK(Contains(low.err, "le seuil ne descend pas sous 3"));
  CHECK(gap.ContentHash() == before);
}
