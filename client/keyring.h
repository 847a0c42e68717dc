// client/keyring.h — the data key of an unlocked replica, kept for the working day in the Linux
// kernel's session keyring (`relais unlock`, `relais lock`; docs/PRIVACY.md). The key lives in kernel
// memory, readable only by processes of the same login session and user, and expires by itself.
#pragma once

#include <cstdint>
#include <optional>

#include "base/result.h"
#include "sqlite/crypt_vfs.h"

namespace relais::client {

// Keeps `key` for the replica `id` in the session keyring for `seconds`, replacing any earlier one.
// The kernel forgets it then; the instant is kept beside the key (KeptKey::expires_at). kIo
// (French) when the kernel refuses (no keyring in this environment).
Status KeepInKeyring(const sqlite::crypt::ReplicaId& id, const sqlite::crypt::DataKey& key, unsigned seconds);

struct KeptKey {
  sqlite::crypt::DataKey key{};
  // Unix seconds at which the kernel forgets the key; nullopt for a key kept by an earlier Relais,
  // which kept the key alone.
  std::optional<int64_t> expires_at;
};
// The key kept for `id` and when it expires, or nullopt (never unlocked, expired, locked, or no
// keyring).
std::optional<KeptKey> FindKeptKey(const sqlite::crypt::ReplicaId& id);
// The key alone.
std::optional<sqlite::crypt::DataKey> FindInKeyring(const sqlite::crypt::ReplicaId& id);
// Forgets the key kept for `id` at once. True when there was one.
bool ForgetInKeyring(const sqlite::crypt::ReplicaId& id);

}  // namespace relais::client
