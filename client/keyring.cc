#include "client/keyring.h"

#include <linux/keyctl.h>
#include <sodium.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

namespace relais::client {

namespace {

constexpr size_t kPayloadBytes = sqlite::crypt::kKeyBytes + 8;

// The key's description in the keyring: "relais:" and the replica id in hex.
std::string Description(const sqlite::crypt::ReplicaId& id) {
  char hex[sqlite::crypt::kIdBytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, id.data(), id.size());
  return std::string("relais:") + hex;
}

// The session keyring, without making one: a process that has none (a shell started without
// pam_keyinit, a container) gets the user's session keyring, shared by the user's processes that
// have none either. add_key on KEY_SPEC_SESSION_KEYRING would instead make a new keyring for this
// process alone, gone when it exits.
long SessionKeyring() { return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0); }

long Find(const sqlite::crypt::ReplicaId& id) {
  const std::string description = Description(id);
  long keyring = SessionKeyring();
  if (keyring < 0) return -1;
  return syscall(SYS_keyctl, KEYCTL_SEARCH, keyring, "user", description.c_str(), 0);
}

}  // namespace

Status KeepInKeyring(const sqlite::crypt::ReplicaId& id, const sqlite::crypt::DataKey& key, unsigned seconds) {
  const std::string description = Description(id);
  // The payload: the key, then the instant it expires (8 bytes, little-endian Unix seconds).
  std::array<unsigned char, kPayloadBytes> payload{};
  std::copy(key.begin(), key.end(), payload.begin());
  const auto expires_at = static_cast<uint64_t>(std::time(nullptr)) + seconds;
  for (size_t i = 0; i < 8; ++i) payload[key.size() + i] = static_cast<unsigned char>(expires_at >> (8 * i));
  long keyring = SessionKeyring();
  long serial =
      keyring < 0 ? -1 : syscall(SYS_add_key, "user", description.c_str(), payload.data(), payload.size(), keyring);
  sodium_memzero(payload.data(), payload.size());
  if (serial < 0) {
    return MakeError(ErrorCode::kIo, std::string("le trousseau de clés du noyau refuse la clé (") +
                                         std::strerror(errno) +
                                         ") : utilisez RELAIS_PASSPHRASE pour chaque commande");
  }
  // The holder of the session only: not other sessions of the same account.
  constexpr unsigned kPossessorOnly = 0x3f000000;
  syscall(SYS_keyctl, KEYCTL_SETPERM, serial, kPossessorOnly);
  if (syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, serial, seconds) != 0) {
    syscall(SYS_keyctl, KEYCTL_INVALIDATE, serial);
    return MakeError(ErrorCode::kIo, std::string("le trousseau de clés du noyau refuse la durée : ") +
                                         std::strerror(errno));
  }
  return OkStatus();
}

std::optional<KeptKey> FindKeptKey(const sqlite::crypt::ReplicaId& id) {
  long serial = Find(id);
  if (serial < 0) return std::nullopt;
  std::array<unsigned char, kPayloadBytes> payload{};
  long n = syscall(SYS_keyctl, KEYCTL_READ, serial, payload.data(), payload.size());
  KeptKey kept;
  std::copy_n(payload.begin(), kept.key.size(), kept.key.begin());
  if (n == static_cast<long>(payload.size())) {
    uint64_t expires_at = 0;
    for (size_t i = 0; i < 8; ++i) expires_at |= static_cast<uint64_t>(payload[kept.key.size() + i]) << (8 * i);
    kept.expires_at = static_cast<int64_t>(expires_at);
  }
  sodium_memzero(payload.data(), payload.size());
  if (n != static_cast<long>(kPayloadBytes) && n != static_cast<long>(kept.key.size())) {
    sodium_memzero(kept.key.data(), kept.key.size());
    return std::nullopt;
  }
  return kept;
}

std::optional<sqlite::crypt::DataKey> FindInKeyring(const sqlite::crypt::ReplicaId& id) {
  auto kept = FindKeptKey(id);
  if (!kept) return std::nullopt;
  return kept->key;
}

bool ForgetInKeyring(const sqlite::crypt::ReplicaId& id) {
  long serial = Find(id);
  if (serial < 0) return false;
  return syscall(SYS_keyctl, KEYCTL_INVALIDATE, serial) == 0;
}

}  // namespace relais::client
