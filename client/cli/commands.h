// client/cli/ — the `relais` command line. One file per command group registers its commands on the
// CLI11 app; this header is what they share. The CLI is a contract (docs/CLI.md): names of commands and
// options, --json output and exit codes are relied on by scripts.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "client/records.h"
#include "client/replica.h"
#include "client/replica_key.h"

namespace CLI {
class App;
}

namespace relais::cli {

// Exit codes of `relais` (docs/CLI.md, "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitValidation = 3;
inline constexpr int kExitNotFound = 4;
inline constexpr int kExitLocked = 5;  // the encrypted replica is locked, or the passphrase is wrong
// The replica was erased on its centre's order (a wipe order: docs/CLI.md, "Exit codes").
inline constexpr int kExitWiped = 6;

int ExitCode(const Error& error);

// What every command needs: the global options and the replica, opened on first use. A command
// callback reports its outcome with Finish(); main() prints the error and maps the exit code.
// Not thread-safe.
class Context {
 public:
  std::string db_flag;  // --db, empty when not given
  bool json = false;    // --json: exactly one JSON document on stdout
  // stdout is a data file (export), written exactly: not made safe for a terminal (TerminalGuard).
  bool exact_stdout = false;
  const Clock* clock = &SystemClock::Instance();

  // The replica at ResolveDbPath(db_flag), unlocked (client::PrepareReplicaKey), opened (and
  // migrated) once.
  Result<client::Replica*> Replica();
  // RELAIS_PASSPHRASE, and a prompt on the terminal when there is one (lock_cmd.cc).
  client::Passphrases Passphrases() const;
  // The repositories over that replica.
  Result<client::Records*> Records();
  // Closes the replica (and its repositories), for good: a wipe erases its files next, and
  // Replica() fails from then on rather than create the file again.
  void CloseReplica() {
    records_.reset();
    replica_.reset();
    closed_ = true;
  }

  void Finish(Status outcome) { outcome_ = std::move(outcome); }
  const Status& outcome() const { return outcome_; }

 private:
  std::unique_ptr<client::Replica> replica_;
  std::unique_ptr<client::Records> records_;
  bool closed_ = false;
  Status outcome_ = OkStatus();
};

// The replica file: `flag` (--db) when given, else $RELAIS_DB, else $XDG_DATA_HOME/relais/replica.db
// or ~/.local/share/relais/replica.db, creating that folder (mode 0700) when needed.
Result<std::string> ResolveDbPath(const std::string& flag);

// Each adds its command group to `app`. The group's commands run in their CLI11 callback and report
// through ctx.Finish().
void RegisterCaseCommands(CLI::App& app, Context& ctx);      // case_cmd.cc
void RegisterFollowupCommands(CLI::App& app, Context& ctx);  // followup_cmd.cc
void RegisterContactCommands(CLI::App& app, Context& ctx);   // contact_cmd.cc
void RegisterVisitCommands(CLI::App& app, Context& ctx);     // visit_cmd.cc
void RegisterReferralCommands(CLI::App& app, Context& ctx);  // referral_cmd.cc
void RegisterWorkingTimeCommands(CLI::App& app, Context& ctx);  // working_time_cmd.cc
void RegisterUiCommand(CLI::App& app, Context& ctx);            // ui_cmd.cc: ui
void RegisterIoCommands(CLI::App& app, Context& ctx);        // io_cmd.cc: import, export
void RegisterStatusCommand(CLI::App& app, Context& ctx);     // status_cmd.cc
void RegisterSyncCommands(CLI::App& app, Context& ctx);      // sync_cmd.cc: init, sync
void RegisterConflictCommands(CLI::App& app, Context& ctx);  // conflicts_cmd.cc: conflicts
// territories_cmd.cc: territories
void RegisterTerritoriesCommand(CLI::App& app, Context& ctx);
void RegisterRejectedCommands(CLI::App& app, Context& ctx);  // rejected_cmd.cc: rejected
// permanence_cmd.cc: permanence, appointment
void RegisterPermanenceCommands(CLI::App& app, Context& ctx);
void RegisterAppointmentCommands(CLI::App& app, Context& ctx);
void RegisterAgendaCommand(CLI::App& app, Context& ctx);  // agenda_cmd.cc: agenda
void RegisterStatsCommand(CLI::App& app, Context& ctx);   // stats_cmd.cc: stats
void RegisterReportCommand(CLI::App& app, Context& ctx);  // stats_cmd.cc: report
// lock_cmd.cc: unlock, lock, passphrase change, encrypt
void RegisterLockCommands(CLI::App& app, Context& ctx);

}  // namespace relais::cli
