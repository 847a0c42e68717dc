#include "server/front.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_set>

namespace relais::server::front {

namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now().time_since_epoch()).count();
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == Lower(y); });
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as cpp-httplib did it (and '+' as a space in a query).
std::string Decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 && HexDigit(text[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2]));
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

// Control characters and backslashes as \xHH; with `field`, spaces and quotes too.
std::string Escape(std::string_view text, bool field) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == '\\' || (field && (c == ' ' || c == '"'))) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string AddressText(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = "-";
  if (addr == nullptr) return text;
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof text);
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text, sizeof text);
  }
  return text;
}

bool IsAddress(const std::string& text) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::string_view Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// --- TLS: a certificate chain and its key, loaded whole or not at all. Never freed: the GnuTLS
// sessions that took one may outlive a reload, and reloads are rare (one per renewal).
struct Credentials {
  std::vector<gnutls_pcert_st> chain;
  gnutls_privkey_t key = nullptr;
};

std::atomic<Credentials*> g_credentials{nullptr};

// Every set ever loaded, reachable until the process ends (so that the leak checker of a
// sanitized build sees them held, not lost); the list itself is never destroyed, as a GnuTLS
// session may still use a set while the process exits.
void KeepForever(Credentials* creds) {
  static std::mutex mutex;
  static auto* kept = new std::vector<Credentials*>();  // NOLINT(cppcoreguidelines-owning-memory)
  std::lock_guard<std::mutex> lock(mutex);
  kept->push_back(creds);
}

Result<std::string> ReadWhole(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kIo, std::string(what) + " " + path + " : fichier illisible ou absent");
  std::ostringstream all;
  all << in.rdbuf();
  return all.str();
}

std::string PublicKeyOf(gnutls_pubkey_t key) {
  gnutls_datum_t der{nullptr, 0};
  if (gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &der) != GNUTLS_E_SUCCESS) return {};
  std::string out(reinterpret_cast<const char*>(der.data), der.size);
  gnutls_free(der.data);
  return out;
}

Result<Credentials*> LoadCredentials(const std::string& cert_file, const std::string& key_file) {
  auto cert_pem = ReadWhole(cert_file, "--tls-cert");
  if (!cert_pem) return cert_pem.error();
  auto key_pem = ReadWhole(key_file, "--tls-key");
  if (!key_pem) return key_pem.error();
  auto creds = std::make_unique<Credentials>();
  unsigned int count = 16;
  creds->chain.resize(count);
  gnutls_datum_t cert_datum{reinterpret_cast<unsigned char*>(cert_pem->data()),
                            static_cast<unsigned int>(cert_pem->size())};
  int rc = gnutls_pcert_list_import_x509_raw(creds->chain.data(), &count, &cert_datum, GNUTLS_X509_FMT_PEM, 0);
  if (rc < 0 || count == 0) {
    return MakeError(ErrorCode::kUsage,
                     "--tls-cert " + cert_file + " : aucun certificat PEM lisible (" + gnutls_strerror(rc) + ")");
  }
  creds->chain.resize(count);
  auto release_chain = [&] {
    for (gnutls_pcert_st& p : creds->chain) gnutls_pcert_deinit(&p);
  };
  gnutls_datum_t key_datum{reinterpret_cast<unsigned char*>(key_pem->data()),
                           static_cast<unsigned int>(key_pem->size())};
  gnutls_privkey_init(&creds->key);
  rc = gnutls_privkey_import_x509_raw(creds->key, &key_datum, GNUTLS_X509_FMT_PEM, nullptr, 0);
  if (rc < 0) {
    gnutls_privkey_deinit(creds->key);
    release_chain();
    return MakeError(ErrorCode::kUsage,
                     "--tls-key " + key_file + " : aucune clé privée PEM lisible (" + gnutls_strerror(rc) + ")");
  }
  gnutls_pubkey_t from_key = nullptr;
  gnutls_pubkey_init(&from_key);
  const bool matches = gnutls_pubkey_import_privkey(from_key, creds->key, 0, 0) == GNUTLS_E_SUCCESS &&
                       PublicKeyOf(from_key) == PublicKeyOf(creds->chain[0].pubkey) && !PublicKeyOf(from_key).empty();
  gnutls_pubkey_deinit(from_key);
  if (!matches) {
    gnutls_privkey_deinit(creds->key);
    release_chain();
    return MakeError(ErrorCode::kUsage, "--tls-key " + key_file + " n'est pas la clé du certificat " + cert_file);
  }
  return creds.release();
}

