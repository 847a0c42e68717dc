#include "tests/e2e/tun_link.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace relais::e2e {

int OpenTun(const std::string& name, const std::string& netns_path, std::string& error) {
  // A TUN interface is made in the namespace of the thread that opens it: this thread visits the
  // target namespace for the ioctl and comes back; the descriptor keeps working from here.
  int home = -1;
  if (!netns_path.empty()) {
    home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (home < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
      error = "cannot enter " + netns_path + ": " + std::strerror(errno);
      if (target >= 0) close(target);
      if (home >= 0) close(home);
      return -1;
    }
    close(target);
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    error = std::string("/dev/net/tun: ") + std::strerror(errno);
  } else {
    ifreq request{};
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &request) != 0) {
      error = "TUNSETIFF " + name + ": " + std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  if (home >= 0) {
    if (setns(home, CLONE_NEWNET) != 0) {
      error = std::string("cannot return to the original network namespace: ") + std::strerror(errno);
      if (fd >= 0) close(fd);
      fd = -1;
    }
    close(home);
  }
  return fd;
}

TunLink::TunLink(int fd_a, int fd_b, LinkShape shape, uint32_t seed) : fds_{fd_a, fd_b}, shape_(shape), random_(seed) {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  thread_ = std::thread([this] { Loop(); });
}

TunLink::~TunLink() {
  stop_ = true;
  if (wake_[1] >= 0) (void)!write(wake_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (int fd : {fds_[0], fds_[1], wake_[0], wake_[1]}) {
    if (fd >= 0) close(fd);
  }
}

void TunLink::Loop() {
  std::vector<char> buffer(65536);
  while (!stop_) {
    auto now = Clock::now();
    for (int to = 0; to < 2; ++to) {
      auto& queue = queues_[to];
      while (!queue.empty() && queue.front().deliver_at <= now) {
        (void)!write(fds_[to], queue.front().bytes.data(), queue.front().bytes.size());  // a full device drops it
        queue.pop_front();
      }
    }
    int timeout_ms = 1000;
    for (const auto& queue : queues_) {
      if (queue.empty()) continue;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(queue.front().deliver_at - now).count() + 1;
      timeout_ms = std::min<int>(timeout_ms, static_cast<int>(std::max<int64_t>(wait, 0)));
    }
    pollfd fds[3] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 3, timeout_ms) < 0 && errno != EINTR) return;
    for (int from = 0; from < 2; ++from) {
      if (!(fds[from].revents & POLLIN)) continue;
      ssize_t n;
      while ((n = read(fds_[from], buffer.data(), buffer.size())) > 0) {
        Forward(1 - from, std::string(buffer.data(), static_cast<size_t>(n)));
      }
    }
  }
}

void TunLink::Forward(int to, std::string packet) {
  if (!impaired_) {
    (void)!write(fds_[to], packet.data(), packet.size());
    return;
  }
  ++packets_;
  if (std::uniform_real_distribution<double>(0, 1)(random_) < shape_.loss || queues_[to].size() >= shape_.queue_limit) {
    ++dropped_;
    return;
  }
  auto now = Clock::now();
  auto transmit = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(packet.size()) * 8 / shape_.rate_bits_per_s));
  link_free_at_[to] = std::max(link_free_at_[to], now) + transmit;
  auto delay = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(shape_.delay_ms));
  queues_[to].push_back({link_free_at_[to] + delay, std::move(packet)});
}

}  // namespace relais::e2e
