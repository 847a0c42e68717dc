// relais import FILE [--kind cases|contacts] ; relais export --kind cases|contacts --format csv|jsonl
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/export.h"
#include "client/import.h"

namespace relais::cli {

namespace {

struct ImportOptions {
  std::string file, kind;
};

Status Import(Context& ctx, const ImportOptions& o) {
  auto records = ctx.Records();
  if (!records) return records.error();
  std::function<void(size_t)> progress;
  if (::isatty(STDERR_FILENO)) {
    progress = [](size_t n) { std::cerr << "\rimport : " << n << " lignes…" << std::flush; };
  }
  std::optional<std::string> kind;
  if (!o.kind.empty()) kind = o.kind;
  auto summary = client::ImportFile(**records, o.file, kind, progress);
  if (progress) std::cerr << "\r\033[K" << std::flush;
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
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "Importé : " << summary->records << " " << (table == "cases" ? "dossier(s)" : "contact(s)")
              << " depuis " << o.file << " (en attente de synchronisation).\n";
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
  return OkStatus();
}

}  // namespace

void RegisterIoCommands(CLI::App& app, Context& ctx) {
  CLI::App* import = app.add_subcommand("import",
                                        "Importe un fichier CSV ou JSONL de dossiers ou de contacts "
                                        "(tout ou rien : une ligne fausse refuse le fichier)");
  auto io = std::make_shared<ImportOptions>();
  import->add_option("file", io->file, "Fichier .csv (ligne d'en-tête) ou .jsonl")->required();
  import->add_option("--kind", io->kind, "cases ou contacts (sinon deviné d'après l'en-tête)")
      ->check(CLI::IsMember({"cases", "contacts"}));
  import->callback([&ctx, io] { ctx.Finish(Import(ctx, *io));
});

CLI::App* exp = app.add_subcommand("export",
                                   "Écrit tous les dossiers, contacts ou visites sur la sortie standard "
                                   "(dossiers et contacts : réimportables avec relais import)");
auto eo = std::make_shared<ExportOptions>();
exp->add_option("--kind", eo->kind, "cases, contacts ou visits")
    ->required()
    ->check(CLI::IsMember({"cases", "contacts", "visits"}));
exp->add_option("--format", eo->format, "csv (défaut) ou jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
exp->callback([&ctx, eo] { ctx.Finish(Export(ctx, *eo)); });
}  // namespace relais::cli

}  // namespace relais::cli