int CertificateCallback(gnutls_session_t, const gnutls_datum_t*, int, const gnutls_pk_algorithm_t*, int,
                        gnutls_pcert_st** chain, unsigned int* chain_length, gnutls_privkey_t* key) {
  Credentials* creds = g_credentials.load();
  if (creds == nullptr) return -1;
  *chain = creds->chain.data();
  *chain_length = static_cast<unsigned int>(creds->chain.size());
  *key = creds->key;
  return 0;
}

}  // namespace

// TLS 1.3 and 1.2 only; AEAD ciphers only (AES-GCM, ChaCha20-Poly1305), and in TLS 1.2 only
// ephemeral ECDH key exchange (forward secrecy); SECURE128's groups and signatures (no SHA-1, no
// key under 128-bit strength); the server's order of preference. This is Mozilla's "intermediate"
// profile in GnuTLS's words: every client of the last seven years, libcurl included, speaks it.
const char* const kTlsPriorities =
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:"
    "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE";

bool LessIgnoringCase::operator()(const std::string& a, const std::string& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return Lower(x) < Lower(y); });
}

std::string Request::get_header_value(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::get_param_value(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

void Response::set_content(std::string content, const char* type) {
  body = std::move(content);
  headers.erase("Content-Type");
  headers.emplace("Content-Type", type);
}

std::string Response::get_header_value(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string EscapeForLog(std::string_view text) { return Escape(text, true); }

bool MemoryBudget::Take(size_t n) {
  const auto want = static_cast<int64_t>(n);
  int64_t left = left_.load();
  while (left >= want) {
    if (left_.compare_exchange_weak(left, left - want)) return true;
  }
  return false;
}

namespace {

// Where a connection stands, for the deadline keeper.
enum class Phase { kHeaders, kBody, kHandling };

struct Exchange;

struct Connection {
  int fd = -1;
  std::string peer;
  std::atomic<Phase> phase{Phase::kHeaders};
  std::atomic<int64_t> since_ms{0};  // when the phase began
  std::atomic<size_t> body_bytes{0};
  Exchange* current = nullptr;  // the request being read or answered; the I/O thread's
};

enum class Stage { kNew, kReading, kDispatched, kAnswered };

// One request and its answer, from its request line to its log line.
struct Exchange {
  Connection* connection = nullptr;
  int64_t start_ms = 0;
  Request request;
  Response response;
  LogNote note;
  std::atomic<Stage> stage{Stage::kNew};
  bool handled = false;     // a handler wrote `response`
  bool dispatched = false;  // counted in Impl::in_flight until Completed()
  size_t reserved = 0;      // bytes of FrontOptions::body_budget held for the body
  size_t discarded = 0;     // bytes of a refused body read and dropped
};

class WorkerPool {
 public:
  explicit WorkerPool(size_t n) {
    for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void Submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
      ++pending_;
    }
    ready_.notify_one();
  }
  // Waits until every submitted task has run.
  void Drain() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) idle_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_, idle_;
  std::deque<std::function<void()>> tasks_;
  size_t pending_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

struct RouteEntry {
  std::string method;
  std::vector<std::string> segments;  // "*" matches one non-empty segment
  Handler handler;
};

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

struct Front::Impl {
  explicit Impl(FrontOptions o) : options(std::move(o)) {
    if (!options.log)
      options.log = [](std::string_view line) {
        std::string text(line);
        text += '\n';
        std::fwrite(text.data(), 1, text.size(), stderr);
      };
    for (const std::string& proxy : options.trusted_proxies) trusted.insert(proxy);
  }

  FrontOptions options;
  std::unordered_set<std::string> trusted;
  std::vector<RouteEntry> routes;
  Handler fallback;
  int listen_fd = -1;
  MHD_Daemon* daemon = nullptr;
  std::unique_ptr<WorkerPool> pool;
  std::atomic<bool> serving{false};
  std::atomic<bool> draining{false};  // stopping: requests begun now are answered 503
  std::atomic<int> in_flight{0};  // requests given to a worker and not yet answered
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stop_requested = false;

  // Every open connection, for the deadline keeper, which closes (shutdown()) the late ones.
  std::mutex connections_mutex;
  std::unordered_set<Connection*> connections;

  const Handler* Find(Request& req, bool& path_known) const {
    const std::vector<std::string_view> parts = Segments(req.path);
    path_known = false;
    for (const RouteEntry& route : routes) {
      if (route.segments.size() != parts.size()) continue;
      std::vector<std::string> matches{req.path};
      bool match = true;
      for (size_t i = 0; i < parts.size() && match; ++i) {
        if (route.segments[i] == "*") {
          match = !parts[i].empty() && parts[i].find('/') == std::string_view::npos;
          matches.emplace_back(parts[i]);
        } else {
          match = route.segments[i] == parts[i];
        }
      }
      if (!match) continue;
      path_known = true;
      if (route.method == req.method || (route.method == "GET" && req.method == "HEAD")) {
        req.matches = std::move(matches);
        return &route.handler;
      }
    }
    req.matches = {req.path};
    return nullptr;
  }

  void Run(Exchange& x) {
    bool known = false;
    const Handler* handler = Find(x.request, known);
    try {
      if (handler != nullptr)
        (*handler)(x.request, x.response, x.note);
      else if (fallback)
        fallback(x.request, x.response, x.note);
      else
        x.response.status = 404;
    } catch (const std::exception& e) {
      // Handlers catch their own (server/http.cc); this is the last resort.
      x.response = Response{};
      x.response.status = 500;
      x.note.detail += " exception=\"" + Escape(e.what(), false) + "\"";
    } catch (...) {
      x.response = Response{};
      x.response.status = 500;
    }
    x.handled = true;
  }

  void Log(const Exchange& x, MHD_RequestTerminationCode how) {
    const Request& req = x.request;
    std::string line = (req.method.empty() ? std::string("-") : Escape(req.method, true)) + " " +
                       (req.path.empty() ? std::string("-") : Escape(req.path, true)) + " " +
                       (x.handled ? std::to_string(x.response.status) : std::string("-"));
    line += " device=" + (x.note.device.empty() ? std::string("-") : Escape(x.note.device, true));
    line += Escape(x.note.detail, false);
    line += " ms=" + std::to_string(NowMs() - x.start_ms);
    line += " addr=" + Escape(req.peer, true);
    if (req.client != req.peer) line += " fwd=" + Escape(req.client, true);
    if (how != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
      const char* why = how == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED   ? "timeout"
                        : how == MHD_REQUEST_TERMINATED_CLIENT_ABORT    ? "client_abort"
                        : how == MHD_REQUEST_TERMINATED_READ_ERROR      ? "read_error"
                        : how == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutdown"
                                                                        : "error";
      line += std::string(" closed=") + why;
    }
    options.log(line);
  }

  // Closes the connections that missed their deadline (FrontOptions::header_timeout_s and
  // min_body_bytes_per_second). MHD's own timeout only counts inactivity, which a byte every few
  // seconds resets; this counts from the start of the phase. shutdown() under the mutex that
  // NotifyConnection's CLOSED takes, so the descriptor is still this connection's.
  void KeepDeadlines() {
    const int64_t now = NowMs();
    const int64_t grace = static_cast<int64_t>(options.header_timeout_s) * 1000;
    std::lock_guard<std::mutex> lock(connections_mutex);
    for (Connection* c : connections) {
      const int64_t elapsed = now - c->since_ms.load();
      bool late = false;
      switch (c->phase.load()) {
        case Phase::kHeaders:
          late = elapsed > grace;
          break;
        case Phase::kBody:
          late = elapsed > grace &&
                 static_cast<double>(c->body_bytes.load()) < static_cast<double>(elapsed - grace) / 1000.0 *
                                                                 static_cast<double>(options.min_body_bytes_per_second);
          break;
        case Phase::kHandling:
          break;
      }
      if (late) ::shutdown(c->fd, SHUT_RDWR);
    }
  }

  void Dispatch(Exchange* x, MHD_Connection* connection) {
    ++in_flight;
    x->dispatched = true;
    x->stage = Stage::kDispatched;
    x->connection->phase = Phase::kHandling;
    MHD_suspend_connection(connection);
    pool->Submit([this, x, connection] {
      Run(*x);
      x->stage = Stage::kAnswered;
      MHD_resume_connection(connection);
    });
  }

  MHD_Result Answer(Exchange* x, MHD_Connection* connection) {
    Response& res = x->response;
    MHD_Response* response = MHD_create_response_from_buffer(res.body.size(), res.body.data(), MHD_RESPMEM_PERSISTENT);
    if (response == nullptr) return MHD_NO;
    for (const auto& [name, value] : res.headers) MHD_add_response_header(response, name.c_str(), value.c_str());
    const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned int>(res.status), response);
    MHD_destroy_response(response);
    return queued;
  }

  // An answer the front writes itself (431), before any handler.
  MHD_Result Refuse(Exchange* x, MHD_Connection* connection, int status, const std::string& why) {
    x->response.status = status;
    x->response.headers.emplace("Connection", "close");
    x->handled = true;
    x->note.detail += " refused=\"" + why + "\"";
    x->stage = Stage::kAnswered;
    return Answer(x, connection);
  }

  MHD_Result Access(MHD_Connection* connection, const char* url, const char* method, const char* upload_data,
                    size_t* upload_data_size, void** con_cls) {
    auto* x = static_cast<Exchange*>(*con_cls);
    if (x == nullptr) return MHD_NO;  // every request passes UriLog first
    switch (x->stage.load()) {
      case Stage::kNew:
        return Begin(x, connection, url, method);
      case Stage::kReading:
        if (*upload_data_size > 0) {
          if (x->request.body_too_large || x->request.busy) {
            // A body refused before it was read, sent without waiting for 100 Continue: read and
            // dropped (up to 4 times the limit), so that the client, still sending, gets its answer.
            x->discarded += *upload_data_size;
            x->connection->body_bytes += *upload_data_size;
            *upload_data_size = 0;
            if (x->discarded > 4 * options.max_raw_body_bytes) {
              x->note.detail += " refused=\"body over the limit\"";
              return MHD_NO;
            }
            return MHD_YES;
          }
          const size_t want = x->request.body.size() + *upload_data_size;
          // A body without Content-Length (chunked): held to the same limit, and taken from the
          // budget as it comes; beyond either, it is read and dropped like a refused one.
          bool refused = want > options.max_raw_body_bytes;
          if (!refused && want > x->reserved) {
            const size_t more = want - x->reserved;
            if (options.body_budget && !options.body_budget->Take(more)) {
              x->request.busy = true;
              refused = true;
            } else {
              x->reserved += more;
            }
          }
          if (refused) {
            x->request.body_too_large = !x->request.busy;
            std::string().swap(x->request.body);
            x->discarded += *upload_data_size;
            x->connection->body_bytes += *upload_data_size;
            *upload_data_size = 0;
            return MHD_YES;
          }
          x->request.body.append(upload_data, *upload_data_size);
          x->connection->body_bytes += *upload_data_size;
          *upload_data_size = 0;
          return MHD_YES;
        }
        Dispatch(x, connection);
        return MHD_YES;
      case Stage::kDispatched:
        *upload_data_size = 0;
        return MHD_YES;
      case Stage::kAnswered:
        *upload_data_size = 0;
        return Answer(x, connection);
    }
    return MHD_NO;
  }

  MHD_Result Begin(Exchange* x, MHD_Connection* connection, const char* /*url*/, const char* method) {
    Request& req = x->request;
    req.method = method;
    size_t header_bytes = req.target.size() + req.method.size();
    MHD_get_connection_values(
        connection, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
          static_cast<Headers*>(cls)->emplace(key, value == nullptr ? "" : value);
          return MHD_YES;
        },
        &req.headers);
    for (const auto& [name, value] : req.headers) header_bytes += name.size() + value.size() + 4;
    if (trusted.count(req.peer) > 0) {
      const std::string forwarded = req.get_header_value("X-Forwarded-For");
      const size_t comma = forwarded.rfind(',');
      std::string last(Trim(comma == std::string::npos ? forwarded : forwarded.substr(comma + 1)));
      if (IsAddress(last)) req.client = last;
    }
    x->connection->phase = Phase::kBody;
    x->connection->since_ms = NowMs();
    x->connection->body_bytes = 0;
    if (draining) {
      x->response.headers.emplace("Retry-After", "1");
      x->response.headers.emplace("Content-Type", "application/json");
      x->response.body = R"({"error":{"code":"io","message":"le centre s'arrête ; réessayez dans un instant"}})";
      return Refuse(x, connection, 503, "stopping");
    }
    if (req.headers.size() > options.max_headers) {
      return Refuse(x, connection, 431, "headers=" + std::to_string(req.headers.size()));
    }
    if (header_bytes > options.max_header_bytes) {
      return Refuse(x, connection, 431, "header_bytes=" + std::to_string(header_bytes));
    }
    x->stage = Stage::kReading;
    // A body refused unread is answered at once when the client waits for 100 Continue; otherwise
    // after it is read and dropped (a client that does not wait would get a broken pipe).
    const bool waits = EqualsIgnoringCase(req.get_header_value("Expect"), "100-continue");
    const std::string length = req.get_header_value("Content-Length");
    if (!length.empty()) {
      char* end = nullptr;
      errno = 0;
      const unsigned long long n = std::strtoull(length.c_str(), &end, 10);
      if (errno != 0 || end == length.c_str() || n > options.max_raw_body_bytes) {
        req.body_too_large = true;
      } else if (options.body_budget && !options.body_budget->Take(static_cast<size_t>(n))) {
        req.busy = true;
      } else {
        x->reserved = static_cast<size_t>(n);
        req.body.reserve(static_cast<size_t>(n));
      }
      if ((req.body_too_large || req.busy) && waits) Dispatch(x, connection);
    }
    return MHD_YES;
  }

  static void* UriLog(void* /*cls*/, const char* uri, MHD_Connection* connection) {
    auto* x = new Exchange;
    x->start_ms = NowMs();
    x->request.target = uri == nullptr ? "" : uri;
    const size_t question = x->request.target.find('?');
    x->request.path = Decode(std::string_view(x->request.target).substr(0, question), false);
    if (question != std::string::npos) {
      std::string_view query = std::string_view(x->request.target).substr(question + 1);
      while (!query.empty()) {
        const size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const size_t equals = pair.find('=');
        x->request.params.emplace(Decode(pair.substr(0, equals), true), equals == std::string_view::npos
                                                                            ? std::string()
                                                                            : Decode(pair.substr(equals + 1), true));
      }
    }
    const MHD_ConnectionInfo* address = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    x->request.peer = AddressText(address != nullptr ? address->client_addr : nullptr);
    x->request.client = x->request.peer;
    const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    auto* c = info != nullptr ? static_cast<Connection*>(info->socket_context) : nullptr;
    if (c != nullptr) {
      delete c->current;  // (a request MHD gave up on before any handler: nothing else holds it)
      c->current = x;
      x->connection = c;
    } else {
      static Connection orphan;  // never expected: NotifyConnection gives each connection one
      x->connection = &orphan;
    }
    return x;
  }

  static void Completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode how) {
    auto* self = static_cast<Impl*>(cls);
    auto* x = static_cast<Exchange*>(*con_cls);
    if (x == nullptr) return;
    *con_cls = nullptr;
    if (x->dispatched) --self->in_flight;
    if (x->reserved > 0 && self->options.body_budget) self->options.body_budget->Give(x->reserved);
    x->reserved = 0;
    self->Log(*x, how);
    Connection* c = x->connection;
    if (c->current == x) c->current = nullptr;
    c->phase = Phase::kHeaders;
    c->since_ms = NowMs();
    delete x;
  }

  static void NotifyConnection(void* cls, MHD_Connection* connection, void** socket_context,
                               MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<Impl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* c = new Connection;
      const MHD_ConnectionInfo* fd = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      c->fd = fd != nullptr ? fd->connect_fd : -1;
      c->since_ms = NowMs();
      *socket_context = c;
      std::lock_guard<std::mutex> lock(self->connections_mutex);
      self->connections.insert(c);
      return;
    }
    auto* c = static_cast<Connection*>(*socket_context);
    if (c == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(self->connections_mutex);
      self->connections.erase(c);
    }
    if (c->current != nullptr && c->current->reserved > 0 && self->options.body_budget)
      self->options.body_budget->Give(c->current->reserved);
    delete c->current;
    delete c;
    *socket_context = nullptr;
  }

  static void MhdLog(void* cls, const char* format, va_list args) {
    auto* self = static_cast<Impl*>(cls);
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    std::string_view trimmed = text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' || trimmed.back() == ' '))
      trimmed.remove_suffix(1);
    std::string line = "front: " + Escape(trimmed, false);
    self->options.log(line);
  }
};

