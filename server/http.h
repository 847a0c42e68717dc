// The HTTP API of the central endpoint (docs/PROTOCOL.md): /v1/health, /v1/whoami, /v1/push and
// /v1/pull over a CentralStore, served by the front of server/front.h (libmicrohttpd).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "server/front.h"
#include "server/store.h"
#include "sync/codec.h"

namespace relais::server {

struct HttpOptions {
  // A body larger than this once inflated is refused with 413; inflating stops at the limit, so a
  // compression bomb costs at most this much memory.
  size_t max_body_bytes = sync::kMaxBodyBytes;
  size_t default_pull_limit = 5000;
  // Bytes of request bodies held at once, as read and as inflated beyond 8 MiB (server/front.h,
  // MemoryBudget); a body that does not fit now is answered 503 with Retry-After.
  size_t max_body_memory = 128u << 20;
  // Wrong tokens from one client address: a burst of this many, then one per this many
  // milliseconds; beyond, 429 with Retry-After (server/auth_throttle.h).
  size_t bad_token_burst = 20;
  int64_t bad_token_interval_ms = 1000;
  // The front: workers, the largest body on the wire (413 beyond, before it is read), the listen
  // backlog, connection limits, deadlines, TLS files and trusted proxies (server/front.h,
  // docs/SERVER.md "Limits"). Its body_budget and log are set from the members here.
  front::FrontOptions front;
  // The centre's wall clock, sent in pull pages (sync::PullPage::now_ms); nullptr: the system's.
  const Clock* clock = nullptr;
  // Receives one line per request (method, path, status, device, counts, duration; never a body
  // or a record's content). Defaults to stderr. Called from the server's threads: must be
  // thread-safe.
  std::function<void(std::string_view line)> log;
  // The erasure ledger (server/erasure_ledger.h) an erasure over the staff API is written to before
  // the store commits it; empty: none.
  std::string erasure_ledger;
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
  // Whether it serves TLS; ReloadTls() reads the certificate and key again (SIGHUP): on failure
  // the ones in use stay, and the reason is returned.
  bool Tls() const;
  Status ReloadTls();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace relais::server
