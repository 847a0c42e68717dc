// relais — the counsellor's command line over the local replica. See docs/CLI.md.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "base/hardening.h"
#include "client/cli/commands.h"
#include "client/cli/output.h"
#include "client/cli/usage_errors.h"

namespace relais::cli {

int ExitCode(const Error& error) {
  switch (error.code) {
    case ErrorCode::kUsage:
      return kExitUsage;
    case ErrorCode::kValidation:
      return kExitValidation;
    case ErrorCode::kNotFound:
      return kExitNotFound;
    case ErrorCode::kLocked:
      return kExitLocked;
    case ErrorCode::kWipeOrdered:
      return kExitWiped;
    default:
      return kExitFailure;
  }
}

Result<std::string> ResolveDbPath(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("RELAIS_DB"); env && *env) return std::string(env);
  std::filesystem::path dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    dir = std::filesystem::path(xdg) / "relais";
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = std::filesystem::path(home) / ".local" / "share" / "relais";
  } else {
    return MakeError(ErrorCode::kUsage, "aucune base indiquée : utilisez --db FICHIER ou définissez RELAIS_DB");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError(ErrorCode::kIo, "impossible de créer " + dir.string() + " : " + ec.message());
  ::chmod(dir.c_str(), 0700);  // the folder of a file of personal data: the owner only
  return (dir / "replica.db").string();
}

Result<client::Replica*> Context::Replica() {
  if (replica_) return replica_.get();
  if (closed_) return MakeError(ErrorCode::kInternal, "la base locale a été fermée pour être effacée");
  auto path = ResolveDbPath(db_flag);
  if (!path) return path.error();
  RELAIS_TRY(client::PrepareReplicaKey(*path, Passphrases()));
  auto opened = client::Replica::Open(*path, *clock);
  if (!opened) return opened.error();
  replica_ = std::make_unique<client::Replica>(std::move(*opened));
  return replica_.get();
}

Result<client::Records*> Context::Records() {
  if (records_) return records_.get();
  auto replica = Replica();
  if (!replica) return replica.error();
  records_ = std::make_unique<client::Records>(**replica);
  return records_.get();
}

namespace {

void PrintError(const Error& error) {
  std::cerr << "erreur : " << TerminalSafe(error.message) << "\n";
  if (error.code == ErrorCode::kValidation) std::cerr << "Rien n'a été modifié.\n";
  if (error.code == ErrorCode::kUsage) std::cerr << "Voir relais --help, ou relais COMMANDE --help.\n";
}

int Run(int argc, char** argv) {
  CLI::App app{"relais — dossiers usagers, suivis et annuaire des partenaires, hors ligne"};
  app.name("relais");
  // Global options may come before or after the command: subcommands pass unknown options up.
  app.fallthrough();
  app.require_subcommand(1);
  Context ctx;
  // Values come from the replica and the centre: none may act on the terminal (--json aside).
  TerminalGuard guard(ctx);
  app.add_option("--db", ctx.db_flag,
                 "Fichier de la base locale (sinon $RELAIS_DB, sinon ~/.local/share/relais/replica.db)");
  app.add_flag("--json", ctx.json, "Sortie JSON : un seul document sur stdout");
  RegisterCaseCommands(app, ctx);
  RegisterFollowupCommands(app, ctx);
  RegisterContactCommands(app, ctx);
  RegisterVisitCommands(app, ctx);
  RegisterReferralCommands(app, ctx);
  RegisterWorkingTimeCommands(app, ctx);
  RegisterUiCommand(app, ctx);
  RegisterPermanenceCommands(app, ctx);
  RegisterAppointmentCommands(app, ctx);
  RegisterAgendaCommand(app, ctx);
  RegisterIoCommands(app, ctx);
  RegisterStatusCommand(app, ctx);
  RegisterSyncCommands(app, ctx);
  RegisterConflictCommands(app, ctx);
  RegisterTerritoriesCommand(app, ctx);
  RegisterRejectedCommands(app, ctx);
  RegisterStatsCommand(app, ctx);
  RegisterReportCommand(app, ctx);
  RegisterLockCommands(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "erreur : " << FrenchUsageError(e.what()) << "\n";
    std::cerr << "Voir relais --help, ou relais COMMANDE --help.\n";
    return kExitUsage;
  }
  if (!ctx.outcome().ok()) {
    PrintError(ctx.outcome().error());
    return ExitCode(ctx.outcome().error());
  }
  return kExitOk;
}

}  // namespace
}  // namespace relais::cli

int main(int argc, char** argv) {
  relais::HardenProcess();  // files 0600, no core dump (base/hardening.h)
  try {
    return relais::cli::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "erreur interne : " << e.what() << "\n";
  } catch (...) {
    std::cerr << "erreur interne inattendue\n";
  }
  return relais::cli::kExitFailure;
}
