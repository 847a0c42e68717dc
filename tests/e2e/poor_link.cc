#include "tests/e2e/poor_link.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "tests/e2e/run.h"

namespace relais::e2e {

namespace {

// The full path of `name` (e2e::Run does not search PATH). /usr/sbin and /sbin are tried last: a
// root shell's PATH may lack them when it comes from a plain user's.
std::string FindTool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(std::string(path ? path : "") + ":/usr/sbin:/sbin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error(name + " not found: install iproute2 (scripts/setup.sh does)");
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Join(const std::vector<std::string>& args) {
  std::string line;
  for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
  return line;
}

// A number as tc reads it: "300", "0.5", "256".
std::string Decimal(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// Adds the " Sent B bytes P pkt (dropped D, …" line of `tc -s qdisc show` to `counters`.
void AddQdiscCounters(const std::string& stats, LinkCounters& counters) {
  auto at = stats.find(" Sent ");
  unsigned long long bytes = 0, packets = 0, dropped = 0;
  if (at == std::string::npos ||
      std::sscanf(stats.c_str() + at, " Sent %llu bytes %llu pkt (dropped %llu", &bytes, &packets, &dropped) != 3) {
    throw std::runtime_error("cannot read netem's counters from: " + stats);
  }
  counters.packets += packets + dropped;
  counters.dropped += dropped;
}

}  // namespace

PoorLink::PoorLink(LinkShape shape) : shape_(shape), ip_(FindTool("ip")), tc_(FindTool("tc")) {
  // Interface names are at most 15 characters; a process id has at most 7 digits.
  std::string pid = std::to_string(getpid());
  netns_ = "relais-link-" + pid;
  host_if_ = "rplh" + pid;
  ns_if_ = "rpln" + pid;
  int slot = getpid() % 16384;  // one /30 of 10.203.0.0/16
  std::string prefix = "10.203." + std::to_string(slot / 64) + ".";
  host_address_ = prefix + std::to_string(slot % 64 * 4 + 1);
  namespace_address_ = prefix + std::to_string(slot % 64 * 4 + 2);
  try {
    Build();
  } catch (...) {
    Teardown();
    throw;
  }
}

PoorLink::~PoorLink() { Teardown(); }

void PoorLink::Build() {
  Command({ip_, "netns", "add", netns_});
  netns_added_ = true;
  Command({ip_, "-n", netns_, "link", "set", "lo", "up"});

  // First choice: the kernel's netem on a veth pair. A one-millisecond qdisc probes for sch_netem
  // and is removed at once: the link stays clean until Impair().
  RunResult veth = Run({ip_, "link", "add", host_if_, "type", "veth", "peer", "name", ns_if_});
  if (veth.exit_code == 0) {
    veth_added_ = true;
    RunResult probe = Run({tc_, "qdisc", "add", "dev", host_if_, "root", "netem", "delay", "1ms"});
    if (probe.exit_code == 0) {
      Command({tc_, "qdisc", "del", "dev", host_if_, "root"});
      Command({ip_, "link", "set", ns_if_, "netns", netns_});
    } else {
      netem_error_ = "tc qdisc add dev " + host_if_ + " root netem: " + Trim(probe.err);
      Command({ip_, "link", "del", host_if_});
      veth_added_ = false;
    }
  } else {
    netem_error_ = "ip link add type veth: " + Trim(veth.err);
  }

  if (!veth_added_) {
    std::string error;
    int host_fd = OpenTun(host_if_, "", error);
    int ns_fd = host_fd < 0 ? -1 : OpenTun(ns_if_, "/run/netns/" + netns_, error);
    if (ns_fd < 0) {
      if (host_fd >= 0) close(host_fd);
      throw std::runtime_error("no way to make a poor link here: no netem (" + netem_error_ + "), and no TUN pair (" +
                               error + ")");
    }
    tun_ = std::make_unique<TunLink>(host_fd, ns_fd, shape_, 20261123);
  }

  Command({ip_, "addr", "add", host_address_ + "/30", "dev", host_if_});
  Command({ip_, "link", "set", host_if_, "up"});
  Command({ip_, "-n", netns_, "addr", "add", namespace_address_ + "/30", "dev", ns_if_});
  Command({ip_, "-n", netns_, "link", "set", ns_if_, "up"});
}

void PoorLink::Teardown() noexcept {
  tun_.reset();  // closes both TUN interfaces, which removes them
  try {
    if (veth_added_) Run({ip_, "link", "del", host_if_});  // takes its peer in the namespace along
    if (netns_added_) Run({ip_, "netns", "del", netns_});
  } catch (...) {
    // Nothing more can be done from a destructor; the names carry the process id, so a leftover
    // does not stand in the way of the next run.
  }
  veth_added_ = netns_added_ = false;
}

void PoorLink::Impair() {
  if (tun_) {
    tun_->SetImpaired(true);
    return;
  }
  std::vector<std::string> netem = {"root",  "netem",
                                    "delay", Decimal(shape_.delay_ms) + "ms",
                                    "loss",  Decimal(shape_.loss * 100) + "%",
                                    "rate",  Decimal(shape_.rate_bits_per_s / 1000) + "kbit",
                                    "limit", std::to_string(shape_.queue_limit)};
  std::vector<std::string> host = {tc_, "qdisc", "add", "dev", host_if_};
  std::vector<std::string> far = {tc_, "-n", netns_, "qdisc", "add", "dev", ns_if_};
  host.insert(host.end(), netem.begin(), netem.end());
  far.insert(far.end(), netem.begin(), netem.end());
  Command(host);
  Command(far);
}

std::vector<std::string> PoorLink::InNamespace() const { return {ip_, "netns", "exec", netns_}; }

std::string PoorLink::mechanism() const {
  if (!tun_) return "tc netem on a veth pair";
  return "TUN pair + userspace netem (tests/e2e/tun_link.h), tc netem being refused here";
}

LinkCounters PoorLink::Counters() const {
  if (tun_) return tun_->counters();
  LinkCounters counters;
  AddQdiscCounters(Output({tc_, "-s", "qdisc", "show", "dev", host_if_}), counters);
  AddQdiscCounters(Output({tc_, "-n", netns_, "-s", "qdisc", "show", "dev", ns_if_}), counters);
  return counters;
}

void PoorLink::Command(const std::vector<std::string>& args) const { Output(args); }

std::string PoorLink::Output(const std::vector<std::string>& args) const {
  RunResult r = Run(args);
  if (r.exit_code != 0) throw std::runtime_error(Join(args) + ": " + Trim(r.err));
  return r.out;
}

}  // namespace relais::e2e
