#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace relais {

// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds then random bits, so ids made on a device
// sort by creation time and never need the server to be unique. Thread-safe.
std::string NewUuidV7(int64_t unix_ms);

// True for the canonical 8-4-4-4-12 lower- or upper-case hex form of any UUID version.
bool IsUuid(std::string_view text);

// `bytes` random bytes from the operating system's CSPRNG, hex-encoded (2 chars per byte).
std::string RandomHex(size_t bytes);

// Lower-case hex SHA-256 of `data`. Used to store tokens hashed, never in clear.
std::string Sha256Hex(std::string_view data);

// The same digest as 32 bytes. Thread-safe; for digests by the hundred thousand (sync/digest.h).
std::array<unsigned char, 32> Sha256(std::string_view data);

}  // namespace relais
