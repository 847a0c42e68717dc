#include "server/push_order.h"

#include <algorithm>

namespace relais::server {

namespace {

bool Holds(const std::deque<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

void Forget(std::deque<std::string>& keys, const std::string& key) {
  keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
}

}  // namespace

PushOrder::Ticket::~Ticket() {
  if (order_) order_->End(device_, key_, false);
}

void PushOrder::Ticket::Committed() {
  if (order_) order_->End(device_, key_, true);
  order_ = nullptr;
}

PushOrder::Ticket PushOrder::Begin(int64_t device, const std::string& key) {
  {
    std::lock_guard lock(mu_);
    devices_[device].running.insert(key);
  }
  changed_.notify_all();
  return Ticket(*this, device, key);
}

void PushOrder::End(int64_t device, const std::string& key, bool committed) {
  {
    std::lock_guard lock(mu_);
    DeviceBatches& batches = devices_[device];
    if (auto at = batches.running.find(key); at != batches.running.end()) batches.running.erase(at);
    // A batch retried after a failure may be committed by the retry: the last outcome counts.
    Forget(batches.committed, key);
    Forget(batches.failed, key);
    std::deque<std::string>& outcome = committed ? batches.committed : batches.failed;
    outcome.push_back(key);
    if (outcome.size() > kRemembered) outcome.pop_front();
  }
  changed_.notify_all();
}

bool PushOrder::WaitCommitted(int64_t device, const std::string& after) {
  const auto now = std::chrono::steady_clock::now();
  const auto grace_end = now + grace_;
  const auto bound_end = now + bound_;
  std::unique_lock lock(mu_);
  ++waiters_;
  changed_.notify_all();
  struct Leave {
    size_t& waiters;
    ~Leave() { --waiters; }  // under the lock: `lock` is destroyed after this
  } leave{waiters_};
  while (true) {
    const DeviceBatches& batches = devices_[device];
    if (batches.running.count(after) == 0) {
      if (Holds(batches.committed, after)) return true;
      if (Holds(batches.failed, after)) return false;
      // Not seen yet: it may still be on its way.
      if (changed_.wait_until(lock, grace_end) == std::cv_status::timeout) {
        const DeviceBatches& late = devices_[device];
        if (late.running.count(after) == 0) return Holds(late.committed, after);
      }
      continue;
    }
    if (changed_.wait_until(lock, bound_end) == std::cv_status::timeout) {
      const DeviceBatches& late = devices_[device];
      return late.running.count(after) == 0 && Holds(late.committed, after);
    }
  }
}

void PushOrder::AwaitWaiters(size_t n) {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return waiters_ >= n; });
}

}  // namespace relais::server
