// `relais stats` and `relais-central stats` (docs/STATISTICS.md) through the real binaries: visits
// noted on a laptop, synced, then counted on the laptop offline and at the centre over the same
// scope, on SQLite and, as test_e2e_pg, on PostgreSQL: the same tables, cell for cell; the French
// table, the CSV a spreadsheet opens, JSON; what is refused.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
const std::vector<std::string> kPeriod = {"--from", "2026-12-01", "--to", "2026-12-31"};

struct Network {
  Network() : central(dir.path()), gap(dir, "gap") {
    central.Start();
    const std::string token = central.Enrol("pae-gap", {kGap});
    std::vector<std::string> points = {CentralBinary(), "territory", "points", kGap,
                                       "--add",         "PAE Gap",   "--add",  "Mairie de Veynes"};
    for (const std::string& a : central.StoreArgs()) points.push_back(a);
    REQUIRE(Run(points).exit_code == 0);
    gap.Init(central, token);
  }
  RunResult CentralStats(std::vector<std::string> args) const {
    std::vector<std::string> argv = {CentralBinary(), "stats"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& a : central.StoreArgs()) argv.push_back(a);
    return Run(argv);
  }
  TempDir dir;
  Central central;
  Device gap;
};

std::vector<std::string> With(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// Eleven visits at PAE Gap and two at Veynes, one of them by a person who came twice, and one
// corrected: enough for counts above and below the threshold.
void NoteVisits(const Device& gap) {
  const std::string person = gap.Json({"case", "add", "--last-name", "Névache", "--first-name", "Zoé", "--status",
                                       "demandeur_emploi", "--territory", kGap})["id"];
  for (int i = 0; i < 10; ++i) {
    gap.Json({"visit", "add", "--channel", "accueil", "--mode", "flux", "--reason", i % 2 ? "emploi" : "formation",
              "--reception-point", "PAE Gap", "--date", "2026-12-0" + std::to_string(1 + i % 5)});
  }
  gap.Json({"visit", "add", "--case", person, "--channel", "telephone", "--mode", "rendez_vous", "--reason", "emploi",
            "--reason", "mobilite", "--reception-point", "PAE Gap", "--date", "2026-12-02"});
  gap.Json({"visit", "add", "--case", person, "--channel", "accueil", "--mode", "flux", "--reason", "emploi",
            "--reception-point", "Mairie de Veynes", "--date", "2026-12-03"});
  const json wrong = gap.Json({"visit", "add", "--channel", "accueil", "--mode", "flux", "--reason", "logement",
                               "--reception-point", "Mairie de Veynes", "--date", "2026-12-04"});
  gap.Json({"visit", "amend", wrong["id"].get<std::string>(), "--reason", "numerique"});
}

}  // namespace

TEST_CASE("stats on a laptop offline and at the centre over its territory give the same tables", "[e2e][stats]") {
  Network net;
  NoteVisits(net.gap);
  // Offline, before any sync: the laptop counts its own replica.
  const std::vector<std::string> by_point = With(kPeriod, {"--by", "reception_point", "--breakdown", "reason", "--json"});
  const json offline = net.gap.Json(With({"stats", "--internal"}, by_point));
  CHECK(offline["total"] == 14);  // motives: 10 + 2 at PAE Gap, 1 + 1 at Veynes (the amendment stands for the wrong entry)
  CHECK(offline["rows"][0]["labels"][0] == "Mairie de Veynes");
  CHECK(offline["rows"][0]["total"] == 2);
  net.gap.Sync();
  for (const std::string measure : {"visits", "people"}) {
    for (const bool internal : {true, false}) {
      INFO(measure << (internal ? " internal" : " published"));
      std::vector<std::string> args = With({"--measure", measure}, by_point);
      if (internal) args.push_back("--internal");
      const json device = net.gap.Json(With({"stats"}, args));
      RunResult centre = net.CentralStats(With(args, {"--territory", kGap}));
      INFO(centre.err);
      REQUIRE(centre.exit_code == 0);
      const json central = json::parse(centre.out);
      CHECK(device["rows"] == central["rows"]);
      CHECK(device["column_totals"] == central["column_totals"]);
      CHECK(device["total"] == central["total"]);
      CHECK(device["columns"] == central["columns"]);
    }
  }
  // People: Zoé once at each point, whatever her visits; anonymous visits are not people.
  const json people = net.gap.Json(With({"stats", "--internal", "--measure", "people", "--by", "reception_point"}, With(kPeriod, {"--json"})));
  CHECK(people["total"] == 2);
  // Published, the one person at Veynes is a small count.
  const json published = net.gap.Json(With({"stats", "--by", "reception_point"}, With(kPeriod, {"--json"})));
  CHECK(published["rows"][0]["cells"][0] == "< 5");
  CHECK(published["rows"][1]["cells"][0] == "s");
  CHECK(published["total"] == 13);
}

TEST_CASE("stats prints a French table, a CSV for spreadsheets and marks internal tables", "[e2e][stats]") {
  Network net;
  NoteVisits(net.gap);
  RunResult table = net.gap.Cmd(With({"stats", "--by", "reception_point", "--breakdown", "reason"}, kPeriod));
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("Visites du 2026-12-01 au 2026-12-31, par point d'accueil, selon : motif") != std::string::npos);
  CHECK(table.out.find("Point d'accueil   ") != std::string::npos);
  CHECK(table.out.find("< 5") != std::string::npos);
  CHECK(table.out.find("masqué (secret statistique)") != std::string::npos);
  CHECK(table.out.find("compte une fois pour chacun de ses motifs") != std::string::npos);
  CHECK(table.out.find("ne pas diffuser") == std::string::npos);

  RunResult csv = net.gap.Cmd(With({"stats", "--by", "reception_point", "--breakdown", "channel", "--format", "csv", "--internal"}, kPeriod));
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("\xEF\xBB\xBF", 0) == 0);
  CHECK(csv.out.find("usage interne — ne pas diffuser\r\n") != std::string::npos);
  CHECK(csv.out.find("Point d'accueil;accueil;téléphone;courriel;permanence;Total\r\n") != std::string::npos);
  CHECK(csv.out.find("PAE Gap;10;1;0;0;11\r\n") != std::string::npos);
  CHECK(csv.out.find("Total;12;1;0;0;13\r\n") != std::string::npos);

  RunResult centre = net.CentralStats(With({"--by", "territory", "--internal"}, kPeriod));
  REQUIRE(centre.exit_code == 0);
  CHECK(centre.out.find("*** usage interne — ne pas diffuser ***") != std::string::npos);
}

TEST_CASE("stats refuses a breakdown the measure does not have, and a threshold below 3, in French", "[e2e][stats]") {
  Network net;
  const std::string before = net.gap.ContentHash();
  RunResult wrong = net.gap.Cmd(With({"stats", "--breakdown", "followup_kind"}, kPeriod));
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.err.find("« visits » ne se ventile pas selon « followup_kind » (--breakdown possibles pour visits :") !=
        std::string::npos);
  RunResult low = net.CentralStats(With({"--min-count", "2"}, kPeriod));
  CHECK(low.exit_code == 2);
  CHECK(low.err.find("le seuil ne descend pas sous 3") != std::string::npos);
  CHECK(net.gap.ContentHash() == before);
}
