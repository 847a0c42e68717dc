// A poor link for tests and benchmarks: a network namespace of its own, joined to the caller's by a
// point-to-point link that delays, loses and throttles packets in both directions. First choice,
// the kernel's `tc netem` on a veth pair; on a kernel without sch_netem, the userspace emulator of
// tests/e2e/tun_link.h over a TUN pair. A server started in the namespace (InNamespace() followed
// by its command) is reached from here at namespace_address(). Needs root (namespaces, links, tc)
// and iproute2's `ip` and `tc`. Knows nothing of Relais: used by tests/e2e/poor_link_test.cc and
// bench/sync_bench.cc.
//
// Each instance takes names and a /30 of 10.203.0.0/16 from the process id, so a test and a bench
// running at once do not collide; the addresses exist only between the two namespaces.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/tun_link.h"

namespace relais::e2e {

class PoorLink {
 public:
  // Makes the namespace and the link, clean (no delay, no loss) until Impair(). Throws
  // std::runtime_error naming the command that failed and its message, or, when neither netem nor
  // TUN can be had, both reasons; whatever was already made is removed before the throw.
  explicit PoorLink(LinkShape shape);
  // Removes the link and the namespace. A process still running inside keeps the namespace alive
  // until it exits: stop the server first.
  ~PoorLink();
  PoorLink(const PoorLink&) = delete;
  PoorLink& operator=(const PoorLink&) = delete;

  // From now on the link delays, loses and throttles, both ways, as `shape` says. Throws as the
  // constructor does when tc refuses.
  void Impair();

  // The words that run a program inside the namespace: {".../ip", "netns", "exec", NAME}. `ip`
  // execs the program, so the process id it is started with stays that of the program.
  std::vector<std::string> InNamespace() const;
  const std::string& namespace_address() const { return namespace_address_; }
  const std::string& host_address() const { return host_address_; }

  bool uses_netem() const { return tun_ == nullptr; }
  // One line saying how the link is made, for a test's or a bench's output.
  std::string mechanism() const;
  // Why tc netem was not used ("" when it was).
  const std::string& netem_error() const { return netem_error_; }
  // Packets offered to the impaired link and packets dropped, both directions: the emulator's own
  // counts, or netem's from `tc -s qdisc show` on both ends. Throws when tc cannot be read.
  LinkCounters Counters() const;

 private:
  void Build();
  void Teardown() noexcept;
  void Command(const std::vector<std::string>& args) const;
  std::string Output(const std::vector<std::string>& args) const;

  LinkShape shape_;
  std::string ip_, tc_;  // full paths
  std::string netns_, host_if_, ns_if_;
  std::string host_address_, namespace_address_;
  bool netns_added_ = false;
  bool veth_added_ = false;
  std::unique_ptr<TunLink> tun_;
  std::string netem_error_;
};

}  // namespace relais::e2e
