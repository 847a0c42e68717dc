#include "server/http.h"

#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

#include "base/gzip.h"
#include "base/ids.h"
#include "server/access_log.h"
#include "server/auth_throttle.h"
#include "server/decoded_push.h"
#include "server/erasure_ledger.h"
#include "server/front.h"
#include "server/push.h"
#include "server/push_order.h"
#include "server/staff_json.h"
#include "sync/codec.h"
#include "sync/push_runs.h"

namespace relais::server {

namespace {

using nlohmann::json;

constexpr const char* kJson = "application/json";
constexpr const char* kJsonUtf8 = "application/json; charset=utf-8";
constexpr const char* kProtocolHeader = "Relais-Protocol";

// What one request did, for its log line: the handler fills this on its worker's thread, the route
// wrapper (Install()) hands it to the front, which writes the line once the answer is sent.
thread_local front::LogNote tl_note;

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
    case ErrorCode::kProtocol:
      return 400;
    case ErrorCode::kValidation:
      return 422;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kAuth:
    case ErrorCode::kWipeOrdered:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kIo:
      return 503;
    default:
      return 500;
  }
}

void SendError(front::Response& res, int status, const Error& error, std::string_view change_id = {}) {
  res.status = status;
  res.set_content(sync::EncodeError(error, change_id), kJson);
  if (status == 401) res.set_header("WWW-Authenticate", "Bearer");
}

// A body the centre cannot hold now (front::MemoryBudget): the client tries again shortly.
void SendBusy(front::Response& res) {
  tl_note.detail += " busy";
  res.set_header("Retry-After", "1");
  res.set_header("Connection", "close");
  SendError(res, 503,
            MakeError(ErrorCode::kIo, "le centre reçoit trop de données à la fois ; réessayez dans un instant"));
}

// Store failures are logged in full but answered in general terms: SQL text is nobody's business.
void SendStoreError(front::Response& res, const Error& error) {
  int status = HttpStatusFor(error.code);
  if (status >= 500) {
    tl_note.detail += " error=\"" + error.message + "\"";
    SendError(res, status,
              MakeError(error.code, "la base centrale n'a pas pu traiter la demande ; réessayez plus tard"));
    return;
  }
  SendError(res, status, error);
}

// Finds changes[index].id (or, with `in_run`, changes[index].columns.id[in_run]) in a push body
// by reading it as events, and stops there: the body is not parsed a second time into a document
// (a refused push followed by megabytes of padding would cost many times its size).
class ChangeIdFinder : public json::json_sax_t {
 public:
  ChangeIdFinder(size_t index, std::optional<size_t> in_run) : index_(index), in_run_(in_run) {}
  std::string found;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool string(string_t& value) override {
    if (Wanted()) {
      found = value;
      return false;
    }
    return Value();
  }
  bool start_object(std::size_t) override {
    frames_.push_back(Frame{Position(), false, 0, {}});
    return true;
  }
  bool key(string_t& name) override {
    frames_.back().key = name;
    return true;
  }
  bool end_object() override { return End(); }
  bool start_array(std::size_t) override {
    frames_.push_back(Frame{Position(), true, 0, {}});
    return true;
  }
  bool end_array() override { return End(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  // Where a container or value sits: 0 elsewhere, 1 the changes array, 2 the change, 3 its
  // columns, 4 columns.id.
  struct Frame {
    int at;
    bool array;
    size_t next;  // the index of the array's next element
    std::string key;
  };
  int Position() const {
    if (frames_.empty()) return 0;
    const Frame& f = frames_.back();
    const int depth = static_cast<int>(frames_.size());
    if (depth == 1 && !f.array && f.key == "changes") return 1;
    if (f.at == 1 && f.array && f.next == index_) return 2;
    if (f.at == 2 && !f.array && in_run_ && f.key == "columns") return 3;
    if (f.at == 3 && !f.array && f.key == "id") return 4;
    return 0;
  }
  bool Wanted() const {
    if (frames_.empty()) return false;
    const Frame& f = frames_.back();
    if (!in_run_) return f.at == 2 && !f.array && f.key == "id";
    return f.at == 4 && f.array && f.next == *in_run_;
  }
  bool Value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().next;
    return true;
  }
  bool End() {
    const bool change_done = frames_.back().at == 2;
    frames_.pop_back();
    if (change_done) return false;  // past changes[index]: nothing more to find
    return Value();
  }

  size_t index_;
  std::optional<size_t> in_run_;
  std::vector<Frame> frames_;
};

// The id of changes[i] when a decoder message starts with "changes[i]", or of the k-th change of
// the run changes[i] when it starts with "changes[i][k]", so that the device can show which of its
// changes was refused.
std::string ChangeIdOf(const std::string& body, const std::string& message) {
  if (message.rfind("changes[", 0) != 0) return {};
  size_t end = message.find(']');
  if (end == std::string::npos) return {};
  size_t index = 0;
  std::optional<size_t> in_run;
  try {
    index = std::stoul(message.substr(8, end - 8));
    if (message.compare(end + 1, 1, "[") == 0) {
      const size_t run_end = message.find(']', end + 1);
      if (run_end == std::string::npos) return {};
      in_run = std::stoul(message.substr(end + 2, run_end - end - 2));
    }
  } catch (const std::exception&) {
    return {};
  }
  ChangeIdFinder finder(index, in_run);
  json::sax_parse(body, &finder, json::input_format_t::json, false);
  return finder.found;
}

// The longest request target (path and query) answered; longer: 414.
constexpr size_t kMaxTargetBytes = 8192;

// A settlement's body is a few members: anything larger is refused before it is parsed (a parsed
// "[]" costs a container of its own, so a large body would cost many times its size).
constexpr size_t kMaxStaffBodyBytes = 64u << 10;

// A staff request's JSON body: an object (an empty body counts as {}) holding only `allowed` members.
Result<json> StaffBody(const front::Request& req, std::initializer_list<const char*> allowed) {
  if (req.body.empty()) return json::object();
  if (req.body.size() > kMaxStaffBodyBytes) {
    return MakeError(ErrorCode::kTooLarge,
                     "le corps de la requête dépasse la limite de " + std::to_string(kMaxStaffBodyBytes) + " octets");
  }
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return MakeError(ErrorCode::kUsage, "le corps de la requête n'est pas un objet JSON");
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool known = false;
    std::string names;
    for (const char* name : allowed) {
      known = known || it.key() == name;
      names += (names.empty() ? "" : ", ") + std::string(name);
    }
    if (!known)
      return MakeError(ErrorCode::kUsage, "membre inconnu : " + it.key() + " (membres permis : " + names + ")");
  }
  return body;
}