namespace {

MHD_Result AccessCallback(void* cls, MHD_Connection* connection, const char* url, const char* method,
                          const char* /*version*/, const char* upload_data, size_t* upload_data_size, void** con_cls) {
  return static_cast<Front::Impl*>(cls)->Access(connection, url, method, upload_data, upload_data_size, con_cls);
}

}  // namespace

Front::Front(FrontOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Front::~Front() {
  Stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
}

void Front::Route(const std::string& method, const std::string& pattern, Handler handler) {
  std::vector<std::string> segments;
  for (std::string_view s : Segments(pattern)) segments.emplace_back(s);
  impl_->routes.push_back({method, std::move(segments), std::move(handler)});
}

void Front::Fallback(Handler handler) { impl_->fallback = std::move(handler); }

bool Front::Tls() const { return !impl_->options.tls_cert_file.empty(); }

Status Front::ReloadTls() {
  auto creds = LoadCredentials(impl_->options.tls_cert_file, impl_->options.tls_key_file);
  if (!creds) return creds.error();
  KeepForever(*creds);
  g_credentials.store(*creds);  // the previous set stays allocated: sessions may still use it
  return OkStatus();
}

Result<int> Front::Bind(const std::string& host, int port) {
  const std::string where = host + ":" + std::to_string(port);
  if (Tls()) {
    if (impl_->options.tls_key_file.empty())
      return MakeError(ErrorCode::kUsage, "--tls-cert demande aussi --tls-key (la clé privée du certificat)");
    gnutls_priority_t check = nullptr;
    if (gnutls_priority_init(&check, kTlsPriorities, nullptr) != GNUTLS_E_SUCCESS)
      return MakeError(ErrorCode::kInternal, "la bibliothèque TLS refuse la liste de chiffrements");
    gnutls_priority_deinit(check);
    if (auto loaded = ReloadTls(); !loaded) return loaded.error();
  } else if (!impl_->options.tls_key_file.empty()) {
    return MakeError(ErrorCode::kUsage, "--tls-key demande aussi --tls-cert (le certificat du serveur)");
  }
  if (port < 0 || port > 65535) return MakeError(ErrorCode::kUsage, "port hors de 0 à 65535 : " + where);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const std::string refused = "impossible d'écouter sur " + where +
                              " (adresse déjà utilisée, ou qui n'est pas une adresse de cette machine) : "
                              "choisissez un autre --listen";
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr)
    return MakeError(ErrorCode::kIo, refused);
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, impl_->options.listen_backlog) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return MakeError(ErrorCode::kIo, refused);
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &size) != 0) {
    ::close(fd);
    return MakeError(ErrorCode::kIo, refused);
  }
  impl_->listen_fd = fd;
  return bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

