#include "client/replica_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "client/keyring.h"
#include "sqlite/db.h"

namespace relais::client {

namespace crypt = sqlite::crypt;

namespace {

constexpr size_t kMinPassphrase = 8;

Error Locked(const std::string& path) {
  return MakeError(ErrorCode::kLocked, "la base locale " + path +
                                           " est chiffrée et verrouillée : lancez relais unlock (ou définissez "
                                           "RELAIS_PASSPHRASE pour un script). Rien n'a été modifié.");
}

Error WrongPassphrase(const std::string& path) {
  return MakeError(ErrorCode::kLocked,
                   "phrase de passe incorrecte pour la base locale " + path + ". Rien n'a été modifié.");
}

Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return MakeError(ErrorCode::kIo, "impossible d'ouvrir " + path + " : " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return MakeError(ErrorCode::kIo, "impossible d'écrire sur le disque " + path + " : " + std::strerror(errno));
  return OkStatus();
}

void RemoveWithSidecars(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((path + suffix).c_str());
}

// The first column of the first row of `sql`.
Result<std::string> Scalar(sqlite::Db& db, const std::string& sql) {
  auto stmt = db.Prepare(sql);
  if (!stmt) return stmt.error();
  auto row = stmt->Step();
  if (!row) return row.error();
  if (!*row) return std::string();
  return stmt->Text(0);
}

Status CopyEncrypted(const std::string& path, const std::string& temp) {
  sqlite::Db::Options options;
  options.create = false;
  options.vfs = crypt::kVfsName;
  options.temp_in_memory = true;
  auto source = sqlite::Db::Open(path, options);
  if (!source) return source.error();
  // Everything committed into the database file, so that the WAL left beside is empty.
  {
    auto checkpoint = source->Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!checkpoint) return checkpoint.error();
    auto row = checkpoint->Step();
    if (!row) return row.error();
    if (*row && checkpoint->Int(0) != 0) {
      return MakeError(ErrorCode::kIo, "la base locale " + path +
                                           " est utilisée par une autre commande relais : réessayez quand elle a fini");
    }
  }
  int reserve = crypt::kReserveBytes;
  if (sqlite3_file_control(source->handle(), "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK) {
    return source->LastError("cannot reserve bytes per page");
  }
  // The copy is written through the VFS of the connection (the encrypting one), whose envelope
  // WriteNewFile put at the head of `temp`.
  auto vacuum = source->Prepare("VACUUM INTO ?1");
  if (!vacuum) return vacuum.error();
  vacuum->Bind(1, temp);
  return vacuum->Run();
}

// Puts the copy in WAL mode without a rollback journal (which would hold page 1 in clear), and checks it.
Status FinishCopy(const std::string& temp) {
  sqlite::Db::Options options;
  options.create = false;
  options.vfs = crypt::kVfsName;
  options.temp_in_memory = true;
  options.reserve_bytes = crypt::kReserveBytes;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(temp.c_str(), &raw, SQLITE_OPEN_READWRITE, crypt::kVfsName);
  std::unique_ptr<sqlite3, sqlite::DbCloser> owned(raw);
  if (rc != SQLITE_OK) return MakeError(ErrorCode::kIo, "impossible d'ouvrir la copie chiffrée " + temp);
  char* err = nullptr;
  rc = sqlite3_exec(raw, "PRAGMA journal_mode=OFF; PRAGMA journal_mode=WAL;", nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  if (rc != SQLITE_OK) return MakeError(ErrorCode::kIo, "la copie chiffrée " + temp + " est illisible : " + message);
  owned.reset();
  auto db = sqlite::Db::Open(temp, options);
  if (!db) return db.error();
  auto check = Scalar(*db, "PRAGMA quick_check");
  if (!check) return check.error();
  if (*check != "ok") return MakeError(ErrorCode::kIo, "la copie chiffrée " + temp + " est incohérente : " + *check);
  return OkStatus();
}

}  // namespace

std::string EncryptionTempPath(const std::string& path) { return path + ".chiffrement"; }

bool PlainForBench() {
  const char* plain = std::getenv("RELAIS_PLAIN_REPLICA_FOR_BENCH");
  if (plain == nullptr || std::string(plain) != "1") return false;
  static const bool warned = [] {
    std::fputs(
        "attention : base locale NON chiffrée (RELAIS_PLAIN_REPLICA_FOR_BENCH=1, pour les mesures "
        "seulement)\n",
        stderr);
    return true;
  }();
  return warned;
}

crypt::KdfLimits KdfLimitsForNewSlots() {
  const char* weak = std::getenv("RELAIS_WEAK_KDF_FOR_TESTS");
  if (weak != nullptr && std::string(weak) == "1") return crypt::WeakKdfLimits();
  return crypt::DefaultKdfLimits();
}

Result<ReplicaFile> ReplicaFileKind(const std::string& path) {
  auto envelope = crypt::ReadEnvelope(path);
  if (!envelope) return envelope.error();
  if (*envelope) return ReplicaFile::kEncrypted;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) return ReplicaFile::kAbsent;
  return ReplicaFile::kPlain;
}

Result<std::string> NewPassphrase(const Passphrases& passphrases, const std::string& path) {
  std::string passphrase;
  if (passphrases.environment) {
    passphrase = *passphrases.environment;
  } else if (passphrases.prompt) {
    auto asked = passphrases.prompt("Nouvelle phrase de passe de la base locale " + path, true);
    if (!asked) return asked.error();
    passphrase = *asked;
  } else {
    return MakeError(ErrorCode::kLocked, "la base locale " + path +
                                             " doit être chiffrée par une phrase de passe : lancez la commande dans "
                                             "un terminal, ou définissez RELAIS_PASSPHRASE pour un script. Rien "
                                             "n'a été modifié.");
  }
  if (passphrase.size() < kMinPassphrase) {
    return MakeError(ErrorCode::kValidation, "la phrase de passe doit compter au moins " +
                                                 std::to_string(kMinPassphrase) + " caractères");
  }
  return passphrase;
}

Result<std::pair<crypt::Envelope, crypt::DataKey>> UnlockWith(const std::string& path, const std::string& passphrase) {
  auto envelope = crypt::ReadEnvelope(path);
  if (!envelope) return envelope.error();
  if (!*envelope) return MakeError(ErrorCode::kNotFound, "aucune base locale chiffrée à " + path);
  auto key = crypt::UnwrapKey(**envelope, passphrase);
  if (!key) return key.error();
  if (!*key) return WrongPassphrase(path);
  return std::make_pair(**envelope, **key);
}

Status EncryptInPlace(const std::string& path, const std::string& passphrase) {
  RELAIS_TRY(crypt::RegisterVfs());
  const std::string temp = EncryptionTempPath(path);
  RemoveWithSidecars(temp);  // left by an interrupted encryption: the original is intact
  int page_size = crypt::kPageSize;
  {
    auto plain = sqlite::Db::Open(path, false);
    if (!plain) return plain.error();
    auto size = Scalar(*plain, "PRAGMA page_size");
    if (!size) return size.error();
    page_size = static_cast<int>(std::strtol(size->c_str(), nullptr, 10));
  }
  auto made = crypt::MakeNewKey(passphrase, KdfLimitsForNewSlots(), static_cast<uint32_t>(page_size));
  if (!made) return made.error();
  RELAIS_TRY(crypt::WriteNewFile(temp, made->envelope));
  crypt::RegisterKey(made->envelope.replica_id, made->key);
  Status copied = CopyEncrypted(path, temp);
  if (copied.ok()) copied = FinishCopy(temp);
  if (copied.ok()) copied = SyncPath(temp, O_RDONLY);
  // The original's WAL is empty now (checkpointed, and removed by SQLite when the last connection
  // closed): a non-empty one would be another process's, and the rename would lose it.
  struct stat st {};
  if (copied.ok() && ::stat((path + "-wal").c_str(), &st) == 0 && st.st_size > 0) {
    copied = MakeError(ErrorCode::kIo, "la base locale " + path +
                                           " est utilisée par une autre commande relais : réessayez quand elle a fini");
  }
  if (!copied.ok()) {
    RemoveWithSidecars(temp);
    return copied;
  }
  ::unlink((path + "-wal").c_str());
  ::unlink((path + "-shm").c_str());
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Error error = MakeError(ErrorCode::kIo, "impossible de remplacer " + path + " : " + std::strerror(errno));
    RemoveWithSidecars(temp);
    return error;
  }
  std::string folder = std::filesystem::path(path).parent_path().string();
  return SyncPath(folder.empty() ? "." : folder, O_RDONLY | O_DIRECTORY);
}

