#include "stats/options.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "stats/pdf.h"
#include "stats/render.h"

namespace relais::stats {

namespace {
std::string Names(bool rows) {
  std::string out;
  for (const Dimension& d : Dimensions()) {
    if (rows ? d.row : d.column) out += (out.empty() ? "" : "|") + std::string(d.name);
  }
  return out;
}
}  // namespace

void AddOptions(CLI::App& command, Options& o) {
  std::string measures;
  for (const Measure& m : Measures()) measures += (measures.empty() ? "" : "|") + std::string(m.name);
  command.add_option("--from", o.from, "Premier jour de la période (AAAA-MM-JJ ; défaut : le mois dernier)");
  command.add_option("--to", o.to, "Dernier jour de la période (AAAA-MM-JJ)");
  command.add_option("--by", o.by, "Lignes : une ou deux dimensions (" + Names(true) + ")")->delimiter(',');
  command.add_option("--measure", o.measure, "Ce qui est compté (" + measures + ")");
  command.add_option("--breakdown", o.breakdown, "Colonnes : ventilation (" + Names(false) + ")");
  command.add_option("--territory", o.territory, "Seulement ce territoire");
  command.add_option("--min-count", o.min_count, "Seuil des petits effectifs (défaut 5, jamais moins de 3)");
  command.add_flag("--internal", o.internal, "Ne rien masquer : tableau marqué « usage interne — ne pas diffuser »");
  command.add_option("--format", o.format, "table (défaut) ou csv (point-virgule, UTF-8 avec BOM)");
}

Result<Query> QueryFrom(const Options& o, const std::string& today, const std::string& scope) {
  if (o.format != "table" && o.format != "csv") {
    return MakeError(ErrorCode::kUsage, "stats : --format « " + o.format + " » inconnu (possibles : table, csv ; --json pour JSON)");
  }
  Query q;
  if (o.from.empty() != o.to.empty()) {
    return MakeError(ErrorCode::kUsage, "stats : donnez --from et --to ensemble (sans eux : le mois dernier)");
  }
  if (o.from.empty()) {
    std::tie(q.from, q.to) = LastMonth(today);
  } else {
    q.from = o.from;
    q.to = o.to;
  }
  q.by = o.by.empty() ? std::vector<std::string>{"reception_point"} : o.by;
  q.measure = o.measure;
  q.breakdown = o.breakdown;
  if (!o.territory.empty()) q.territory = o.territory;
  q.min_count = o.min_count;
  q.internal = o.internal;
  q.scope = scope;
  RELAIS_TRY(CheckQuery(q));
  return q;
}

std::string Render(const StatsTable& table, const Options& o) {
  if (o.json) return RenderJson(table);
  return o.format == "csv" ? RenderCsv(table) : RenderText(table);
}

void AddReportOptions(CLI::App& command, ReportOptions& o) {
  command.add_option("--year", o.year, "L'année du rapport (2026 par exemple)")->required();
  command.add_option("--territory", o.territory, "Seulement ce territoire");
  command.add_option("--min-count", o.min_count, "Seuil des petits effectifs (défaut 5, jamais moins de 3)");
  command.add_flag("--internal", o.internal, "Ne rien masquer : rapport marqué « usage interne — ne pas diffuser »");
  command.add_option("--format", o.format, "html (défaut) ou pdf (imprimé par Chromium)");
  command.add_option("--output", o.output, "Le fichier écrit (obligatoire en pdf ; sans lui, le HTML à l'écran)");
}

Result<std::string> MakeReport(const ReportOptions& o, const std::string& today, const std::string& scope,
                               const Source& source) {
  if (o.format != "html" && o.format != "pdf") {
    return MakeError(ErrorCode::kUsage, "report : --format « " + o.format + " » inconnu (possibles : html, pdf)");
  }
  if (o.format == "pdf" && o.output.empty()) {
    return MakeError(ErrorCode::kUsage, "report : --format pdf écrit un fichier : donnez --output RAPPORT.pdf");
  }
  ReportRequest request;
  request.year = o.year;
  if (!o.territory.empty()) request.territory = o.territory;
  request.min_count = o.min_count;
  request.internal = o.internal;
  request.scope = scope;
  request.made_on = today;
  RELAIS_TRY(CheckReport(request));
  Result<std::string> html = std::string();
  RELAIS_TRY(source([&](Database& db) {
    html = AnnualReport(request, db);
    return OkStatus();
  }));
  if (!html) return html.error();
  if (o.format == "pdf") {
    RELAIS_TRY(HtmlToPdf(*html, o.output));
    return o.output;
  }
  if (o.output.empty()) {
    std::cout << *html << std::flush;
    return std::string();
  }
  {
    std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
    out << *html;
    if (!out) return MakeError(ErrorCode::kIo, "report : impossible d'écrire " + o.output);
  }
  chmod(o.output.c_str(), 0600);
  return o.output;
}

}  // namespace relais::stats