Status Front::Serve() {
  Impl& s = *impl_;
  if (s.listen_fd < 0) return MakeError(ErrorCode::kInternal, "Serve() avant Bind()");
  s.pool = std::make_unique<WorkerPool>(std::max<size_t>(1, s.options.threads));
  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (Tls()) flags |= MHD_USE_TLS;
  // The pool holds the request line and headers and the read buffer: headers get
  // max_header_bytes of it (checked in Begin(), 431), reading the body the rest.
  const size_t memory = std::max<size_t>(s.options.max_header_bytes * 2, 64u << 10);
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&Impl::MhdLog), &s},
      {MHD_OPTION_LISTEN_SOCKET, s.listen_fd, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(s.options.max_connections), nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<intptr_t>(s.options.max_connections_per_address), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(s.options.write_timeout_s), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(memory), nullptr},
      {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&Impl::UriLog), &s},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&Impl::Completed), &s},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&Impl::NotifyConnection), &s},
  };
  if (s.options.io_threads > 1)
    items.push_back({MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(s.options.io_threads), nullptr});
  if (Tls()) {
    items.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(kTlsPriorities)});
    items.push_back({MHD_OPTION_HTTPS_CERT_CALLBACK, 0, reinterpret_cast<void*>(&CertificateCallback)});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  s.daemon =
      MHD_start_daemon(flags, 0, nullptr, nullptr, &AccessCallback, &s, MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
  if (s.daemon == nullptr) {
    s.pool.reset();
    return MakeError(ErrorCode::kIo, "le serveur n'a pas pu démarrer sur sa prise d'écoute");
  }
  s.listen_fd = -1;  // the daemon's now
  s.serving = true;
  {
    std::unique_lock<std::mutex> lock(s.stop_mutex);
    while (!s.stop_requested) {
      s.stop_cv.wait_for(lock, std::chrono::milliseconds(500));
      lock.unlock();
      s.KeepDeadlines();
      lock.lock();
    }
    s.stop_requested = false;
  }
  // The requests in progress are answered, those begun from now on get 503; then all is closed.
  // Not MHD_quiesce_daemon(): on an epoll daemon it races the daemon's own thread, which can find
  // the listening socket already out of the epoll set and abort the process (libmicrohttpd 0.9.75,
  // "Failed to remove listen FD from epoll set"). MHD_stop_daemon() closes the listening socket.
  s.draining = true;
  s.pool->Drain();
  for (int i = 0; i < 1000 && s.in_flight > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  MHD_stop_daemon(s.daemon);
  s.draining = false;
  s.daemon = nullptr;
  s.pool.reset();
  s.serving = false;
  return OkStatus();
}

void Front::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mutex);
  impl_->stop_requested = true;
  impl_->stop_cv.notify_all();
}

bool Front::IsServing() const { return impl_->serving; }

}  // namespace relais::server::front
