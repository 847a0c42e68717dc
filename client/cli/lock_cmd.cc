// relais unlock, lock, passphrase change, encrypt: the key of the encrypted replica (docs/PRIVACY.md).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <regex>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "client/cli/commands.h"
#include "client/cli/output.h"
#include "client/keyring.h"
#include "client/passphrase_prompt.h"

namespace relais::cli {

namespace crypt = sqlite::crypt;

namespace {

constexpr unsigned kDefaultUnlockSeconds = 10 * 3600;
constexpr unsigned kMaxUnlockSeconds = 7 * 24 * 3600;

// "10h", "4h", "90m", "30s": seconds. kUsage otherwise.
Result<unsigned> ParseDuration(const std::string& text) {
  static const std::regex kForm("([0-9]{1,6})([hms])");
  std::smatch m;
  if (!std::regex_match(text, m, kForm)) {
    return MakeError(ErrorCode::kUsage,
                     "--for " + text + " : durée attendue en heures, minutes ou secondes, ex. 4h, 90m ou 30s");
  }
  const std::string unit = m[2].str();
  unsigned long n = std::stoul(m[1].str()) * (unit == "h" ? 3600 : unit == "m" ? 60 : 1);
  if (n == 0 || n > kMaxUnlockSeconds) {
    return MakeError(ErrorCode::kUsage, "--for " + text + " : entre 1 seconde et 7 jours");
  }
  return static_cast<unsigned>(n);
}

std::string ClockTime(unsigned seconds_from_now) {
  std::time_t t = std::time(nullptr) + seconds_from_now;
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%d/%m à %H:%M", &tm);
  return buf;
}

// The passphrase of the existing encrypted replica: RELAIS_PASSPHRASE, else asked.
Result<std::string> CurrentPassphrase(const Context& ctx, const std::string& path) {
  client::Passphrases p = ctx.Passphrases();
  if (p.environment) return *p.environment;
  if (!p.prompt) {
    return MakeError(ErrorCode::kLocked,
                     "pas de terminal pour demander la phrase de passe : définissez RELAIS_PASSPHRASE pour un script");
  }
  return p.prompt("Phrase de passe de la base locale " + path, false);
}

Status RunUnlock(Context& ctx, const std::string& duration) {
  unsigned seconds = kDefaultUnlockSeconds;
  if (!duration.empty()) {
    auto parsed = ParseDuration(duration);
    if (!parsed) return parsed.error();
    seconds = *parsed;
  }
  auto path = ResolveDbPath(ctx.db_flag);
  if (!path) return path.error();
  auto kind = client::ReplicaFileKind(*path);
  if (!kind) return kind.error();
  if (*kind != client::ReplicaFile::kEncrypted) {
    return MakeError(ErrorCode::kUsage, "la base locale " + *path +
                                            (*kind == client::ReplicaFile::kAbsent
                                                 ? " n'existe pas encore : lancez relais init"
                                                 : " n'est pas chiffrée : lancez relais encrypt"));
  }
  auto passphrase = CurrentPassphrase(ctx, *path);
  if (!passphrase) return passphrase.error();
  auto unlocked = client::UnlockWith(*path, *passphrase);
  sodium_memzero(passphrase->data(), passphrase->size());
  if (!unlocked) return unlocked.error();
  RELAIS_TRY(client::KeepInKeyring(unlocked->first.replica_id, unlocked->second, seconds));
  sodium_memzero(unlocked->second.data(), unlocked->second.size());
  if (ctx.json) {
    std::cout << nlohmann::ordered_json{{"replica", *path}, {"unlocked_for_seconds", seconds}}.dump(2) << "\n";
  } else {
    std::cout << "Base locale déverrouillée jusqu'au " << ClockTime(seconds) << " (relais lock pour la verrouiller).\n";
  }
  return OkStatus();
}

Status RunLock(Context& ctx) {
  auto path = ResolveDbPath(ctx.db_flag);
  if (!path) return path.error();
  auto envelope = crypt::ReadEnvelope(*path);
  if (!envelope) return envelope.error();
  bool forgot = *envelope && client::ForgetInKeyring((*envelope)->replica_id);
  if (ctx.json) {
    std::cout << nlohmann::ordered_json{{"replica", *path}, {"was_unlocked", forgot}}.dump(2) << "\n";
  } else {
    std::cout << (forgot ? "Base locale verrouillée.\n" : "La base locale était déjà verrouillée.\n");
  }
  return OkStatus();
}

Status RunPassphraseChange(Context& ctx) {
  auto path = ResolveDbPath(ctx.db_flag);
  if (!path) return path.error();
  auto current = CurrentPassphrase(ctx, *path);
  if (!current) return current.error();
  auto unlocked = client::UnlockWith(*path, *current);
  if (!unlocked) return unlocked.error();
  client::Passphrases next = ctx.Passphrases();
  const char* env = std::getenv("RELAIS_NEW_PASSPHRASE");
  next.environment = env && *env ? std::optional<std::string>(env) : std::nullopt;
  auto passphrase = client::NewPassphrase(next, *path);
  if (!passphrase) return passphrase.error();
  auto slot = crypt::WrapKey(unlocked->second, unlocked->first, *passphrase, client::KdfLimitsForNewSlots());
  if (!slot) return slot.error();
  crypt::Envelope envelope = unlocked->first;
  envelope.slots = {*slot, *slot};
  RELAIS_TRY(crypt::RewriteSlots(*path, envelope));
  if (ctx.json) {
    std::cout << nlohmann::ordered_json{{"replica", *path}, {"passphrase_changed", true}}.dump(2) << "\n";
  } else {
    std::cout << "Phrase de passe changée. L'ancienne n'ouvre plus la base locale.\n";
  }
  return OkStatus();
}

Status RunEncrypt(Context& ctx) {
  auto path = ResolveDbPath(ctx.db_flag);
  if (!path) return path.error();
  auto kind = client::ReplicaFileKind(*path);
  if (!kind) return kind.error();
  if (*kind == client::ReplicaFile::kAbsent) {
    return MakeError(ErrorCode::kNotFound, "aucune base locale à " + *path);
  }
  const bool was_plain = *kind == client::ReplicaFile::kPlain;
  if (was_plain) {
    auto passphrase = client::NewPassphrase(ctx.Passphrases(), *path);
    if (!passphrase) return passphrase.error();
    RELAIS_TRY(client::EncryptInPlace(*path, *passphrase));
  }
  if (ctx.json) {
    std::cout << nlohmann::ordered_json{{"replica", *path}, {"encrypted", true}, {"was_plain", was_plain}}.dump(2) << "\n";
  } else {
    std::cout << (was_plain ? "Base locale chiffrée.\n" : "La base locale était déjà chiffrée.\n");
  }
  return OkStatus();
}

}  // namespace

client::Passphrases Context::Passphrases() const {
  client::Passphrases p;
  if (const char* env = std::getenv("RELAIS_PASSPHRASE"); env != nullptr && *env != '\0') p.environment = std::string(env);
  if (::isatty(STDIN_FILENO) != 0) p.prompt = client::PromptPassphrase;
  return p;
}

void RegisterLockCommands(CLI::App& app, Context& ctx) {
  auto duration = std::make_shared<std::string>();
  CLI::App* unlock = app.add_subcommand("unlock", "Déverrouiller la base locale chiffrée pour la journée");
  unlock->add_option("--for", *duration, "Durée, ex. 4h ou 90m (défaut 10h)");
  unlock->callback([&ctx, duration] { ctx.Finish(RunUnlock(ctx, *duration)); });
  app.add_subcommand("lock", "Verrouiller la base locale tout de suite")->callback([&ctx] { ctx.Finish(RunLock(ctx)); });
  CLI::App* passphrase = app.add_subcommand("passphrase", "Phrase de passe de la base locale");
  passphrase->require_subcommand(1);
  passphrase->add_subcommand("change", "Changer la phrase de passe (sans rechiffrer la base)")->callback([&ctx] {
    ctx.Finish(RunPassphraseChange(ctx));
  });
  app.add_subcommand("encrypt", "Chiffrer une base locale faite par une version antérieure de Relais")
      ->callback([&ctx] { ctx.Finish(RunEncrypt(ctx)); });
}

}  // namespace relais::cli
