// Slows token guessing: a token bucket per client address, spent by each wrong token. An address
// whose bucket is empty is answered 429 (with the seconds to wait) before its token is looked at;
// addresses that send good tokens never spend anything. Memory is bounded: at most `max_addresses`
// buckets, and full buckets (addresses that stopped failing) are forgotten first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace relais::server {

class AuthThrottle {
 public:
  // `burst` wrong tokens at once, then one per `interval_ms`.
  AuthThrottle(size_t burst, int64_t interval_ms, size_t max_addresses = 16384);

  // 0 when `address` may try a token now; otherwise the seconds (at least 1) until it may.
  int64_t WaitSeconds(const std::string& address, int64_t now_ms);
  // A wrong token from `address`.
  void Failed(const std::string& address, int64_t now_ms);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = 0;
  };
  void Refill(Bucket& b, int64_t now_ms) const;

  const double burst_;
  const int64_t interval_ms_;
  const size_t max_addresses_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace relais::server
