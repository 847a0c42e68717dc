// relais ui — the counsellor's pages in the browser, on this computer only: docs/UI.md. Runs the
// program relais-ui installed beside relais, on the replica this command would use.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "client/cli/commands.h"

namespace relais::cli {

namespace {

struct UiOptions {
  std::string listen = "127.0.0.1:8731";
  bool no_browser = false;
};

Status RunUi(Context& ctx, const UiOptions& o) {
  auto db = ResolveDbPath(ctx.db_flag);
  if (!db) return db.error();
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string program = (self.parent_path() / "relais-ui").string();
  if (ec || ::access(program.c_str(), X_OK) != 0) {
    return MakeError(ErrorCode::kIo, "le programme relais-ui est introuvable à côté de relais (" + program +
                                         ") : réinstallez Relais");
  }
  std::vector<std::string> args = {program, "--db", *db, "--listen", o.listen};
  if (o.no_browser) args.emplace_back("--no-browser");
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  ::execv(program.c_str(), argv.data());
  return MakeError(ErrorCode::kIo, "impossible de lancer " + program + " : " + std::strerror(errno));
}

}  // namespace

void RegisterUiCommand(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<UiOptions>();
  CLI::App* ui = app.add_subcommand("ui", "Ouvre Relais dans le navigateur de ce poste (agenda, recherche, dossiers)");
  ui->add_option("--listen", o->listen, "Adresse d'écoute, sur ce poste seulement (défaut 127.0.0.1:8731)");
  ui->add_flag("--no-browser", o->no_browser, "Ne pas ouvrir le navigateur : l'adresse est affichée");
  ui->callback([&ctx, o] { ctx.Finish(RunUi(ctx, *o)); });
}

}  // namespace relais::cli