// A staff token acts on a conflict only when its record (and, for a duplicate, the other case)
// lies in the token's territories, or is shared.
bool InStaffScope(const Device& staff, const Conflict& c) {
  if (c.territory && !staff.InScope(*c.territory)) return false;
  if (c.other_territory && !staff.InScope(*c.other_territory)) return false;
  return true;
}

// The centre's identity as whoami and POST /v1/restored give it (docs/PROTOCOL.md, "Centre identity").
json CentreJson(const CentreIdentity& c) {
  return json{{"store_id", c.store_id},
              {"epoch", c.epoch},
              {"epoch_seq", c.epoch_seq},
              {"epoch_at", c.epoch_at ? json(*c.epoch_at) : json(nullptr)},
              {"seq", c.seq}};
}

// `text` without the spaces and tabs around it (HTTP's optional whitespace).
std::string_view TrimSpace(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// ASCII comparison without case, as HTTP compares tokens (codings, parameter names).
bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// The q-value (0 to 1000, in thousandths) of one `;`-separated parameter list of an
// Accept-Encoding entry: 1000 when it has no q, -1 when its q is not a qvalue (RFC 9110, 12.4.2).
int QValue(std::string_view params) {
  while (!params.empty()) {
    const size_t semicolon = params.find(';');
    std::string_view param = TrimSpace(params.substr(0, semicolon));
    params = semicolon == std::string_view::npos ? std::string_view() : params.substr(semicolon + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    std::string_view q = param.substr(2);
    if (q.empty() || q.size() > 5 || (q[0] != '0' && q[0] != '1') || (q.size() > 1 && q[1] != '.')) return -1;
    int thousandths = q[0] == '1' ? 1000 : 0;
    int scale = 100;
    for (char c : q.substr(std::min<size_t>(q.size(), 2))) {
      if (c < '0' || c > '9' || (q[0] == '1' && c != '0')) return -1;
      thousandths += (c - '0') * scale;
      scale /= 10;
    }
    return thousandths;
  }
  return 1000;
}

// Whether the client takes gzip answers: Accept-Encoding gives gzip a q above 0, or names no gzip
// and gives `*` a q above 0 (RFC 9110, 12.5.3). Codings are compared without case; an entry whose
// q is malformed counts as refused. Without the header, answers go uncompressed.
bool AcceptsGzip(const front::Request& req) {
  const std::string header = req.get_header_value("Accept-Encoding");
  std::string_view accept = header;
  int gzip = -1, any = -1;
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    std::string_view entry = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    const size_t semicolon = entry.find(';');
    std::string_view coding = TrimSpace(entry.substr(0, semicolon));
    const int q = semicolon == std::string_view::npos ? 1000 : QValue(entry.substr(semicolon + 1));
    if (EqualsIgnoringCase(coding, "gzip") || EqualsIgnoringCase(coding, "x-gzip"))
      gzip = std::max(gzip, q);
    else if (coding == "*")
      any = std::max(any, q);
  }
  return gzip >= 0 ? gzip > 0 : any > 0;
}

// httplib compresses an answer typed exactly application/json whenever Accept-Encoding contains
// "gzip" or "br", whatever their q-values. Such an answer is compressed here instead, only when
// the client takes gzip (AcceptsGzip), and typed with its charset, which httplib leaves alone.
// Answers to requests that name neither stay as they are.
void KeepFromHttplibCompression(const front::Request& req, front::Response& res) {
  if (res.get_header_value("Content-Type") != kJson || res.has_header("Content-Encoding")) return;
  const std::string accept = req.get_header_value("Accept-Encoding");
  if (accept.find("gzip") == std::string::npos && accept.find("br") == std::string::npos) return;
  res.headers.erase("Content-Type");
  res.set_header("Content-Type", kJsonUtf8);
  if (!AcceptsGzip(req)) return;
  res.body = GzipCompress(res.body, 6);
  res.set_header("Content-Encoding", "gzip");
}

// libdeflate level of push answers: 5,000 results (about 390 KB of JSON) pack to about 4 bytes a
// change, a quarter fewer than zlib's level 6 (what httplib would use), in about the same 3 ms.
constexpr int kPushAnswerGzipLevel = 6;

// A JSON answer, gzip-compressed at `level` (base/gzip.h) when the client takes gzip. httplib
// compresses any body whose type is exactly application/json, whatever its Content-Encoding says:
// the type with its charset keeps it out.
void SetJsonAnswer(const front::Request& req, front::Response& res, std::string body, int level) {
  if (!AcceptsGzip(req)) {
    res.set_content(std::move(body), kJson);
    KeepFromHttplibCompression(req, res);
    return;
  }
  res.set_header("Content-Encoding", "gzip");
  res.set_content(GzipCompress(body, level), kJsonUtf8);
}

// Refuses a query that names a parameter `known` does not hold, names one twice, or holds a
// parameter with more than one '=' (httplib reads "since=0=1" as since=1: refused rather than
// guessed). A client sends a new parameter only to a centre whose `features` list it.
Status CheckQuery(const front::Request& req, std::initializer_list<std::string_view> known) {
  const size_t question = req.target.find('?');
  if (question == std::string::npos) return OkStatus();
  size_t equals = 0;
  for (size_t i = question + 1; i < req.target.size(); ++i) {
    if (req.target[i] == '&')
      equals = 0;
    else if (req.target[i] == '=' && ++equals > 1)
      return MakeError(ErrorCode::kUsage, "la requête est mal formée (un paramètre contient plus d'un « = »)");
  }
  for (auto it = req.params.begin(); it != req.params.end(); it = req.params.upper_bound(it->first)) {
    if (std::find(known.begin(), known.end(), it->first) == known.end()) {
      std::string names;
      for (std::string_view name : known) names.append(names.empty() ? "" : ", ").append(name);
      return MakeError(ErrorCode::kUsage,
                       "paramètre inconnu : « " + it->first + " » (" +
                           (names.empty() ? "cette adresse n'en prend aucun" : "paramètres permis : " + names) + ")");
    }
    if (req.params.count(it->first) > 1)
      return MakeError(ErrorCode::kUsage, "paramètre donné plusieurs fois : « " + it->first + " »");
  }
  return OkStatus();
}

// The methods a known path answers, for a 405's Allow header; empty for an unknown path.
std::string AllowedMethods(std::string_view path) {
  if (path == "/v1/health" || path == "/v1/whoami" || path == "/v1/pull" || path == "/v1/conflicts") return "GET, HEAD";
  if (path == "/v1/push" || path == "/v1/restored" || path == "/v1/recovered" || path == "/v1/access-log") return "POST";
  for (std::string_view prefix : {"/v1/conflicts/", "/v1/history/"}) {
    if (!path.starts_with(prefix) || path.size() == prefix.size()) continue;
    std::string_view rest = path.substr(prefix.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return "GET, HEAD";
    std::string_view action = rest.substr(slash + 1);
    if (prefix == "/v1/conflicts/" && slash > 0 && (action == "resolve" || action == "merge" || action == "dismiss"))
      return "POST";
  }
  return {};
}

// A query parameter that is `0` or `1`: `absent` when it is not given, nullopt when it holds
// anything else.
std::optional<bool> BinaryParam(const front::Request& req, const char* name, bool absent) {
  if (!req.has_param(name)) return absent;
  const std::string value = req.get_param_value(name);
  if (value == "0" || value == "1") return value == "1";
  return std::nullopt;
}

// Strict decimal parse of a query parameter: digits only, no sign, no overflow.
bool ParseCount(const std::string& text, int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  out = n;
  return true;
}

// A batch key as push requests carry it: 1 to 100 letters, digits, '-' or '_'.
bool IsBatchKey(std::string_view key) {
  if (key.empty() || key.size() > 100) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void DefaultLog(std::string_view line) {
  std::string text(line);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

namespace {

front::FrontOptions FrontOptionsOf(const HttpOptions& o) {
  front::FrontOptions f = o.front;
  f.log = o.log ? o.log : DefaultLog;
  f.body_budget = std::make_shared<front::MemoryBudget>(o.max_body_memory);
  return f;
}

}  // namespace

struct HttpEndpoint::Impl {
  Impl(CentralStore& s, HttpOptions o)
      : store(s),
        options(std::move(o)),
        throttle(options.bad_token_burst, options.bad_token_interval_ms),
        front_options(FrontOptionsOf(options)),
        front(front_options) {}

  // `body` inflated within `limit`: up to kInflateFreely bytes on the worker's own account (workers
  // are few), beyond only with `limit` bytes of the body budget, held by `hold` until the body is
  // done with. Errors: kTooLarge over `limit`, kUsage for a broken stream, kIo when the budget is
  // spent (answered 503).
  static constexpr size_t kInflateFreely = 8u << 20;
  Result<std::string> Inflate(std::string_view body, size_t limit, std::optional<front::BudgetHold>& hold) {
    auto out = GzipDecompress(body, std::min(limit, kInflateFreely));
    if (out || out.error().code != ErrorCode::kTooLarge || limit <= kInflateFreely) return out;
    hold.emplace(front_options.body_budget.get(), limit);
    if (!hold->ok()) return MakeError(ErrorCode::kIo, "busy");
    return GzipDecompress(body, limit);
  }

  CentralStore& store;
  HttpOptions options;
  PushOrder push_order;   // batches sent with ?after= (docs/PROTOCOL.md, "Two batches in flight")
  AuthThrottle throttle;  // wrong tokens, per client address
  front::FrontOptions front_options;
  front::Front front;

  void Install();

  // Protocol header, then token. On failure the response is written and nullopt returned.
  std::optional<Device> Admit(const front::Request& req, front::Response& res);

  void Health(const front::Request& req, front::Response& res);
  void Whoami(const front::Request& req, front::Response& res);
  // A restore, as devices learn and report it (docs/PROTOCOL.md, "Centre identity").
  std::optional<Device> AdmitDevice(const front::Request& req, front::Response& res);
  // AdmitDevice for a request that carries a JSON body and no query: 400 for a query, 413 for a
  // body over the limit.
  std::optional<Device> AdmitDeviceBody(const front::Request& req, front::Response& res);
  void Restored(const front::Request& req, front::Response& res);
  void Recovered(const front::Request& req, front::Response& res);
  void AccessLog(const front::Request& req, front::Response& res);
  void Push(const front::Request& req, front::Response& res);
  void Pull(const front::Request& req, front::Response& res);

  // Staff API (docs/PROTOCOL.md, "Staff API").
  std::optional<Device> AdmitStaff(const front::Request& req, front::Response& res);
  std::optional<Conflict> StaffConflict(const Device& staff, const std::string& id_text, front::Response& res);
  void ListConflicts(const front::Request& req, front::Response& res);
  void ShowConflict(const front::Request& req, front::Response& res);
  void SettleConflict(const front::Request& req, front::Response& res, const std::string& action);
  void RecordHistory(const front::Request& req, front::Response& res);
  void ErasePerson(const front::Request& req, front::Response& res);
};

namespace {

// What the device reports beside its token: Relais-Pending, a count of 0 to 999999999 in decimal digits
// (docs/PROTOCOL.md, "Transport"); absent, nothing. kUsage for any other value.
Result<DeviceReport> PendingReport(const front::Request& req) {
  DeviceReport report;
  if (!req.has_header(sync::kHeaderPending)) return report;
  const std::string text = req.get_header_value(sync::kHeaderPending);
  constexpr size_t kMaxDigits = 9;
  if (text.empty() || text.size() > kMaxDigits ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return MakeError(ErrorCode::kUsage, std::string(sync::kHeaderPending) +
                                            " : attendu un nombre de modifications, de 0 à 999999999 (reçu « " +
                                            text.substr(0, 20) + " »)");
  }
  report.pending_changes = std::stoll(text);
  return report;
}

}  // namespace

std::optional<Device> HttpEndpoint::Impl::Admit(const front::Request& req, front::Response& res) {
  const std::string version = req.get_header_value(kProtocolHeader);
  if (version != std::to_string(sync::kProtocolVersion)) {
    std::string message = version.empty() ? "l'en-tête Relais-Protocol manque"
                                          : "la version de protocole " + version + " n'est pas parlée ici";
    SendError(res, 400,
              MakeError(ErrorCode::kProtocol,
                        message + " (ce serveur parle Relais-Protocol: " + std::to_string(sync::kProtocolVersion) +
                            ") ; installez une version de relais qui la parle"));
    return std::nullopt;
  }
  const std::string authorization = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (authorization.rfind(prefix, 0) != 0 || authorization.size() == prefix.size()) {
    SendError(res, 401, MakeError(ErrorCode::kAuth, "jeton manquant (envoyez Authorization: Bearer JETON)"));
    return std::nullopt;
  }
  // An address that sent too many wrong tokens waits, whatever token it sends now.
  const int64_t now_ms = SteadyMs();
  if (const int64_t wait = throttle.WaitSeconds(req.client, now_ms); wait > 0) {
    tl_note.detail = " throttled";
    res.set_header("Retry-After", std::to_string(wait));
    SendError(res, 429,
              MakeError(ErrorCode::kAuth,
                        "trop de jetons refusés depuis cette adresse : réessayez dans " + std::to_string(wait) + " s"));
    return std::nullopt;
  }
  auto report = PendingReport(req);
  if (!report) {
    SendError(res, 400, report.error());
    return std::nullopt;
  }
  auto device = store.Authenticate(std::string_view(authorization).substr(prefix.size()), *report);
  if (!device) {
    if (device.error().code == ErrorCode::kWipeOrdered) {
      // The centre names itself, so that the device erases its replica on its own centre's word only.
      auto centre = store.Identity();
      if (!centre) {
        SendStoreError(res, centre.error());
        return std::nullopt;
      }
      tl_note.detail = " wipe_order";
      res.status = 401;
      res.set_content(sync::EncodeWipeOrder(device.error().message, centre->store_id), kJson);
      res.set_header("WWW-Authenticate", "Bearer");
    } else if (device.error().code == ErrorCode::kAuth) {
      throttle.Failed(req.client, now_ms);
      SendError(res, 401, device.error());
    } else {
      SendStoreError(res, device.error());
    }
    return std::nullopt;
  }
  tl_note.device = device->name;
  return *device;
}

void HttpEndpoint::Impl::Health(const front::Request& req, front::Response& res) {
  if (auto query = CheckQuery(req, {}); !query) return SendError(res, 400, query.error());
  auto health = store.Health();
  if (!health) {
    tl_note.detail = " error=\"" + health.error().message + "\"";
    SendError(res, 503, MakeError(ErrorCode::kIo, "la base centrale ne répond pas ; réessayez plus tard"));
    return;
  }
  res.set_content(
      json{{"status", "ok"}, {"protocol", sync::kProtocolVersion}, {"features", sync::CentreFeatures()}}.dump(), kJson);
}

void HttpEndpoint::Impl::Whoami(const front::Request& req, front::Response& res) {
  auto device = Admit(req, res);
  if (!device) return;
  if (auto query = CheckQuery(req, {}); !query) return SendError(res, 400, query.error());
  auto centre = store.Identity();
  if (!centre) {
    SendStoreError(res, centre.error());
    return;
  }
  auto network = store.GetNetwork();
  if (!network) return SendStoreError(res, network.error());
  auto retention = store.Retention();
  if (!retention) return SendStoreError(res, retention.error());
  json declared = json::array();
  for (const Territory& t : network->territories) {
    declared.push_back({{"code", t.code}, {"label", t.label}, {"reception_points", t.reception_points}});
  }
  json body = {{"device", device->name},
               {"role", ToString(device->role)},
               {"territories", device->territories},
               {"declared_territories", std::move(declared)},
               {"transfers", ToString(network->transfers)},
               {"protocol", sync::kProtocolVersion},
               {"features", sync::CentreFeatures()},
               {"centre", CentreJson(*centre)},
               {"retention", {{"device_closed_after_days", retention->device_closed_after_days}}},
               {"now", (options.clock ? *options.clock : SystemClock::Instance()).NowMs()}};
  res.set_content(body.dump(), kJson);
}

std::optional<Device> HttpEndpoint::Impl::AdmitDevice(const front::Request& req, front::Response& res) {
  auto device = Admit(req, res);
  if (!device) return std::nullopt;
  if (device->role == Role::kStaff) {
    SendError(res, 403,
              MakeError(ErrorCode::kForbidden,
                        "un jeton du personnel ne synchronise pas : cette adresse est réservée aux appareils"));
    return std::nullopt;
  }
  return device;
}

std::optional<Device> HttpEndpoint::Impl::AdmitDeviceBody(const front::Request& req, front::Response& res) {
  auto device = AdmitDevice(req, res);
  if (!device) return std::nullopt;
  if (auto query = CheckQuery(req, {}); !query) {
    SendError(res, 400, query.error());
    return std::nullopt;
  }
  if (req.body.size() > options.max_body_bytes) {
    SendError(res, 413, MakeError(ErrorCode::kTooLarge, "le corps de la requête dépasse la limite"));
    return std::nullopt;
  }
  return device;
}

void HttpEndpoint::Impl::Restored(const front::Request& req, front::Response& res) {
  auto device = AdmitDevice(req, res);
  if (!device) return;
  if (auto query = CheckQuery(req, {}); !query) return SendError(res, 400, query.error());
  auto body = StaffBody(req, {"epoch", "seq", "cursor"});
  if (!body) {
    SendError(res, HttpStatusFor(body.error().code), body.error());
    return;
  }
  for (const char* name : {"epoch", "seq", "cursor"}) {
    if (!(*body)[name].is_number_integer() || (*body)[name].get<int64_t>() < 0) {
      SendError(res, 400, MakeError(ErrorCode::kUsage, std::string(name) + " : attendu un entier positif ou nul"));
      return;
    }
  }
  CentralStore::EpochEvidence seen{(*body)["epoch"].get<int64_t>(), (*body)["seq"].get<int64_t>()};
  const int64_t cursor = (*body)["cursor"].get<int64_t>();
  if (cursor <= seen.seq) {
    SendError(res, 400,
              MakeError(ErrorCode::kUsage, "cursor : un centre restauré se voit à un curseur au-delà de sa séquence (" +
                                               std::to_string(cursor) + " n'est pas au-delà de " +
                                               std::to_string(seen.seq) + ")"));
    return;
  }
  auto centre = store.BeginEpoch(seen);
  if (!centre) {
    SendStoreError(res, centre.error());
    return;
  }
  tl_note.detail = " epoch=" + std::to_string(centre->epoch);
  res.set_content(CentreJson(*centre).dump(), kJson);
}

void HttpEndpoint::Impl::Recovered(const front::Request& req, front::Response& res) {
  auto device = AdmitDeviceBody(req, res);
  if (!device) return;
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body["records"].is_array()) {
    SendError(res, 400, MakeError(ErrorCode::kUsage, "attendu un objet JSON avec records : [{table, id, op}]"));
    return;
  }
  std::vector<RecoveredRecord> records;
  records.reserve(body["records"].size());
  for (json& r : body["records"]) {
    if (!r.is_object() || !r["table"].is_string() || !r["id"].is_string() || !r["op"].is_string() ||
        !schema::FindTable(r["table"].get<std::string>()) || r["id"].get<std::string>().empty() ||
        r["id"].get<std::string>().size() > 64 || (r["op"] != "create" && r["op"] != "update") ||
        (r.contains("version") && (!r["version"].is_number_integer() || r["version"].get<int64_t>() < 1))) {
      SendError(
          res, 400,
          MakeError(ErrorCode::kUsage,
                    "records[" + std::to_string(records.size()) +
                        "] : attendu {table : une table connue, id, op : create ou update, version : entier > 0}"));
      return;
    }
    records.push_back({r["table"].get<std::string>(), r["id"].get<std::string>(), r["op"].get<std::string>(),
                       r.contains("version") ? r["version"].get<int64_t>() : 0});
  }
  auto noted = store.NoteRecovery(*device, records);
  if (!noted) {
    SendStoreError(res, noted.error());
    return;
  }
  tl_note.detail = " recovered=" + std::to_string(records.size());
  res.set_content(json{{"noted", records.size()}}.dump(), kJson);
}

// A device's access log (docs/PROTOCOL.md, "Access log"): each entry kept once, under the device's
// name; a wrong entry refuses the whole request (400 naming it), and nothing is stored.
void HttpEndpoint::Impl::AccessLog(const front::Request& req, front::Response& res) {
  auto device = AdmitDeviceBody(req, res);
  if (!device) return;
  auto entries = ParseDeviceAccess(json::parse(req.body, nullptr, false), device->name);
  if (!entries) return SendError(res, 400, entries.error());
  auto added = store.RecordAccess(*entries);
  if (!added) return SendStoreError(res, added.error());
  tl_note.detail = " entries=" + std::to_string(entries->size()) + " new=" + std::to_string(*added);
  res.set_content(json{{"received", entries->size()}, {"new", *added}}.dump(), kJson);
}

void HttpEndpoint::Impl::Push(const front::Request& req, front::Response& res) {
  auto device = Admit(req, res);
  if (!device) return;
  if (device->role == Role::kStaff) {
    SendError(res, 403,
              MakeError(ErrorCode::kForbidden,
                        "un jeton du personnel central ne synchronise pas : envoyez avec le jeton d'un appareil"));
    return;
  }
  if (auto query = CheckQuery(req, {"after"}); !query) {
    SendError(res, 400, query.error());
    return;
  }
  // Codings compare without case (RFC 9110).
  const std::string encoding = req.get_header_value("Content-Encoding");
  const bool gzip = EqualsIgnoringCase(TrimSpace(encoding), "gzip");
  if (!encoding.empty() && !EqualsIgnoringCase(TrimSpace(encoding), "identity") && !gzip) {
    SendError(res, 415,
              MakeError(ErrorCode::kUsage,
                        "Content-Encoding " + encoding + " n'est pas pris en charge (envoyez gzip ou aucun encodage)"));
    return;
  }

  // The front does not read a body whose Content-Length is over max_raw_body_bytes; gzip is
  // inflated up to max_body_bytes and no further, so neither a large body nor a bomb fills the memory.
  const size_t limit = std::min(options.max_body_bytes, options.front.max_raw_body_bytes);
  if (req.body_too_large || (!gzip && req.body.size() > limit)) {
    res.set_header("Connection", "close");
    SendError(res, 413,
              MakeError(ErrorCode::kTooLarge,
                        "le corps de la requête dépasse la limite de " +
                            std::to_string(req.body_too_large ? options.front.max_raw_body_bytes : limit) +
                            " octets : envoyez des lots plus petits"));
    return;
  }
  std::string inflated;
  std::optional<front::BudgetHold> hold;
  if (gzip) {
    auto out = Inflate(req.body, options.max_body_bytes, hold);
    if (!out && out.error().code == ErrorCode::kIo) return SendBusy(res);
    if (!out) {
      const bool too_large = out.error().code == ErrorCode::kTooLarge;
      if (too_large) res.set_header("Connection", "close");
      SendError(res, too_large ? 413 : 400,
                too_large ? MakeError(ErrorCode::kTooLarge, "le corps de la requête dépasse la limite de " +
                                                                std::to_string(options.max_body_bytes) +
                                                                " octets une fois décompressé : envoyez des lots "
                                                                "plus petits")
                          : MakeError(ErrorCode::kUsage,
                                      "le corps de la requête n'a pas pu être lu : gzip tronqué ou invalide"));
      return;
    }
    inflated = std::move(*out);
  }
  const std::string& body = gzip ? inflated : req.body;
  tl_note.detail = " bytes=" + std::to_string(body.size());

  // Decoded and hashed before any wait: off the critical path.
  auto push = DecodedPush::Decode(body);
  if (!push) {
    SendError(res, HttpStatusFor(push.error().code), push.error(), ChangeIdOf(body, push.error().message));
    return;
  }
  // A batch sent before the answer to the one before it names that one: decoded meanwhile, it is
  // applied once that one is committed.
  const bool ordered = req.has_param("after");
  const std::string after = ordered ? req.get_param_value("after") : std::string();
  if (ordered && (!IsBatchKey(after) || after == push->batch_key())) {
    SendError(res, 400, MakeError(ErrorCode::kUsage, "after= doit nommer la clé du lot envoyé juste avant celui-ci"));
    return;
  }
  PushOrder::Ticket ticket = push_order.Begin(device->id, push->batch_key());
  if (ordered) {
    tl_note.detail += " after";
    if (options.on_order_wait) options.on_order_wait();
    if (!push_order.WaitCommitted(device->id, after)) {
      SendError(res, 409,
                MakeError(ErrorCode::kConflict,
                          "le lot nommé par after= n'est pas appliqué : renvoyez ce lot, "
                          "sans after=, une fois que celui-là a reçu sa réponse"));
      return;
    }
  }
  auto reply = store.Push(*device, *push);
  if (!reply) {
    if (const std::string reused = ReusedChangeId(reply.error()); !reused.empty()) {
      // Its own code, so that the device tells it from a batch key reused (docs/PROTOCOL.md).
      res.status = 409;
      res.set_content(
          json{{"error", {{"code", sync::kChangeIdReusedCode}, {"message", reply.error().message}, {"change", reused}}}}
              .dump(),
          kJson);
      return;
    }
    SendStoreError(res, reply.error());
    return;
  }
  ticket.Committed();
  size_t counts[4] = {0, 0, 0, 0};
  for (const sync::ChangeResult& r : reply->response.results) counts[static_cast<size_t>(r.status)]++;
  tl_note.detail += " changes=" + std::to_string(push->changes().size()) + " applied=" + std::to_string(counts[0]) +
                    " merged=" + std::to_string(counts[1]) + " review=" + std::to_string(counts[2]) +
                    " rejected=" + std::to_string(counts[3]) + (reply->replayed ? " replayed" : "") +
                    (reply->clamped ? " clamped_stamps=" + std::to_string(reply->clamped) : "");
  // Compressed here rather than by httplib: fewer bytes on a poor link for the same time.
  SetJsonAnswer(req, res, std::move(reply->json), kPushAnswerGzipLevel);
}

void HttpEndpoint::Impl::Pull(const front::Request& req, front::Response& res) {
  auto device = Admit(req, res);
  if (!device) return;
  if (device->role == Role::kStaff) {
    SendError(res, 403,
              MakeError(ErrorCode::kForbidden,
                        "un jeton du personnel central ne synchronise pas : recevez avec le jeton d'un appareil"));
    return;
  }
  if (auto query = CheckQuery(req, {"since", "limit", "layout", "echo", "digest"}); !query) {
    SendError(res, 400, query.error());
    return;
  }
  int64_t since = 0;
  if (!req.has_param("since") || !ParseCount(req.get_param_value("since"), since)) {
    SendError(res, 400,
              MakeError(ErrorCode::kUsage, "since : attendu un nombre entier >= 0 (le curseur de la dernière page)"));
    return;
  }
  int64_t limit = static_cast<int64_t>(options.default_pull_limit);
  if (req.has_param("limit") && (!ParseCount(req.get_param_value("limit"), limit) || limit < 1 ||
                                 limit > static_cast<int64_t>(sync::kMaxPullLimit))) {
    SendError(
        res, 400,
        MakeError(ErrorCode::kUsage, "limit : attendu un nombre entier de 1 à " + std::to_string(sync::kMaxPullLimit)));
    return;
  }
  // Devices ask for one array per column (docs/PROTOCOL.md); without the parameter, rows, as every
  // client before it reads them.
  sync::PullLayout layout = sync::PullLayout::kRows;
  if (req.has_param("layout")) {
    const std::string value = req.get_param_value("layout");
    if (value == "columns")
      layout = sync::PullLayout::kColumns;
    else if (value != "rows") {
      SendError(res, 400, MakeError(ErrorCode::kUsage, "layout : attendu rows ou columns"));
      return;
    }
  }
  // `echo=0`: leave out the records this device holds as they are (docs/PROTOCOL.md, "Echo").
  // `digest=1`: the divergence check's digest on the last page.
  const std::optional<bool> echo = BinaryParam(req, "echo", true), with_digest = BinaryParam(req, "digest", false);
  if (!echo || !with_digest) {
    SendError(res, 400, MakeError(ErrorCode::kUsage, std::string(echo ? "digest" : "echo") + " : attendu 0 ou 1"));
    return;
  }
  const bool without_echo = !*echo;
  auto page = store.Pull(*device, since, static_cast<size_t>(limit), without_echo);
  if (!page) {
    SendStoreError(res, page.error());
    return;
  }
  // The divergence check (docs/PROTOCOL.md): on the last page, when asked, the digest of the scope
  // — only if it was read at exactly the page's cursor (a push committed in between: none, this time).
  if (!page->more && *with_digest) {
    auto digest = store.Digest(*device);
    if (!digest) {
      SendStoreError(res, digest.error());
      return;
    }
    if (digest->at == page->next) page->digest = std::move(digest->digest);
  }
  page->now_ms = (options.clock ? *options.clock : SystemClock::Instance()).NowMs();
  tl_note.detail = " since=" + std::to_string(since) + " records=" + std::to_string(page->records.size()) +
                   " removed=" + std::to_string(page->removed.size()) + " next=" + std::to_string(page->next) +
                   (page->more ? " more" : "") + (without_echo ? " echo=0" : "");
  std::string body = sync::EncodePullPage(*page, layout);
  res.set_header(sync::kHeaderPullNext, std::to_string(page->next));
  res.set_header(sync::kHeaderPullMore, page->more ? "1" : "0");
  // Compressed here rather than by httplib at its default: pages are the bulk of what a device
  // receives, and reading and compressing them is most of a pull on a fast link. Columns (what
  // devices ask for) at libdeflate's level 3; rows (older devices) at 9 (docs/SERVER.md).
  SetJsonAnswer(req, res, std::move(body), layout == sync::PullLayout::kColumns ? 3 : 9);
}

std::optional<Device> HttpEndpoint::Impl::AdmitStaff(const front::Request& req, front::Response& res) {
  auto device = Admit(req, res);
  if (!device) return std::nullopt;
  if (device->role != Role::kStaff) {
    SendError(res, 403,
              MakeError(ErrorCode::kForbidden,
                        "cette adresse est réservée au personnel central : utilisez un jeton du "
                        "personnel (relais-central device add --staff)"));
    return std::nullopt;
  }
  return device;
}

// The conflict named in the path, if it exists and lies in the staff token's scope; otherwise the
// answer (404, 403) is written and nullopt returned.
std::optional<Conflict> HttpEndpoint::Impl::StaffConflict(const Device& staff, const std::string& id_text,
                                                          front::Response& res) {
  int64_t id = 0;
  if (!ParseCount(id_text, id)) {
    SendError(res, 404, MakeError(ErrorCode::kNotFound, "aucun conflit n° " + id_text + " (voir GET /v1/conflicts)"));
    return std::nullopt;
  }
  auto conflict = store.GetConflict(id);
  if (!conflict) {
    SendStoreError(res, conflict.error());
    return std::nullopt;
  }
  if (!InStaffScope(staff, *conflict)) {
    SendError(res, 403,
              MakeError(ErrorCode::kForbidden, "le conflit n° " + id_text +
                                                   " concerne un territoire hors des territoires de ce jeton (" +
                                                   staff.TerritoryList() + ")"));
    return std::nullopt;
  }
  tl_note.detail = " conflict=" + id_text;
  return *conflict;
}

void HttpEndpoint::Impl::ListConflicts(const front::Request& req, front::Response& res) {
  auto staff = AdmitStaff(req, res);
  if (!staff) return;
  if (auto checked = CheckQuery(req, {"status", "territory"}); !checked) {
    SendError(res, 400, checked.error());
    return;
  }
  ConflictFilter query;
  query.limit = 10000;
  query.scope = staff->territories;
  if (req.has_param("status")) {
    const std::string status = req.get_param_value("status");
    if (status == "all") {
      query.status.reset();
    } else if (status == "open" || status == "settled") {
      query.status = status;
    } else {
      SendError(res, 400, MakeError(ErrorCode::kUsage, "status : attendu open, settled ou all"));
      return;
    }
  }
  if (req.has_param("territory")) query.territory = req.get_param_value("territory");
  auto conflicts = store.Conflicts(query);
  if (!conflicts) {
    SendStoreError(res, conflicts.error());
    return;
  }
  json out = json::array();
  for (const Conflict& c : *conflicts) {
    if (InStaffScope(*staff, c)) out.push_back(ConflictJson(c));
  }
  tl_note.detail = " conflicts=" + std::to_string(out.size());
  res.set_content(json{{"conflicts", std::move(out)}}.dump(), kJson);
}

void HttpEndpoint::Impl::ShowConflict(const front::Request& req, front::Response& res) {
  auto staff = AdmitStaff(req, res);
  if (!staff) return;
  if (auto query = CheckQuery(req, {}); !query) return SendError(res, 400, query.error());
  auto conflict = StaffConflict(*staff, req.matches[1], res);
  if (!conflict) return;
  for (const std::optional<std::string>& read : {std::optional(conflict->record_id), conflict->other_id}) {
    if (!read) continue;
    if (auto noted = store.NoteStaffRead(staff->name, "conflit", conflict->table, *read); !noted) {
      return SendStoreError(res, noted.error());
    }
  }
  auto history = store.History(conflict->table, conflict->record_id);
  if (!history) return SendStoreError(res, history.error());
  std::optional<std::vector<HistoryEntry>> other;
  if (conflict->other_id) {
    auto other_history = store.History(conflict->table, *conflict->other_id);
    if (!other_history) return SendStoreError(res, other_history.error());
    other = std::move(*other_history);
  }
  res.set_content(ConflictDetailJson(*conflict, *history, other).dump(), kJson);
}

void HttpEndpoint::Impl::SettleConflict(const front::Request& req, front::Response& res, const std::string& action) {
  auto staff = AdmitStaff(req, res);
  if (!staff) return;
  if (auto query = CheckQuery(req, {}); !query) return SendError(res, 400, query.error());
  auto conflict = StaffConflict(*staff, req.matches[1], res);
  if (!conflict) return;
  Result<Conflict> settled = MakeError(ErrorCode::kInternal, "aucune action");
  if (action == "resolve") {
    auto body = StaffBody(req, {"keep", "value"});
    if (!body) return SendError(res, HttpStatusFor(body.error().code), body.error());
    Decision decision;
    const bool has_keep = body->contains("keep"), has_value = body->contains("value");
    if (has_keep == has_value) {
      return SendError(res, 400,
                       MakeError(ErrorCode::kUsage,
                                 "envoyez {\"keep\": \"server\"}, {\"keep\": \"device\"} ou "
                                 "{\"value\": \"...\"}"));
    }
    if (has_keep) {
      const json& keep = (*body)["keep"];
      if (keep == "server")
        decision.keep = Decision::Keep::kServer;
      else if (keep == "device")
        decision.keep = Decision::Keep::kDevice;
      else
        return SendError(res, 400, MakeError(ErrorCode::kUsage, "keep : attendu \"server\" ou \"device\""));
    } else {
      const json& value = (*body)["value"];
      if (!value.is_string() && !value.is_null()) {
        return SendError(res, 400,
                         MakeError(ErrorCode::kUsage, "value : attendu un texte (ou null pour vider le champ)"));
      }
      decision.keep = Decision::Keep::kValue;
      if (value.is_string()) decision.value = value.get<std::string>();
    }
    settled = store.Resolve(conflict->id, decision, staff->name);
  } else if (action == "merge") {
    auto body = StaffBody(req, {"take"});
    if (!body) return SendError(res, HttpStatusFor(body.error().code), body.error());
    std::vector<std::string> take;
    if (body->contains("take")) {
      const json& list = (*body)["take"];
      if (!list.is_array())
        return SendError(res, 400, MakeError(ErrorCode::kUsage, "take : attendu un tableau de noms de champs"));
      for (const json& name : list) {
        if (!name.is_string())
          return SendError(res, 400, MakeError(ErrorCode::kUsage, "take : attendu un tableau de noms de champs"));
        take.push_back(name.get<std::string>());
      }
    }
    settled = store.Merge(conflict->id, take, staff->name);
  } else {
    auto body = StaffBody(req, {});
    if (!body) return SendError(res, HttpStatusFor(body.error().code), body.error());
    settled = store.Dismiss(conflict->id, staff->name);
  }
  if (!settled) return SendStoreError(res, settled.error());
  tl_note.detail += " settlement=" + settled->settlement.value_or("");
  res.set_content(ConflictJson(*settled).dump(), kJson);
}

void HttpEndpoint::Impl::RecordHistory(const front::Request& req, front::Response& res) {
  auto staff = AdmitStaff(req, res);
  if (!staff) return;
  if (auto query = CheckQuery(req, {}); !query) return SendError(res, 400, query.error());
  const std::string record_id = req.matches[1];
  auto placement = store.Locate(record_id);
  if (!placement) return SendStoreError(res, placement.error());
  if (placement->territory && !staff->InScope(*placement->territory)) {
    return SendError(
        res, 403,
        MakeError(ErrorCode::kForbidden,
                  "la fiche " + record_id + " est hors des territoires de ce jeton (" + staff->TerritoryList() + ")"));
  }
  if (auto noted = store.NoteStaffRead(staff->name, "historique", placement->table, record_id); !noted) {
    return SendStoreError(res, noted.error());
  }
  auto history = store.History(placement->table, record_id);
  if (!history) return SendStoreError(res, history.error());
  ConflictFilter query;
  query.status.reset();
  query.record_id = record_id;
  auto conflicts = store.Conflicts(query);
  if (!conflicts) return SendStoreError(res, conflicts.error());
  json versions = HistoryJson(*history), held = json::array();
  for (const Conflict& c : *conflicts) held.push_back(ConflictJson(c));
  tl_note.detail = " versions=" + std::to_string(versions.size());
  res.set_content(json{{"record", record_id},
                       {"table", placement->table},
                       {"territory", placement->territory ? json(*placement->territory) : json(nullptr)},
                       {"versions", std::move(versions)},
                       {"conflicts", std::move(held)}}
                      .dump(),
                  kJson);
}

void HttpEndpoint::Impl::ErasePerson(const front::Request& req, front::Response& res) {
  auto staff = AdmitStaff(req, res);
  if (!staff) return;
  if (auto query = CheckQuery(req, {}); !query) return SendError(res, 400, query.error());
  auto body = StaffBody(req, {"reason"});
  if (!body) return SendError(res, HttpStatusFor(body.error().code), body.error());
  const json reason = body->value("reason", json());
  if (!reason.is_string() || reason.get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos) {
    return SendError(res, 400, MakeError(ErrorCode::kUsage, "reason : dites pourquoi le dossier est effacé"));
  }
  const std::string case_id = req.matches[1];
  auto placement = store.Locate(case_id);
  if (!placement) return SendStoreError(res, placement.error());
  if (placement->table != schema::CasesTable().name) {
    return SendError(res, 404, MakeError(ErrorCode::kNotFound, "aucun dossier " + case_id + " au centre"));
  }
  if (placement->territory && !staff->InScope(*placement->territory)) {
    return SendError(
        res, 403,
        MakeError(ErrorCode::kForbidden,
                  "le dossier " + case_id + " est hors des territoires de ce jeton (" + staff->TerritoryList() + ")"));
  }
  if (!options.erasure_ledger.empty()) {
    const Clock& clock = options.clock ? *options.clock : SystemClock::Instance();
    if (auto journaled = AppendToLedger(options.erasure_ledger, {IsoTimestamp(clock.NowMs()), staff->name, case_id});
        !journaled) {
      return SendStoreError(res, journaled.error());
    }
  }
  auto erased = store.ErasePerson(case_id, reason.get<std::string>(), staff->name, "staff");
  if (!erased) return SendStoreError(res, erased.error());
  tl_note.detail = " records=" + std::to_string(erased->records);
  res.set_content(json{{"case", erased->case_id},
                       {"at", erased->at},
                       {"by", erased->by},
                       {"reason", erased->reason},
                       {"seq", erased->seq},
                       {"records", erased->records},
                       {"source", erased->source}}
                      .dump(),
                  kJson);
}

void HttpEndpoint::Impl::Install() {
  // A request body as the handlers read it: inflated when sent with gzip (in any case), within
  // max_body_bytes. Push reads its own (its limits and messages are its own). False when the
  // answer is written.
  auto readable = [this](const front::Request& req, front::Request& inflated, front::Response& res,
                         std::optional<front::BudgetHold>& hold) {
    if (req.body_too_large) {
      res.set_header("Connection", "close");
      SendError(res, 413, MakeError(ErrorCode::kTooLarge, "le corps de la requête dépasse la taille permise"));
      return false;
    }
    const std::string encoding = req.get_header_value("Content-Encoding");
    if (req.body.empty() || encoding.empty() || EqualsIgnoringCase(TrimSpace(encoding), "identity")) return true;
    if (!EqualsIgnoringCase(TrimSpace(encoding), "gzip")) {
      SendError(res, 415,
                MakeError(ErrorCode::kUsage, "Content-Encoding non pris en charge (envoyez gzip ou aucun encodage)"));
      return false;
    }
    auto out = Inflate(req.body, options.max_body_bytes, hold);
    if (!out && out.error().code == ErrorCode::kIo) {
      SendBusy(res);
      return false;
    }
    if (!out) {
      const bool too_large = out.error().code == ErrorCode::kTooLarge;
      SendError(res, too_large ? 413 : 400,
                MakeError(too_large ? ErrorCode::kTooLarge : ErrorCode::kUsage,
                          too_large ? "le corps de la requête dépasse la taille permise"
                                    : "le corps de la requête n'a pas pu être lu : gzip tronqué ou invalide"));
      return false;
    }
    inflated = req;
    inflated.body = std::move(*out);
    return true;
  };
  // Every route: the request's log note handed to the front, and the one place where an exception
  // becomes an answer (the server stays up whatever it is sent). `own_body`: the handler reads
  // the body itself (push); the others get it through `readable` and their JSON answers through
  // KeepFromHttplibCompression.
  auto route = [this, readable](auto handler, bool own_body = false) {
    return [handler, own_body, readable](const front::Request& req, front::Response& res, front::LogNote& note) {
      tl_note = front::LogNote{};
      try {
        if (req.target.size() > kMaxTargetBytes) {
          res.set_header("Connection", "close");
          SendError(res, 414,
                    MakeError(ErrorCode::kUsage,
                              "l'adresse demandée dépasse " + std::to_string(kMaxTargetBytes) + " caractères"));
        } else if (req.busy) {
          SendBusy(res);
        } else if (own_body) {
          handler(req, res);
        } else {
          front::Request inflated;
          std::optional<front::BudgetHold> hold;
          if (readable(req, inflated, res, hold)) {
            const front::Request& in = inflated.method.empty() ? req : inflated;
            handler(in, res);
            KeepFromHttplibCompression(in, res);
          }
        }
      } catch (const std::exception& e) {
        tl_note.detail += " exception=\"" + std::string(e.what()) + "\"";
        res = front::Response{};
        SendError(res, 500, MakeError(ErrorCode::kInternal, "erreur interne du serveur central ; réessayez plus tard"));
      }
      note = std::move(tl_note);
      tl_note = front::LogNote{};
    };
  };
  using Req = const front::Request&;
  using Res = front::Response&;
  front.Route("GET", "/v1/health", route([this](Req req, Res res) { Health(req, res); }));
  front.Route("GET", "/v1/whoami", route([this](Req req, Res res) { Whoami(req, res); }));
  front.Route("POST", "/v1/restored", route([this](Req req, Res res) { Restored(req, res); }));
  front.Route("POST", "/v1/recovered", route([this](Req req, Res res) { Recovered(req, res); }));
  front.Route("POST", "/v1/access-log", route([this](Req req, Res res) { AccessLog(req, res); }));
  // Push and pull compress their own answers (SetJsonAnswer).
  front.Route("GET", "/v1/pull", route([this](Req req, Res res) { Pull(req, res); }, true));
  front.Route("POST", "/v1/push", route([this](Req req, Res res) { Push(req, res); }, true));
  front.Route("GET", "/v1/conflicts", route([this](Req req, Res res) { ListConflicts(req, res); }));
  front.Route("GET", "/v1/conflicts/*", route([this](Req req, Res res) { ShowConflict(req, res); }));
  for (const char* action : {"resolve", "merge", "dismiss"}) {
    front.Route("POST", std::string("/v1/conflicts/*/") + action,
                route([this, action](Req req, Res res) { SettleConflict(req, res, action); }));
  }
  front.Route("GET", "/v1/history/*", route([this](Req req, Res res) { RecordHistory(req, res); }));
  front.Route("POST", "/v1/persons/*/erase", route([this](Req req, Res res) { ErasePerson(req, res); }));

  // An unknown path, or a known path asked with another method.
  front.Fallback(route(
      [](Req req, Res res) {
        const std::string allowed = AllowedMethods(req.path);
        if (!allowed.empty()) {
          res.set_header("Allow", allowed);
          SendError(res, 405,
                    MakeError(ErrorCode::kUsage, "la méthode " + req.method + " n'est pas permise sur " + req.path +
                                                     " (permises : " + allowed + ")"));
          return;
        }
        SendError(res, 404, MakeError(ErrorCode::kNotFound, "adresse inconnue : " + req.method + " " + req.path));
      },
      true));
}

HttpEndpoint::HttpEndpoint(CentralStore& store, HttpOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {
  impl_->Install();
}

HttpEndpoint::~HttpEndpoint() = default;

Result<int> HttpEndpoint::Bind(const std::string& host, int port) { return impl_->front.Bind(host, port); }

Status HttpEndpoint::Serve() { return impl_->front.Serve(); }

void HttpEndpoint::Stop() { impl_->front.Stop(); }

bool HttpEndpoint::IsServing() const { return impl_->front.IsServing(); }

bool HttpEndpoint::Tls() const { return impl_->front.Tls(); }

Status HttpEndpoint::ReloadTls() { return impl_->front.ReloadTls(); }

}  // namespace relais::server
