#include "server/auth_throttle.h"

#include <algorithm>

namespace relais::server {

AuthThrottle::AuthThrottle(size_t burst, int64_t interval_ms, size_t max_addresses)
    : burst_(static_cast<double>(std::max<size_t>(1, burst))),
      interval_ms_(std::max<int64_t>(1, interval_ms)),
      max_addresses_(std::max<size_t>(1, max_addresses)) {}

void AuthThrottle::Refill(Bucket& b, int64_t now_ms) const {
  if (now_ms > b.at_ms) {
    b.tokens = std::min(burst_, b.tokens + static_cast<double>(now_ms - b.at_ms) / static_cast<double>(interval_ms_));
    b.at_ms = now_ms;
  }
}

int64_t AuthThrottle::WaitSeconds(const std::string& address, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = buckets_.find(address);
  if (it == buckets_.end()) return 0;
  Refill(it->second, now_ms);
  if (it->second.tokens >= 1) return 0;
  const double wait_ms = (1 - it->second.tokens) * static_cast<double>(interval_ms_);
  return std::max<int64_t>(1, static_cast<int64_t>((wait_ms + 999) / 1000));
}

void AuthThrottle::Failed(const std::string& address, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = buckets_.find(address);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_addresses_) {
      // Forget the addresses that have stopped failing; if every one is still failing, any go
      // until there is room (an attacker with that many addresses gains little: each address
      // forgotten starts again with only `burst` tries).
      for (auto b = buckets_.begin(); b != buckets_.end();) {
        Refill(b->second, now_ms);
        b = b->second.tokens >= burst_ ? buckets_.erase(b) : std::next(b);
      }
      for (auto b = buckets_.begin(); buckets_.size() >= max_addresses_ && b != buckets_.end();) b = buckets_.erase(b);
    }
    it = buckets_.emplace(address, Bucket{burst_, now_ms}).first;
  }
  Refill(it->second, now_ms);
  it->second.tokens = std::max(0.0, it->second.tokens - 1);
}

}  // namespace relais::server
