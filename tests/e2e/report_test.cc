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

TEST_CASE("the annual report: permanence sessions held and cancelled, referrals by partner, staff time in ETP",
          "[e2e][report]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device gap(dir, "gap");
  gap.Init(central, central.Enrol("pae-gap", {kGap}));
  const std::string mission = gap.Json({"contact", "add", "--organisation", "Mission locale du Gapençais"})["id"];
  const std::string travail = gap.Json({"contact", "add", "--organisation", "France Travail Gap"})["id"];

  // A permanence every other Tuesday from 6 January to 31 March: 7 sessions planned; the one of 3
  // February cancelled, the one of 3 March moved to Thursday 5 March: 6 held, 1 cancelled, 1 moved.
  const std::string permanence =
      gap.Json({"permanence", "add", "--organisation", "mission locale du gapencais", "--reception-point", "PAE Gap",
                "--weekday", "mardi", "--start", "09:00", "--end", "12:00", "--every", "2", "--from", "2026-01-06",
                "--until", "2026-03-31"})["id"];
  gap.Json({"permanence", "cancel", permanence, "--date", "2026-02-03", "--reason", "Conseiller en formation"});
  gap.Json({"permanence", "move", permanence, "--date", "2026-03-03", "--to", "2026-03-05"});

  // Referrals of one person to two partners.
  const std::string zoe = gap.Json({"case", "add", "--last-name", "Névache", "--first-name", "Zoé", "--territory", kGap,
                                    "--reception-point", "PAE Gap", "--consent-sharing", "oui"})["id"];
  for (const std::string& to : {mission, mission, travail})
    gap.Json({"referral", "add", zoe, "--to", to, "--service", "orientation"});

  // Staff time. Élodie Martin declares 80 % over the year and records 240 minutes: 60 on visits
  // (accueil), 60 of interview, 120 of orientation; her name written without accents on her visits.
  // Jean Dupont declares 50 % from July (184 of 365 days: 0.25 ETP) and records nothing. Paul Roux
  // records 120 minutes of interview and declares nothing: hours, not ETP.
  gap.Json({"working-time", "add", "--counsellor", "Élodie Martin", "--percent", "80", "--valid-from", "2025-09-01"});
  gap.Json({"working-time", "add", "--counsellor", "Jean Dupont", "--percent", "50", "--valid-from", "2026-07-01"});
  for (int i = 0; i < 2; ++i) {
    gap.Json({"visit", "add", "--channel", "accueil", "--mode", "flux", "--reason", "emploi", "--reception-point",
              "PAE Gap", "--date", "2026-04-0" + std::to_string(i + 1), "--author", "elodie martin", "--minutes", "30"});
  }
  gap.Json({"followup", "add", zoe, "--kind", "entretien", "--text", "Point.", "--date", "2026-04-02", "--author",
            "Élodie Martin", "--minutes", "60"});
  gap.Json({"followup", "add", zoe, "--kind", "orientation", "--text", "Vers la mission locale.", "--date",
            "2026-04-03", "--author", "Élodie Martin", "--minutes", "120"});
  gap.Json({"followup", "add", zoe, "--kind", "entretien", "--text", "Suivi.", "--date", "2026-06-03", "--author",
            "Paul Roux", "--minutes", "120"});
  gap.Json({"followup", "add", zoe, "--kind", "entretien", "--text", "L'an passé.", "--date", "2025-12-03", "--author",
            "Élodie Martin", "--minutes", "300"});  // another year: not counted

  // Bad input is refused, naming the field, and changes nothing.
  const std::string before = gap.ContentHash();
  RunResult share = gap.Cmd({"working-time", "add", "--counsellor", "X", "--percent", "150", "--valid-from", "2026-01-01"});
  CHECK(share.exit_code != 0);
  CHECK(Contains(share.err, "percent"));
  RunResult backwards = gap.Cmd({"working-time", "add", "--counsellor", "X", "--percent", "50", "--valid-from",
                                 "2026-05-01", "--valid-until", "2026-04-01"});
  CHECK(backwards.exit_code != 0);
  CHECK(Contains(backwards.err, "valid_until"));
  RunResult zero = gap.Cmd({"visit", "add", "--channel", "accueil", "--mode", "flux", "--reason", "emploi",
                            "--reception-point", "PAE Gap", "--minutes", "0"});
  CHECK(zero.exit_code != 0);
  CHECK(Contains(zero.err, "minutes"));
  CHECK(gap.ContentHash() == before);
  gap.Sync();

  std::vector<std::string> argv = {CentralBinary(), "report", "--year", "2026"};
  for (const std::string& a : central.StoreArgs()) argv.push_back(a);
  RunResult made = Run(argv);
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  const std::string& html = made.out;
  CHECK(Contains(html, "<tr><th>PAE Gap</th><td>7</td><td>6</td><td>1</td><td>1</td></tr>"));
  // Élodie's 0.8 spread 60/60/120; Jean's 0.25 not spread; Paul's 2 hours counted, not converted.
  CHECK(Contains(html, "<tr><th>Accueil</th><td>1</td><td>0,20</td></tr>"));
  CHECK(Contains(html, "<tr><th>Entretien</th><td>3</td><td>0,20</td></tr>"));
  CHECK(Contains(html, "<tr><th>Orientation</th><td>2</td><td>0,40</td></tr>"));
  CHECK(Contains(html, "<td>0</td><td>0,25</td></tr>"));
  CHECK(Contains(html, "<tr class=\"total\"><th>Total</th><td>6</td><td>1,05</td></tr>"));
  CHECK(Contains(html, "2 h enregistrées sans temps de travail déclaré (1 conseiller(s)"));
  // Referrals by partner: three, so every count is small and hidden; named in the internal report.
  CHECK(Contains(html, "Orientations par partenaire et issue"));
  argv.push_back("--internal");
  RunResult internal = Run(argv);
  REQUIRE(internal.exit_code == 0);
  CHECK(Contains(internal.out, "<tr><th>Mission locale du Gapençais</th><td>2</td>"));
  CHECK(Contains(internal.out, "<tr><th>France Travail Gap</th><td>1</td>"));

  // The laptop's report of its scope says the same, offline.
  RunResult offline = gap.Cmd({"report", "--year", "2026"});
  REQUIRE(offline.exit_code == 0);
  argv.pop_back();
  argv.insert(argv.end(), {"--territory", kGap});
  RunResult territory = Run(argv);
  REQUIRE(territory.exit_code == 0);
  CHECK(Figures(offline.out) == Figures(territory.out));
}
