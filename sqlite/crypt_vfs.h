// sqlite/crypt_vfs.h — the encrypted replica file: an SQLite VFS shim that encrypts and authenticates
// every page of the main database and of its WAL, and the key envelope at the head of the file that
// holds the data key wrapped by a key derived from a passphrase. The format is written down in
// docs/PRIVACY.md, "The encrypted file". It knows SQLite's file layout and libsodium; nothing of the
// schema, the sync or the CLI.
//
// Layout of an encrypted database file: a 4096-byte envelope (magic, format version, page size,
// reserve, replica id, two key slots), then SQLite's pages, each sealed in place with
// XChaCha20-Poly1305 (IETF): the first page_size - 40 bytes are the ciphertext, the last 40 (SQLite's
// per-page reserved bytes, set with SQLITE_FCNTL_RESERVE_BYTES) hold the 24-byte random nonce and the
// 16-byte tag. The page number and whether the page sits in the database or in a WAL frame are bound
// as associated data, so a page moved elsewhere fails to authenticate. The WAL keeps SQLite's layout
// (its 32-byte header and 24-byte frame headers stay clear: salts, checksums, page numbers); only the
// page content of each frame is sealed. The -shm file holds no page content (hash tables of page
// and frame numbers) and is not encrypted.
//
// A plain SQLite file opened through the VFS passes through unchanged: the shim encrypts only files
// that start with its envelope.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace relais::sqlite::crypt {

// The name the VFS is registered under (sqlite3_open_v2's zVfs).
inline constexpr char kVfsName[] = "relais-chiffre";
// Bytes of the envelope before SQLite's first page.
inline constexpr int kEnvelopeSize = 4096;
// The page size of every encrypted file Relais creates.
inline constexpr int kPageSize = 4096;
// Per-page reserved bytes: 24-byte nonce, 16-byte tag.
inline constexpr int kReserveBytes = 40;
inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kIdBytes = 16;

using DataKey = std::array<unsigned char, kKeyBytes>;
using ReplicaId = std::array<unsigned char, kIdBytes>;

// Argon2id cost, stored in each key slot.
struct KdfLimits {
  uint64_t opslimit = 0;
  uint64_t memlimit = 0;  // bytes
};
// libsodium's "moderate" limits (3 passes, 256 MiB): about a second on a laptop, once per unlock.
KdfLimits DefaultKdfLimits();
// libsodium's minimum limits: for test suites only (RELAIS_WEAK_KDF_FOR_TESTS, docs/PRIVACY.md).
KdfLimits WeakKdfLimits();

// The data key wrapped by the key derived from one passphrase.
struct KeySlot {
  std::array<unsigned char, 16> salt{};
  KdfLimits limits;
  std::array<unsigned char, 24> nonce{};
  std::array<unsigned char, kKeyBytes + 16> wrapped{};
};

// The envelope. Two slots hold the same data key, so that a passphrase change interrupted between
// its two writes leaves one slot that opens with the old passphrase or the new one.
struct Envelope {
  ReplicaId replica_id{};
  uint32_t page_size = kPageSize;
  uint32_t reserve = kReserveBytes;
  std::array<KeySlot, 2> slots{};
};

// kEnvelopeSize bytes.
std::string EncodeEnvelope(const Envelope& envelope);
// The envelope at the head of `bytes`, or nullopt when they do not start with one (a plain SQLite
// file, an empty one) or it is malformed (see ReadEnvelope).
std::optional<Envelope> DecodeEnvelope(std::string_view bytes);
// True when `bytes` start with the envelope's magic.
bool HasMagic(std::string_view bytes);

// The envelope of the file at `path`: nullopt when the file is absent, empty or a plain SQLite
// database; kIo (French, naming the file) when it cannot be read or its envelope is malformed.
Result<std::optional<Envelope>> ReadEnvelope(const std::string& path);

// A fresh random data key and replica id, wrapped by `passphrase` in both slots.
struct NewKey {
  Envelope envelope;
  DataKey key{};
};
// `page_size` is that of the database the envelope will head.
Result<NewKey> MakeNewKey(std::string_view passphrase, KdfLimits limits, uint32_t page_size = kPageSize);
// `key` wrapped by `passphrase` (new salt, new nonce) for the replica `id`.
Result<KeySlot> WrapKey(const DataKey& key, const Envelope& envelope, std::string_view passphrase,
                        KdfLimits limits);
// The data key, from the first slot `passphrase` opens; nullopt when it opens none (a wrong
// passphrase). kInternal when the derivation cannot get its memory.
Result<std::optional<DataKey>> UnwrapKey(const Envelope& envelope, std::string_view passphrase);

// Writes `envelope` at the head of the file at `path`, which must be absent or empty (created 0600),
// and syncs it. kIo otherwise.
Status WriteNewFile(const std::string& path, const Envelope& envelope);
// Rewrites both key slots of the file at `path` with those of `envelope`: slot 1, sync, slot 0,
// sync. A crash between the two leaves a file that opens with the old passphrase or the new one.
Status RewriteSlots(const std::string& path, const Envelope& envelope);

// The keys the VFS opens files with, by replica id. Thread-safe.
void RegisterKey(const ReplicaId& id, const DataKey& key);
void ForgetKey(const ReplicaId& id);
// Asked by the VFS for an encrypted file whose key is not registered (test programs, which read
// replicas the binaries wrote). Set once, before any open.
using KeyProvider = std::function<std::optional<DataKey>(const Envelope&)>;
void SetKeyProvider(KeyProvider provider);

// Registers the VFS with SQLite (once per process; later calls only make it the default when
// asked). Opening an encrypted file whose key is not registered fails with SQLITE_AUTH; a page that
// does not authenticate is reported as SQLITE_IOERR_DATA ("disk I/O error"), never returned.
Status RegisterVfs(bool make_default = false);

// The page cipher, exposed for the unit tests and the fuzzer. `kind` is 'D' for a page of the
// database file, 'W' for the content of a WAL frame. SealPage encrypts the first size - 40 bytes of
// `page` in place and writes nonce and tag in its last 40; size must be over 40. OpenPage checks and
// decrypts in place, zeroing the last 40 bytes; false (page left undefined) when it does not
// authenticate or is too small to hold a nonce and a tag.
void SealPage(const DataKey& key, uint32_t page_number, char kind, unsigned char* page, size_t size);
bool OpenPage(const DataKey& key, uint32_t page_number, char kind, unsigned char* page, size_t size);

}  // namespace relais::sqlite::crypt
