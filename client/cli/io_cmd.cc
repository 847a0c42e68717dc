// relais import FILE [--kind cases|contacts|permanences|visits] [--separator ,|;|tab]
// [--encoding utf-8|windows-1252] [--map "Heading=field"]… ;
// relais export --kind cases|contacts|visits|permanences|appointments|referrals --format csv|jsonl
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/access_log.h"
#include "client/cli/commands.h"
#include "client/csv.h"
#include "client/export.h"
#include "client/import.h"

namespace relais::cli {

namespace {

struct ImportOptions {
  std::string file, kind, separator, encoding;
  std::vector<std::string> column_map;
};

// A spreadsheet missing every phone's 0 would print a warning per line: the first ones show what
// happened, --json lists them all.
constexpr size_t kWarningsShown = 10;

// How the file was read, when it was not plain comma-separated UTF-8 with the fields' keys.
void PrintHowRead(const client::ImportSummary& summary) {
  if (summary.format != client::FileFormat::kCsv) return;
  if (summary.separator == ',' && summary.encoding == client::TextEncoding::kUtf8 && summary.renamed_columns.empty())
    return;
  std::cout << "Lu avec le séparateur " << client::SeparatorName(summary.separator) << ", en "
            << (summary.encoding == client::TextEncoding::kUtf8 ? "UTF-8" : "Windows-1252");
  if (!summary.renamed_columns.empty()) {
    std::cout << " ; colonnes :";
    for (size_t i = 0; i < summary.renamed_columns.size(); ++i) {
      const auto& [heading, field] = summary.renamed_columns[i];
      std::cout << (i ? ", " : " ") << "« " << heading << " » → " << field;
    }
  }
  std::cout << ".\n";
}

// What the records of `table` are called, as counted after an import.
std::string RecordsNoun(const std::string& table) {
  if (table == "cases") return "dossier(s)";
  if (table == "contacts") return "contact(s)";
  if (table == "permanences") return "permanence(s)";
  if (table == "visits") return "visite(s) du registre";
  return "fiche(s)";
}

Status Import(Context& ctx, const ImportOptions& o) {
  auto records = ctx.Records();
  if (!records) return records.error();
  client::ImportOptions options;
  if (::isatty(STDERR_FILENO)) {
    options.progress = [](size_t n) { std::cerr << "\rimport : " << n << " lignes…" << std::flush; };
  }
  if (!o.kind.empty()) options.kind = o.kind;
  if (!o.separator.empty()) options.separator = o.separator == "tab" ? '\t' : o.separator[0];
  if (!o.encoding.empty())
    options.encoding = o.encoding == "utf-8" ? client::TextEncoding::kUtf8 : client::TextEncoding::kWindows1252;
  options.column_map = o.column_map;
  auto summary = client::ImportFile(**records, o.file, options);
  if (options.progress) std::cerr << "\r\033[K" << std::flush;
  if (!summary) {
    Error e = summary.error();
    if (e.code == ErrorCode::kValidation) e.message = o.file + ", " + e.message + "\nLe fichier entier est refusé";
    return e;
  }
  std::string table(summary->table->name);
  if (ctx.json) {
    nlohmann::ordered_json out = {{"file", o.file},
                                  {"kind", table},
                                  {"format", summary->format == client::FileFormat::kCsv ? "csv" : "jsonl"},
                                  {"imported", summary->records}};
    if (summary->format == client::FileFormat::kCsv) {
      out["separator"] = std::string(1, summary->separator);
      out["encoding"] = client::EncodingName(summary->encoding);
      nlohmann::ordered_json columns = nlohmann::ordered_json::object();
      for (const auto& [heading, field] : summary->renamed_columns) columns[heading] = field;
      out["columns"] = columns;
    }
    nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
    for (const client::ImportWarning& w : summary->warnings)
      warnings.push_back({{"line", w.line}, {"field", w.field}, {"message", w.message}});
    out["warnings"] = warnings;
    std::cout << out.dump(2) << "\n";
    return OkStatus();
  }
  std::cout << "Importé : " << summary->records << " " << RecordsNoun(table) << " depuis " << o.file
            << " (en attente de synchronisation).\n";
  PrintHowRead(*summary);
  for (size_t i = 0; i < summary->warnings.size() && i < kWarningsShown; ++i)
    std::cerr << "attention : " << summary->warnings[i].message << "\n";
  if (summary->warnings.size() > kWarningsShown) {
    std::cerr << "attention : et " << summary->warnings.size() - kWarningsShown
              << " autre(s) ligne(s) de même (--json les donne toutes)\n";
  }
  return OkStatus();
}

struct ExportOptions {
  std::string kind, format = "csv";
};

Status Export(Context& ctx, const ExportOptions& o) {
  const schema::Table* table = schema::FindTable(o.kind);
  if (!table) return MakeError(ErrorCode::kUsage, "export : --kind " + o.kind + " n'est pas une table");
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto format = o.format == "csv" ? client::FileFormat::kCsv : client::FileFormat::kJsonl;
  ctx.exact_stdout = true;
  auto written = client::ExportTable(**replica, *table, format, std::cout);
  if (!written) return written.error();
  RELAIS_TRY(client::NoteExport(**replica, *table));
  return OkStatus();
}

}  // namespace

void RegisterIoCommands(CLI::App& app, Context& ctx) {
  CLI::App* import = app.add_subcommand("import",
                                        "Importe un fichier CSV ou JSONL de dossiers, de contacts, de permanences ou "
                                        "de visites du registre "
                                        "(tout ou rien : une ligne fausse refuse le fichier)");
  auto io = std::make_shared<ImportOptions>();
  import->add_option("file", io->file, "Fichier .csv (ligne d'en-tête) ou .jsonl")->required();
  std::vector<std::string> kinds(client::ImportableTables().begin(), client::ImportableTables().end());
  import->add_option("--kind", io->kind, "Type de fiches (sinon deviné d'après l'en-tête)")
      ->check(CLI::IsMember(kinds));
  import->add_option("--separator", io->separator, "CSV : séparateur , ; ou tab (sinon lu sur la ligne d'en-tête)")
      ->check(CLI::IsMember({",", ";", "tab"}));
  import->add_option("--encoding", io->encoding, "CSV : utf-8 ou windows-1252 (sinon reconnu d'après les octets)")
      ->check(CLI::IsMember({"utf-8", "windows-1252"}));
  import
      ->add_option("--map", io->column_map,
                   "CSV : \"Colonne=champ\" remplit le champ avec la colonne, \"Colonne=\" l'ignore (répétable)")
      ->allow_extra_args(false);
  import->callback([&ctx, io] { ctx.Finish(Import(ctx, *io));
});

CLI::App* exp = app.add_subcommand("export",
                                   "Écrit tous les dossiers, contacts, visites, permanences, rendez-vous ou "
                                   "orientations sur la sortie standard (dossiers, contacts, visites et permanences : "
                                   "réimportables avec relais import)");
auto eo = std::make_shared<ExportOptions>();
exp->add_option("--kind", eo->kind, "cases, contacts, visits, permanences, appointments ou referrals")
    ->required()
    ->check(CLI::IsMember({"cases", "contacts", "visits", "permanences", "appointments", "referrals"}));
exp->add_option("--format", eo->format, "csv (défaut) ou jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
exp->callback([&ctx, eo] { ctx.Finish(Export(ctx, *eo)); });
}  // namespace relais::cli

}  // namespace relais::cli
