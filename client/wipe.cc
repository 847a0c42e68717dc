#include "client/wipe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "client/keyring.h"
#include "sqlite/crypt_vfs.h"

namespace relais::client {

namespace {

// A file descriptor, closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, to report close's own failure (a write the kernel could not finish).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Error FileError(const std::string& file, const char* what) {
  return MakeError(ErrorCode::kIo, "effacement de " + file + " : " + what + " a échoué (" + std::strerror(errno) + ")");
}

// Writes zeros over the whole of `file`, then flushes it to the disk. False when the file is not
// there (nothing to erase). A symbolic link is not followed: the replica's companions are SQLite's
// own files, never links to something else.
Result<bool> Overwrite(const std::string& file) {
  Fd fd(::open(file.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return false;
    return FileError(file, "l'ouverture");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return FileError(file, "la lecture de la taille");
  if (!S_ISREG(st.st_mode)) {
    return MakeError(ErrorCode::kIo, "effacement de " + file + " : ce n'est pas un fichier ordinaire ; rien n'y a été écrit");
  }
  static const char kZeros[64 * 1024] = {};
  off_t done = 0;
  while (done < st.st_size) {
    const size_t chunk = static_cast<size_t>(std::min<off_t>(st.st_size - done, static_cast<off_t>(sizeof kZeros)));
    const ssize_t written = ::pwrite(fd.get(), kZeros, chunk, done);
    if (written < 0) {
      if (errno == EINTR) continue;
      return FileError(file, "l'écriture");
    }
    done += written;
  }
  if (::fsync(fd.get()) != 0) return FileError(file, "fsync");
  if (fd.Close() != 0) return FileError(file, "la fermeture");
  return true;
}

}  // namespace

WipeVerdict JudgeWipeOrder(const std::string& known_store_id, const std::string& ordered_store_id,
                           bool clear_text_to_network) {
  if (known_store_id.empty()) return WipeVerdict::kCentreUnknown;
  if (ordered_store_id != known_store_id) return WipeVerdict::kOtherCentre;
  if (clear_text_to_network) return WipeVerdict::kClearText;
  return WipeVerdict::kObey;
}

std::vector<std::string> ReplicaFiles(const std::string& path) {
  // SQLite opens the file a link points to and keeps its companions beside that file.
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
  const std::string db = ec ? path : real.string();
  return {db, db + "-wal", db + "-shm", db + "-journal"};
}

Result<std::vector<std::string>> WipeReplicaFiles(const std::string& path) {
  const std::vector<std::string> files = ReplicaFiles(path);
  // The key first: read from the envelope, which the overwrite erases. A file whose envelope cannot
  // be read has no key to forget that the device could find again.
  if (auto envelope = sqlite::crypt::ReadEnvelope(path); envelope && *envelope) {
    ForgetInKeyring((*envelope)->replica_id);
  }
  std::vector<std::string> erased;
  for (const std::string& file : files) {
    auto overwritten = Overwrite(file);
    if (!overwritten) return overwritten.error();
    if (!*overwritten) continue;
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) return FileError(file, "la suppression");
    erased.push_back(file);
  }
  // The removals themselves reach the disk.
  const std::string folder = std::filesystem::path(files.front()).parent_path().string();
  Fd dir(::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) (void)::fsync(dir.get());
  return erased;
}

std::string WipedText(const std::string& path, int64_t unaccepted) {
  return "cet appareil a été révoqué par le centre, avec ordre d'effacement : sa base locale " + path +
         " a été effacée (ses fichiers écrasés puis supprimés), avec " + std::to_string(unaccepted) +
         " modification(s) que le centre n'avait pas acceptées. Relais ne peut plus rien ouvrir ici. Pour "
         "travailler de nouveau : contactez l'équipe centrale ; avec le nouveau jeton qu'elle vous donnera, lancez "
         "`relais init --server ADRESSE --token NOUVEAU` (une base neuve est créée), puis `relais sync`.";
}

std::string WipeRefusedText(WipeVerdict verdict, const std::string& server, const std::string& known_store_id,
                            const std::string& ordered_store_id) {
  std::string out = "le serveur " + server +
                    " répond que cet appareil est révoqué avec ordre d'effacer sa base locale, mais ";
  switch (verdict) {
    case WipeVerdict::kCentreUnknown:
      out += "cette base ne connaît pas encore l'identité de son centre : l'ordre ne peut pas être vérifié";
      break;
    case WipeVerdict::kOtherCentre:
      out += "ce serveur n'est pas le centre de cette base (identifiant " +
             (ordered_store_id.empty() ? std::string("non donné") : ordered_store_id) + ", attendu " +
             known_store_id + ") : l'adresse mène peut-être à un autre serveur";
      break;
    case WipeVerdict::kClearText:
      out += "la réponse est venue en clair (http://) par le réseau, où n'importe qui peut la forger";
      break;
    case WipeVerdict::kObey:
      break;
  }
  return out +
         ". Rien n'a été effacé : vos saisies en attente restent dans cette base. Contactez l'équipe centrale "
         "avant toute autre synchronisation.";
}

}  // namespace relais::client
