// The centre's HTTP transport: an event-driven front on libmicrohttpd (docs/SERVER.md, "The
// front"). It reads requests (headers, then the body within its limits), routes them by method and
// path to handlers that run on a pool of workers, and writes their answers; it holds the limits that
// keep idle, slow or oversized clients from starving the workers, serves TLS when given a
// certificate, and writes one log line per request. It knows nothing of the protocol: the
// handlers (server/http.cc) do.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace relais::server::front {

// ASCII comparison without case, as HTTP compares header names.
struct LessIgnoringCase {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::multimap<std::string, std::string, LessIgnoringCase>;

// Bytes of request bodies held in memory at once: taken by the front for each body as it is read
// (its Content-Length) and by handlers for what they inflate, given back when done. Thread-safe.
class MemoryBudget {
 public:
  explicit MemoryBudget(size_t bytes) : left_(static_cast<int64_t>(bytes)) {}
  // False, taking nothing, when fewer than `n` bytes are left.
  bool Take(size_t n);
  void Give(size_t n) { left_ += static_cast<int64_t>(n); }

 private:
  std::atomic<int64_t> left_;
};

// `n` bytes of a budget for a scope; ok() false when they could not be had (or no budget: true).
class BudgetHold {
 public:
  BudgetHold(MemoryBudget* budget, size_t n) : budget_(budget), n_(n) { ok_ = budget_ == nullptr || budget_->Take(n_); }
  ~BudgetHold() {
    if (budget_ != nullptr && ok_) budget_->Give(n_);
  }
  BudgetHold(const BudgetHold&) = delete;
  BudgetHold& operator=(const BudgetHold&) = delete;
  bool ok() const { return ok_; }

 private:
  MemoryBudget* budget_;
  size_t n_;
  bool ok_ = false;
};

struct Request {
  std::string method;
  std::string target;                              // as sent: path and query, still percent-encoded
  std::string path;                                // decoded, without the query
  std::multimap<std::string, std::string> params;  // the query, decoded
  Headers headers;
  std::string body;                  // as sent on the wire (not inflated)
  bool body_too_large = false;       // the body went over FrontOptions::max_raw_body_bytes: not read
  bool busy = false;                 // the body budget could not hold the body now: not read
  std::vector<std::string> matches;  // [0] the path, then what each `*` of the route matched
  std::string peer;                  // the connection's address
  std::string client;                // X-Forwarded-For's last address from a trusted proxy, else peer

  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
  std::string get_header_value(const std::string& name) const;
  bool has_param(const std::string& name) const { return params.count(name) > 0; }
  std::string get_param_value(const std::string& name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  void set_content(std::string content, const char* type);
  void set_header(const std::string& name, const std::string& value) { headers.emplace(name, value); }
  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
  std::string get_header_value(const std::string& name) const;
};

// What a handler adds to its request's log line: the device, and counts (never content).
struct LogNote {
  std::string device;
  std::string detail;
};

using Handler = std::function<void(const Request&, Response&, LogNote&)>;

struct FrontOptions {
  // Workers that run handlers. Connections wait for a worker only once their request is read.
  size_t threads = 8;
  // Threads that read and write connections (epoll); they never run a handler.
  size_t io_threads = 2;
  // A body larger than this on the wire is not read: the handler sees body_too_large.
  size_t max_raw_body_bytes = 16u << 20;
  // Bodies are read only within this budget (nullptr: no limit); beyond, the handler sees busy.
  std::shared_ptr<MemoryBudget> body_budget;
  // Connections held at once: in all, and from one address (the peer's, not a forwarded one).
  size_t max_connections = 10000;
  size_t max_connections_per_address = 64;
  // A request's line and headers must arrive within this many seconds of the connection's opening
  // or of the previous answer; its body must then keep to min_body_bytes_per_second on average,
  // after the same grace. Otherwise the connection is closed.
  unsigned header_timeout_s = 10;
  size_t min_body_bytes_per_second = 1024;
  // Headers a request may carry, in count, and in bytes with its request line (431 beyond).
  size_t max_headers = 100;
  size_t max_header_bytes = 32u << 10;
  // Seconds a connection may make no progress while its answer is written.
  unsigned write_timeout_s = 60;
  // Connections the kernel completes and holds until the front accepts them: a burst of devices
  // must not overflow it (the kernel would drop their handshakes, retried a second later). The
  // kernel caps it at net.core.somaxconn.
  int listen_backlog = 1024;
  // PEM files: TLS when both are set. The pair is read again by ReloadTls().
  std::string tls_cert_file;
  std::string tls_key_file;
  // Peers whose X-Forwarded-For is believed (exact addresses, as the log shows them).
  std::vector<std::string> trusted_proxies;
  // One line per request, and the front's own troubles. Thread-safe.
  std::function<void(std::string_view line)> log;
};

// The GnuTLS priority string the front serves with (docs/SERVER.md, "TLS").
extern const char* const kTlsPriorities;

class Front {
 public:
  explicit Front(FrontOptions options);
  ~Front();
  Front(const Front&) = delete;
  Front& operator=(const Front&) = delete;

  // `pattern` is a path where `*` stands for one non-empty segment (no '/'). A GET route answers
  // HEAD too. Routes are added before Serve().
  void Route(const std::string& method, const std::string& pattern, Handler handler);
  // Answers a request no route takes (unknown path, or a known path with another method).
  void Fallback(Handler handler);

  // Checks the TLS files (when set) and binds; port 0 lets the system pick one. Returns the bound
  // port, or the reason (French) it could not.
  Result<int> Bind(const std::string& host, int port);
  // Serves on the bound socket until Stop().
  Status Serve();
  // Asks Serve() to return once the requests in progress are answered. Any thread.
  void Stop();
  bool IsServing() const;
  bool Tls() const;
  // Reads the certificate and key files again; on success new connections get them, otherwise the
  // ones in use stay and the reason is returned.
  Status ReloadTls();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// `text` with control characters, spaces, quotes, backslashes and bytes over 0x7e written as \xHH,
// so that a logged value stays on its line and in its field.
std::string EscapeForLog(std::string_view text);

}  // namespace relais::server::front