Status PrepareReplicaKey(const std::string& path, const Passphrases& passphrases) {
  RELAIS_TRY(crypt::RegisterVfs());
  auto kind = ReplicaFileKind(path);
  if (!kind) return kind.error();
  switch (*kind) {
    case ReplicaFile::kEncrypted: {
      auto envelope = crypt::ReadEnvelope(path);
      if (!envelope) return envelope.error();
      if (auto kept = FindInKeyring((*envelope)->replica_id)) {
        crypt::RegisterKey((*envelope)->replica_id, *kept);
        return OkStatus();
      }
      if (!passphrases.environment) return Locked(path);
      auto unlocked = UnlockWith(path, *passphrases.environment);
      if (!unlocked) return unlocked.error();
      crypt::RegisterKey(unlocked->first.replica_id, unlocked->second);
      return OkStatus();
    }
    case ReplicaFile::kAbsent: {
      if (PlainForBench()) return OkStatus();  // Replica::Open creates it, plain
      auto passphrase = NewPassphrase(passphrases, path);
      if (!passphrase) return passphrase.error();
      auto made = crypt::MakeNewKey(*passphrase, KdfLimitsForNewSlots());
      if (!made) return made.error();
      ::unlink(path.c_str());  // an empty file (CreatePrivateFile of an earlier attempt)
      RELAIS_TRY(crypt::WriteNewFile(path, made->envelope));
      crypt::RegisterKey(made->envelope.replica_id, made->key);
      return OkStatus();
    }
    case ReplicaFile::kPlain: {
      if (PlainForBench()) return OkStatus();
      auto passphrase = NewPassphrase(passphrases, path);
      if (!passphrase) return passphrase.error();
      return EncryptInPlace(path, *passphrase);
    }
  }
  return OkStatus();
}

}  // namespace relais::client
