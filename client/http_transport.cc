#include "client/http_transport.h"

#include <map>
#include <memory>
#include <string_view>

#include "base/gzip.h"
#include "base/text.h"
#include "client/curl_api.h"
#include "sync/codec.h"
#include "sync/protocol.h"

namespace relais::client {

namespace {

struct SlistFree {
  const CurlApi* curl;
  void operator()(curl_slist* l) const { curl->slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistFree>;

struct Received {
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  size_t limit = sync::kMaxBodyBytes;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  if (r->body.size() + size * n > r->limit) {
    r->too_large = true;
    return 0;  // aborts the transfer
  }
  r->body.append(data, size * n);
  return size * n;
}

// Keeps each header line as a lower-case name and a trimmed value; a status line has no colon.
size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  std::string_view line(data, size * n);
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  LowerAsciiInPlace(name);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  r->headers[std::move(name)] = std::string(value);
  return size * n;
}

}  // namespace

HttpTransport::HttpTransport(std::string base_url, std::string token)
    : base_url_(std::move(base_url)), token_(std::move(token)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

HttpTransport::~HttpTransport() {
  // A handle was taken only once libcurl was loaded.
  if (idle_.empty()) return;
  const CurlApi* api = *Curl();
  for (void* handle : idle_) api->easy_cleanup(static_cast<CURL*>(handle));
}

void* HttpTransport::TakeHandle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  auto api = Curl();
  return api ? (*api)->easy_init() : nullptr;
}

void HttpTransport::GiveBack(void* handle) {
  std::lock_guard lock(mu_);
  idle_.push_back(handle);
}

void HttpTransport::SetTimeouts(long connect_s, long stall_s, long total_s) {
  connect_s_ = connect_s;
  stall_s_ = stall_s;
  total_s_ = total_s;
}

Result<sync::HttpReply> HttpTransport::Post(const std::string& path, const std::string& json_body) {
  const std::string packed = GzipCompress(json_body, sync::kRequestGzipLevel);
  return Perform(path, &packed);
}

Result<sync::HttpReply> HttpTransport::PostGzip(const std::string& path, const std::string& gzip_body) {
  return Perform(path, &gzip_body);
}

Result<sync::HttpReply> HttpTransport::Get(const std::string& path_and_query) {
  return Perform(path_and_query, nullptr);
}

namespace {

// What went over the connection, counted as libcurl hands it over: every request's headers and
// body out, every answer's headers and body in (still compressed). CURLINFO_REQUEST_SIZE plus
// CURLINFO_SIZE_UPLOAD counted a body twice when libcurl sent it with the headers (under 64 KiB).
struct WireBytes {
  uint64_t sent = 0, received = 0;
};

int CountWireBytes(CURL*, curl_infotype type, char*, size_t size, void* counter) {
  auto* bytes = static_cast<WireBytes*>(counter);
  if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT) bytes->sent += size;
  if (type == CURLINFO_HEADER_IN || type == CURLINFO_DATA_IN) bytes->received += size;
  return 0;
}

}  // namespace

Result<sync::HttpReply> HttpTransport::Perform(const std::string& path, const std::string* gzip_body) {
  auto api = Curl();
  if (!api) return api.error();
  const CurlApi& c = **api;
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (!curl) return MakeError(ErrorCode::kInternal, "libcurl n'a pas pu démarrer");
  struct Return {
    HttpTransport* transport;
    CURL* handle;
    ~Return() { transport->GiveBack(handle); }
  } give_back{this, curl};
  c.easy_reset(curl);
  std::string url = base_url_ + path;
  Received received;
  Slist headers(nullptr, SlistFree{&c});
  auto add = [&](const std::string& h) { headers.reset(c.slist_append(headers.release(), h.c_str())); };
  add("Relais-Protocol: " + std::to_string(sync::kProtocolVersion));
  add("Accept-Encoding: gzip");  // inflated here, with a limit, rather than by libcurl
  if (!token_.empty()) add("Authorization: Bearer " + token_);
  if (const int64_t pending = pending_report_; pending >= 0)
    add(std::string(sync::kHeaderPending) + ": " + std::to_string(pending));
  if (gzip_body) {
    add("Content-Type: application/json");
    add("Content-Encoding: gzip");
    c.easy_setopt(curl, CURLOPT_POST, 1L);
    c.easy_setopt(curl, CURLOPT_POSTFIELDS, gzip_body->data());
    c.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(gzip_body->size()));
  }
  c.easy_setopt(curl, CURLOPT_URL, url.c_str());
  c.easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  c.easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  c.easy_setopt(curl, CURLOPT_WRITEDATA, &received);
  c.easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  c.easy_setopt(curl, CURLOPT_HEADERDATA, &received);
  c.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, connect_s_);
  c.easy_setopt(curl, CURLOPT_TIMEOUT, total_s_);
  c.easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  c.easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, stall_s_);
  c.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  c.easy_setopt(curl, CURLOPT_USERAGENT, "relais/0.1");
  // The token goes to the address given to `relais init` and nowhere else: a redirection is an
  // answer (sync::RedirectAnswer tells it), never followed; and no scheme but these two.
  c.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  c.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // Certificate and host name are always verified (there is no option to turn it off).
  c.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  c.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file_.empty()) c.easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
  char error_text[CURL_ERROR_SIZE] = "";
  c.easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  // Verbose only to reach the counter: with a debug function, libcurl writes nothing to stderr.
  WireBytes wire;
  c.easy_setopt(curl, CURLOPT_DEBUGFUNCTION, CountWireBytes);
  c.easy_setopt(curl, CURLOPT_DEBUGDATA, &wire);
  c.easy_setopt(curl, CURLOPT_VERBOSE, 1L);

  ++requests_;
  CURLcode rc = c.easy_perform(curl);
  bytes_sent_ += wire.sent;
  bytes_received_ += wire.received;
  if (received.too_large) {
    return MakeError(ErrorCode::kProtocol, "la réponse du centre dépasse la taille permise ; rien n'a été appliqué");
  }
  c.easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
    return MakeError(ErrorCode::kNetwork,
                     "le certificat du centre à " + base_url_ + " n'est pas reconnu (" +
                         (error_text[0] != '\0' ? std::string(error_text) : std::string(c.easy_strerror(rc))) +
                         ") : rien n'a été envoyé. Si le réseau a sa propre autorité de certification, relancez "
                         "relais init avec --ca-file FICHIER ; sinon, prévenez l'équipe centrale");
  }
  if (rc != CURLE_OK) {
    return MakeError(ErrorCode::kNetwork,
                     std::string("impossible de joindre le centre à ") + base_url_ + " : " + c.easy_strerror(rc) +
                         (error_text[0] != '\0' ? std::string(" (") + error_text + ")" : std::string()));
  }
  long status = 0;
  c.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  sync::HttpReply reply;
  reply.status = static_cast<int>(status);
  std::string content_encoding = received.headers["content-encoding"];
  LowerAsciiInPlace(content_encoding);
  reply.headers = std::move(received.headers);
  if (content_encoding == "gzip") {
    auto inflated = GzipDecompress(received.body, sync::kMaxBodyBytes);
    if (!inflated) {
      // A cut mid-answer leaves a truncated stream: retry like any network failure.
      return MakeError(ErrorCode::kNetwork,
                       "la réponse du centre est arrivée incomplète (" + inflated.error().message + ")");
    }
    reply.body = std::move(*inflated);
  } else if (content_encoding.empty() || content_encoding == "identity") {
    reply.body = std::move(received.body);
  } else {
    return MakeError(ErrorCode::kProtocol, "le centre a répondu dans un encodage inconnu : " + content_encoding);
  }
  return reply;
}

}  // namespace relais::client
