#include "base/ids.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <stdexcept>

namespace relais {

static void FillRandom(unsigned char* out, size_t n) {
  // RAND_bytes only fails when the OS entropy source is broken: a true programming/environment error.
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("no entropy source");
}

static std::string Hex(const unsigned char* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

namespace {

// Bumped in a forked child: a buffer filled before the fork must not give the child the same ids as
// its parent.
std::atomic<uint64_t> fork_generation{0};

void CountFork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

// CSPRNG bytes for ids, drawn from RAND_bytes a few kilobytes at a time. One RAND_bytes call per id
// was 8 % of an import's profile (the call itself, and OpenSSL's getpid() fork check each time). The bytes
// are the same CSPRNG output, only fetched ahead; each is handed out once. Fork-safe through the
// generation above (pthread_atfork), thread-safe by being per thread.
class RandomPool {
 public:
  void Take(unsigned char* out, size_t n) {
    static std::once_flag registered;
    std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, CountFork); });
    uint64_t generation = fork_generation.load(std::memory_order_relaxed);
    if (generation != generation_) {
      used_ = kSize;
      generation_ = generation;
    }
    if (kSize - used_ < n) {
      FillRandom(bytes_.data(), kSize);
      used_ = 0;
    }
    std::copy_n(bytes_.data() + used_, n, out);
    std::fill_n(bytes_.data() + used_, n, 0);  // what was handed out does not stay behind in the pool
    used_ += n;
  }

 private:
  static constexpr size_t kSize = 4096;
  std::array<unsigned char, kSize> bytes_{};
  size_t used_ = kSize;
  uint64_t generation_ = 0;
};

}  // namespace

std::string NewUuidV7(int64_t unix_ms) {
  thread_local RandomPool pool;
  std::array<unsigned char, 16> b{};
  pool.Take(b.data() + 6, 10);
  uint64_t ms = static_cast<uint64_t>(unix_ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0f));  // version 7
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));  // RFC variant
  std::string hex = Hex(b.data(), b.size());
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
         "-" + hex.substr(20);
}

bool IsUuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  FillRandom(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

std::array<unsigned char, 32> Sha256(std::string_view data) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up again (under a lock) on every
  // digest, which cost more than the hashing of a short key.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::array<unsigned char, 32> digest{};
  unsigned int len = 0;
  if (!sha256 || EVP_Digest(data.data(), data.size(), digest.data(), &len, sha256, nullptr) != 1 || len != digest.size()) {
    throw std::runtime_error("SHA-256 unavailable");
  }
  return digest;
}

std::string Sha256Hex(std::string_view data) {
  const std::array<unsigned char, 32> digest = Sha256(data);
  return Hex(digest.data(), digest.size());
}

}  // namespace relais
