#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace relais {

// A UUIDv7 (RFC 9562, §6.2 method 1): 48 bits of Unix milliseconds, a 42-bit counter that every id
// of the process increments, then 32 bits drawn once per process. Ids made on a device sort by
// creation time and never need the server to be unique; those of one process are strictly
// increasing (a clock that goes back keeps the last millisecond) and consecutive ones differ in a
// few hex digits, so that a batch of them compresses. Thread-safe and fork-safe (a child draws its
// own counter and remainder).
std::string NewUuidV7(int64_t unix_ms);

// True for the canonical 8-4-4-4-12 lower- or upper-case hex form of any UUID version.
bool IsUuid(std::string_view text);

// `bytes` random bytes from the operating system's CSPRNG, hex-encoded (2 chars per byte).
std::string RandomHex(size_t bytes);

// Lower-case hex SHA-256 of `data`. Used to store tokens hashed, never in clear.
std::string Sha256Hex(std::string_view data);

// The same digest as 32 bytes. Thread-safe; for digests by the hundred thousand (sync/digest.h).
std::array<unsigned char, 32> Sha256(std::string_view data);

// The first 8 bytes, big-endian, of the 16-byte BLAKE2b of `data` (libsodium's crypto_generichash,
// no key): a record's digest in the divergence check (sync/digest.h). Thread-safe; several times
// faster than SHA-256 on short inputs.
uint64_t Blake2b64(std::string_view data);

}  // namespace relais
