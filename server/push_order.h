#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace relais::server {

// The order of one device's push batches when it sends the next before the answer to the one
// before (POST /v1/push?after=KEY, docs/PROTOCOL.md, "Two batches in flight"): the batch that names
// `after` is decoded at once, then applied only once batch `after` is committed. A batch after one
// that failed, or that the centre does not know, is refused (409) and applies nothing: the device
// sends it again once it has the answer to the one before.
//
// Kept in memory: a centre that restarts knows none of the batches committed before, and refuses
// the batch after them; the device then resends it, as it would after any 409 of this kind.
// Thread-safe.
class PushOrder {
 public:
  // `grace`: how long a batch waits for the one it names to arrive (sent just before it, on
  // another connection, it may still be on its way). `bound`: how long it waits in all.
  explicit PushOrder(std::chrono::milliseconds grace = std::chrono::seconds(2),
                     std::chrono::milliseconds bound = std::chrono::seconds(60))
      : grace_(grace), bound_(bound) {}
  PushOrder(const PushOrder&) = delete;
  PushOrder& operator=(const PushOrder&) = delete;

  // Batch `key` of `device` under way, from Begin() until Committed() (applied, or answered again
  // from the store: the batches waiting for it go on at once, before its answer is compressed and
  // sent), or until the ticket is destroyed without it (failed).
  class Ticket {
   public:
    Ticket(PushOrder& order, int64_t device, std::string key) : order_(&order), device_(device), key_(std::move(key)) {}
    ~Ticket();
    Ticket(Ticket&& other) noexcept : order_(other.order_), device_(other.device_), key_(std::move(other.key_)) {
      other.order_ = nullptr;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    void Committed();

   private:
    PushOrder* order_;
    int64_t device_;
    std::string key_;
  };

  Ticket Begin(int64_t device, const std::string& key);

  // Whether batch `after` of `device` is committed: waits while it is under way (up to the bound),
  // and up to the grace for it to begin. False when it failed, or is not known in time.
  bool WaitCommitted(int64_t device, const std::string& after);

  // Blocks until at least `n` callers wait in WaitCommitted at once: a latch for tests that must
  // know a caller waits before they go on.
  void AwaitWaiters(size_t n);

 private:
  // The last batches of a device remembered as committed, and as failed.
  static constexpr size_t kRemembered = 64;

  struct DeviceBatches {
    std::multiset<std::string> running;
    std::deque<std::string> committed;
    std::deque<std::string> failed;
  };

  void End(int64_t device, const std::string& key, bool committed);

  const std::chrono::milliseconds grace_;
  const std::chrono::milliseconds bound_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<int64_t, DeviceBatches> devices_;
  size_t waiters_ = 0;  // callers in WaitCommitted
};

}  // namespace relais::server
