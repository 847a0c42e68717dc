// A userspace stand-in for `tc qdisc … netem`, for kernels built without sch_netem: two TUN
// interfaces (one in this network namespace, one in another) joined by a thread that forwards
// every IP packet with a one-way delay, random loss and a serialisation rate, per direction. The
// kernel's own TCP runs over it unchanged, so retransmissions, slow start and timeouts behave as on
// a real poor link. Used by PoorLink (tests/e2e/poor_link.h); knows nothing of Relais.
//
// Not a general tool: packets queue in memory (bounded, tail drop like netem's default limit of
// 1,000 packets), one thread, Linux only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <thread>

namespace relais::e2e {

// netem's three knobs, applied to each direction separately (as `tc netem` on both veth ends).
struct LinkShape {
  double delay_ms = 300;  // one way
  double loss = 0.01;     // probability that a packet is dropped
  double rate_bits_per_s = 256000;
  size_t queue_limit = 1000;  // packets waiting per direction; more are dropped
};

// What went over an impaired link, both directions added up.
struct LinkCounters {
  uint64_t packets = 0;  // offered to the link while impaired, dropped ones included
  uint64_t dropped = 0;  // lost on purpose or over the queue limit
};

// Opens a new TUN interface (IFF_TUN, no packet info) named `name` in the network namespace at
// `netns_path` ("" = the caller's). Returns its non-blocking descriptor, or -1 with `error` set.
// The calling thread re-enters its own namespace before returning, whatever happens.
int OpenTun(const std::string& name, const std::string& netns_path, std::string& error);

// Forwards packets between two TUN descriptors, which it owns and closes (closing a TUN descriptor
// removes its interface). Clean, fast forwarding until SetImpaired(true); then each packet is
// dropped with probability `loss`, else leaves after the packets ahead of it have been serialised
// at `rate_bits_per_s`, and arrives `delay_ms` later. Thread-safe: SetImpaired() and counters()
// may be called from any thread while the forwarding thread runs.
class TunLink {
 public:
  TunLink(int fd_a, int fd_b, LinkShape shape, uint32_t seed);
  ~TunLink();  // stops and joins the forwarding thread, then closes every descriptor
  TunLink(const TunLink&) = delete;
  TunLink& operator=(const TunLink&) = delete;

  void SetImpaired(bool impaired) { impaired_ = impaired; }
  LinkCounters counters() const { return {packets_.load(), dropped_.load()}; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Packet {
    Clock::time_point deliver_at;
    std::string bytes;
  };

  void Loop();
  void Forward(int to, std::string packet);

  int fds_[2];
  int wake_[2] = {-1, -1};  // a pipe whose write end wakes the thread up to stop
  LinkShape shape_;
  std::mt19937 random_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> impaired_{false};
  std::atomic<uint64_t> packets_{0};
  std::atomic<uint64_t> dropped_{0};
  // Touched by the forwarding thread only.
  std::deque<Packet> queues_[2];            // by destination descriptor
  Clock::time_point link_free_at_[2] = {};  // when the link towards each side is next idle
  std::thread thread_;
};

}  // namespace relais::e2e
