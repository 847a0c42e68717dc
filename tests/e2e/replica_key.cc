// Every replica the end-to-end tests make is encrypted, as a counsellor's is: before the first test,
// the test program sets RELAIS_PASSPHRASE (inherited by every `relais` it runs) and
// RELAIS_WEAK_KDF_FOR_TESTS (a derivation of a millisecond instead of a second per command), and
// makes the encrypting VFS (sqlite/crypt_vfs.h) SQLite's default in this process, with that
// passphrase as its key provider: the helpers that read a replica straight from its file (QueryText,
// Integrity, SqliteContentHash) read encrypted replicas, and the centre's plain files pass through.
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>

#include "sqlite/crypt_vfs.h"
#include "tests/e2e/run.h"

namespace relais::e2e {
namespace {

namespace crypt = sqlite::crypt;

struct EncryptedReplicas {
  EncryptedReplicas() {
    ::setenv("RELAIS_PASSPHRASE", kTestPassphrase, 1);
    ::setenv("RELAIS_WEAK_KDF_FOR_TESTS", "1", 1);
    crypt::SetKeyProvider([](const crypt::Envelope& envelope) -> std::optional<crypt::DataKey> {
      static std::mutex mutex;
      static std::map<crypt::ReplicaId, crypt::DataKey> known;
      std::lock_guard<std::mutex> lock(mutex);
      if (auto it = known.find(envelope.replica_id); it != known.end()) return it->second;
      auto key = crypt::UnwrapKey(envelope, kTestPassphrase);
      if (!key || !*key) return std::nullopt;
      known.emplace(envelope.replica_id, **key);
      return **key;
    });
    if (!crypt::RegisterVfs(true).ok()) throw std::runtime_error("the encrypting VFS does not register");
  }
};

const EncryptedReplicas kEncryptedReplicas;

}  // namespace
}  // namespace relais::e2e
