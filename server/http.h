// The HTTP API of the central endpoint (docs/PROTOCOL.md): /v1/health, /v1/whoami, /v1/push and
// /v1/pull over a CentralStore, with cpp-httplib kept inside server/http.cc.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "server/store.h"
#include "sync/codec.h"

namespace relais::server {

struct HttpOptions {
  // A request body larger than this on the wire is refused with 413 before it is read.
  size_t max_raw_body_bytes = 16u << 20;
  // A body larger than this once inflated is refused with 413; inflating stops at the limit, so a
  // compression bomb costs at most this much memory.
  size_t max_body_bytes = sync::kMaxBodyBytes;
  size_t default_pull_limit = 5000;
  size_t threads = 8;
  // Connections the kernel completes and holds until the server accepts them. Debian's
  // cpp-httplib is a compiled library that listens with a backlog of 5: a burst of devices
  // overflows that, and the kernel drops their handshakes, retried a second later. Bind() listens
  // again with this backlog (the kernel caps it at net.core.somaxconn).
  int listen_backlog = 1024;
  // The centre's wall clock, sent in pull pages (sync::PullPage::now_ms); nullptr: the system's.
  const Clock* clock = nullptr;
  // Receives one line per request (method, path, status, device, counts, duration; never a body
  // or a record's content). Defaults to stderr. Called from the server's threads: must be
  // thread-safe.
  std::function<void(std::string_view line)> log;
  // Called when a push sent with ?after= is about to wait for the batch it names (a latch for
  // tests); from the server's threads.
  std::function<void()> on_order_wait;
};

// The endpoint: routes bound to a store. Thread-safe as the store is; Stop() may be called from
// any thread.
class HttpEndpoint {
 public:
  HttpEndpoint(CentralStore& store, HttpOptions options = {});
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Binds to `host`:`port`; port 0 lets the system pick one. Returns the bound port, or kIo when
  // the address cannot be bound.
  Result<int> Bind(const std::string& host, int port);
  // Serves on the bound socket until Stop(). kIo if it could not serve.
  Status Serve();
  // Asks Serve() to return once the requests in progress are answered.
  void Stop();
  // True once Serve() accepts connections.
  bool IsServing() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace relais::server
