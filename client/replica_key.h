// client/replica_key.h — what happens to the replica file before it is opened: its key found and
// registered with the encrypting VFS (sqlite/crypt_vfs.h), a new replica created encrypted, a plain
// one (made by an earlier Relais) encrypted in place. docs/PRIVACY.md.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "sqlite/crypt_vfs.h"

namespace relais::client {

// Where passphrases come from. `environment`: RELAIS_PASSPHRASE, for scripts and tests. `prompt`:
// asks on the terminal without echo (twice when `confirm`); empty when there is no terminal.
struct Passphrases {
  std::optional<std::string> environment;
  std::function<Result<std::string>(const std::string& question, bool confirm)> prompt;
};

enum class ReplicaFile { kAbsent, kPlain, kEncrypted };

// What the file at `path` is. kIo when it cannot be read or its envelope is malformed.
Result<ReplicaFile> ReplicaFileKind(const std::string& path);

// The Argon2id cost of a new key slot: libsodium's moderate limits, or its minimum ones when
// RELAIS_WEAK_KDF_FOR_TESTS=1 (test suites only: it makes a stolen file much cheaper to attack).
sqlite::crypt::KdfLimits KdfLimitsForNewSlots();

// True when RELAIS_PLAIN_REPLICA_FOR_BENCH=1: a new replica is created plain and a plain one stays
// plain (an encrypted one is opened as always), for bench/sync_bench's plain-against-encrypted
// figures only; says so on stderr once per process. Never on a laptop (docs/PRIVACY.md).
bool PlainForBench();

// Makes the replica at `path` ready to open: an encrypted one gets its key from the session keyring
// (relais unlock) or from the RELAIS_PASSPHRASE passphrase; an absent one is created encrypted, and a
// plain one encrypted in place (EncryptInPlace), each with a new passphrase (RELAIS_PASSPHRASE, or
// asked with confirmation). On success the key is registered with the VFS. kLocked (exit 5), nothing
// changed, when the replica is locked, the passphrase is wrong, or no passphrase can be had.
Status PrepareReplicaKey(const std::string& path, const Passphrases& passphrases);

// The data key of the encrypted replica at `path`, unwrapped with `passphrase`. kLocked when the
// passphrase is wrong; kNotFound when there is no encrypted replica there.
Result<std::pair<sqlite::crypt::Envelope, sqlite::crypt::DataKey>> UnlockWith(const std::string& path,
                                                                            const std::string& passphrase);

// A new passphrase from `passphrases` (environment first, then asked twice). kValidation when it is
// shorter than 8 characters or the two entries differ, kLocked when none can be had.
Result<std::string> NewPassphrase(const Passphrases& passphrases, const std::string& path);

// Encrypts the plain replica at `path` under a new data key wrapped by `passphrase`, and registers
// the key. Crash-safe: the encrypted copy is written beside (PATH.chiffrement), checked, synced, then
// renamed over the original and the folder synced; a kill at any instant leaves either the old file
// or the new one, each with every committed record. kIo, with the old file unchanged, on failure.
Status EncryptInPlace(const std::string& path, const std::string& passphrase);

// The file EncryptInPlace writes before renaming it.
std::string EncryptionTempPath(const std::string& path);

}  // namespace relais::client
