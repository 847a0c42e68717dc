#include "server/http.h"

#include <httplib.h>

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
#include "server/decoded_push.h"
#include "server/push.h"
#include "server/push_order.h"
#include "server/staff_json.h"
#include "sync/codec.h"
#include "sync/push_runs.h"

namespace relais::server {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr const char* kJsonUtf8 = "application/json; charset=utf-8";
constexpr const char* kProtocolHeader = "Relais-Protocol";

// What one request did, for its log line. The logger runs on the thread that served the request,
// after the handler: the handler fills this, the logger prints and clears it.
struct RequestNote {
  Clock::time_point start;
  bool started = false;
  std::string device;
  std::string detail;  // counts, never content
};
thread_local RequestNote tl_note;

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
      return 400;
    case ErrorCode::kProtocol:
      return 400;
    case ErrorCode::kValidation:
      return 422;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kAuth:
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

void SendError(httplib::Response& res, int status, const Error& error, std::string_view change_id = {}) {
  res.status = status;
  res.set_content(sync::EncodeError(error, change_id), kJson);
  if (status == 401) res.set_header("WWW-Authenticate", "Bearer");
}

// Store failures are logged in full but answered in general terms: SQL text is nobody's business.
void SendStoreError(httplib::Response& res, const Error& error) {
  int status = HttpStatusFor(error.code);
  if (status >= 500) {
    tl_note.detail += " error=\"" + error.message + "\"";
    SendError(res, status,
              MakeError(error.code, "la base centrale n'a pas pu traiter la demande ; réessayez plus tard"));
    return;
  }
  SendError(res, status, error);
}

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
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc["changes"].is_array() || index >= doc["changes"].size()) return {};
  const json& change = doc["changes"][index];
  if (in_run) {
    // (a const json's operator[] on a missing key is undefined behaviour: find, not [].)
    auto columns = change.is_object() ? change.find("columns") : change.end();
    if (columns == change.end() || !columns->is_object()) return {};
    auto ids = columns->find("id");
    if (ids == columns->end() || !ids->is_array() || *in_run >= ids->size() || !(*ids)[*in_run].is_string()) return {};
    return (*ids)[*in_run].get<std::string>();
  }
  if (!change.is_object() || !change.contains("id") || !change["id"].is_string()) return {};
  return change["id"].get<std::string>();
}

// A settlement's body is a few members: anything larger is refused before it is parsed (a parsed
// "[]" costs a container of its own, so a large body would cost many times its size).
constexpr size_t kMaxStaffBodyBytes = 64u << 10;

// A staff request's JSON body: an object (an empty body counts as {}) holding only `allowed` members.
Result<json> StaffBody(const httplib::Request& req, std::initializer_list<const char*> allowed) {
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
bool AcceptsGzip(const httplib::Request& req) {
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
void KeepFromHttplibCompression(const httplib::Request& req, httplib::Response& res) {
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
void SetJsonAnswer(const httplib::Request& req, httplib::Response& res, std::string body, int level) {
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
Status CheckQuery(const httplib::Request& req, std::initializer_list<std::string_view> known) {
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
  if (path == "/v1/push" || path == "/v1/restored" || path == "/v1/recovered") return "POST";
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
std::optional<bool> BinaryParam(const httplib::Request& req, const char* name, bool absent) {
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

void DefaultLog(std::string_view line) {
  std::string text(line);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

struct HttpEndpoint::Impl {
  Impl(CentralStore& s, HttpOptions o) : store(s), options(std::move(o)) {
    if (!options.log) options.log = DefaultLog;
  }

  CentralStore& store;
  HttpOptions options;
  PushOrder push_order;  // batches sent with ?after= (docs/PROTOCOL.md, "Two batches in flight")
  httplib::Server server;
  socket_t listen_socket = -1;  // set by the socket options callback, used by Bind()

  void Install();

  // Protocol header, then token. On failure the response is written and nullopt returned.
  std::optional<Device> Admit(const httplib::Request& req, httplib::Response& res);

  void Health(const httplib::Request& req, httplib::Response& res);
  void Whoami(const httplib::Request& req, httplib::Response& res);
  // A restore, as devices learn and report it (docs/PROTOCOL.md, "Centre identity").
  std::optional<Device> AdmitDevice(const httplib::Request& req, httplib::Response& res);
  void Restored(const httplib::Request& req, httplib::Response& res);
  void Recovered(const httplib::Request& req, httplib::Response& res);
  void Push(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void Pull(const httplib::Request& req, httplib::Response& res);
  void Log(const httplib::Request& req, const httplib::Response& res);

  // Staff API (docs/PROTOCOL.md, "Staff API").
  std::optional<Device> AdmitStaff(const httplib::Request& req, httplib::Response& res);
  std::optional<Conflict> StaffConflict(const Device& staff, const std::string& id_text, httplib::Response& res);
  void ListConflicts(const httplib::Request& req, httplib::Response& res);
  void ShowConflict(const httplib::Request& req, httplib::Response& res);
  void SettleConflict(const httplib::Request& req, httplib::Response& res, const std::string& action);
  void RecordHistory(const httplib::Request& req, httplib::Response& res);
};

std::optional<Device> HttpEndpoint::Impl::Admit(const httplib::Request& req, httplib::Response& res) {
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
  auto device = store.Authenticate(std::string_view(authorization).substr(prefix.size()));
  if (!device) {
    if (device.error().code == ErrorCode::kAuth) {
      SendError(res, 401, device.error());
    } else {
      SendStoreError(res, device.error());
    }
    return std::nullopt;
  }
  tl_note.device = device->name;
  return *device;
}

void HttpEndpoint::Impl::Health(const httplib::Request& req, httplib::Response& res) {
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

void HttpEndpoint::Impl::Whoami(const httplib::Request& req, httplib::Response& res) {
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
               {"now", (options.clock ? *options.clock : SystemClock::Instance()).NowMs()}};
  res.set_content(body.dump(), kJson);
}

std::optional<Device> HttpEndpoint::Impl::AdmitDevice(const httplib::Request& req, httplib::Response& res) {
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

void HttpEndpoint::Impl::Restored(const httplib::Request& req, httplib::Response& res) {
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

void HttpEndpoint::Impl::Recovered(const httplib::Request& req, httplib::Response& res) {
  auto device = AdmitDevice(req, res);
  if (!device) return;
  if (auto query = CheckQuery(req, {}); !query) return SendError(res, 400, query.error());
  if (req.body.size() > options.max_body_bytes) {
    SendError(res, 413, MakeError(ErrorCode::kTooLarge, "le corps de la requête dépasse la limite"));
    return;
  }
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

void HttpEndpoint::Impl::Push(const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader& reader) {
  // The body is always read (or skipped, within the limits) so that the connection stays usable.
  auto drain = [&] {
    size_t seen = 0;
    reader([&](const char*, size_t n) {
      seen += n;
      return seen <= options.max_body_bytes;
    });
  };
  auto device = Admit(req, res);
  if (!device) {
    drain();
    return;
  }
  if (device->role == Role::kStaff) {
    drain();
    SendError(res, 403,
              MakeError(ErrorCode::kForbidden,
                        "un jeton du personnel central ne synchronise pas : envoyez avec le jeton d'un appareil"));
    return;
  }
  if (auto query = CheckQuery(req, {"after"}); !query) {
    drain();
    SendError(res, 400, query.error());
    return;
  }
  // Codings compare without case (RFC 9110). httplib inflates only "gzip" written so: any other
  // spelling of it is read as sent and inflated below, with the same limit.
  const std::string encoding = req.get_header_value("Content-Encoding");
  const bool gzip = encoding == "gzip";
  const bool gzip_spelt_otherwise = !gzip && EqualsIgnoringCase(TrimSpace(encoding), "gzip");
  if (!encoding.empty() && !EqualsIgnoringCase(TrimSpace(encoding), "identity") && !gzip && !gzip_spelt_otherwise) {
    // httplib would pass an unknown encoding through as if it were plain JSON.
    drain();
    SendError(res, 415,
              MakeError(ErrorCode::kUsage,
                        "Content-Encoding " + encoding + " n'est pas pris en charge (envoyez gzip ou aucun encodage)"));
    return;
  }

  // httplib refuses a Content-Length over max_raw_body_bytes (status 413) and inflates gzip as it
  // reads; the receiver stops at the limit, so neither a large body nor a bomb fills the memory.
  const size_t limit = gzip ? options.max_body_bytes : std::min(options.max_body_bytes, options.max_raw_body_bytes);
  std::string body;
  bool over_limit = false;
  const bool read = reader([&](const char* data, size_t n) {
    if (body.size() + n > limit) {
      over_limit = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (!read || over_limit) {
    if (over_limit || res.status == 413) {
      res.set_header("Connection", "close");
      SendError(
          res, 413,
          MakeError(ErrorCode::kTooLarge, "le corps de la requête dépasse la limite de " +
                                              std::to_string(gzip && over_limit ? limit : options.max_raw_body_bytes) +
                                              (gzip && over_limit ? " octets une fois décompressé" : " octets") +
                                              " : envoyez des lots plus petits"));
    } else {
      SendError(
          res, 400,
          MakeError(ErrorCode::kUsage, gzip ? "le corps de la requête n'a pas pu être lu : gzip tronqué ou invalide"
                                            : "le corps de la requête n'a pas pu être lu"));
    }
    return;
  }
  if (gzip_spelt_otherwise) {
    auto inflated = GzipDecompress(body, options.max_body_bytes);
    if (!inflated) {
      const bool too_large = inflated.error().code == ErrorCode::kTooLarge;
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
    body = std::move(*inflated);
  }
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

void HttpEndpoint::Impl::Pull(const httplib::Request& req, httplib::Response& res) {
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

std::optional<Device> HttpEndpoint::Impl::AdmitStaff(const httplib::Request& req, httplib::Response& res) {
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
                                                          httplib::Response& res) {
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

void HttpEndpoint::Impl::ListConflicts(const httplib::Request& req, httplib::Response& res) {
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

void HttpEndpoint::Impl::ShowConflict(const httplib::Request& req, httplib::Response& res) {
  auto staff = AdmitStaff(req, res);
  if (!staff) return;
  if (auto query = CheckQuery(req, {}); !query) return SendError(res, 400, query.error());
  auto conflict = StaffConflict(*staff, req.matches[1], res);
  if (!conflict) return;
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

void HttpEndpoint::Impl::SettleConflict(const httplib::Request& req, httplib::Response& res,
                                        const std::string& action) {
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

void HttpEndpoint::Impl::RecordHistory(const httplib::Request& req, httplib::Response& res) {
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

void HttpEndpoint::Impl::Log(const httplib::Request& req, const httplib::Response& res) {
  std::string line = req.method + " " + req.path + " " + std::to_string(res.status);
  line += " device=" + (tl_note.device.empty() ? std::string("-") : tl_note.device);
  line += tl_note.detail;
  if (tl_note.started) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - tl_note.start).count();
    line += " ms=" + std::to_string(ms);
  }
  tl_note = RequestNote{};
  options.log(line);
}

void HttpEndpoint::Impl::Install() {
  // The listening socket, to give it a larger backlog once bound: the last socket httplib made is
  // the one that bound (it closes the others).
  server.set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_socket = sock;
  });
  // No Nagle: httplib writes an answer's headers and its body apart, and with Nagle the body waited
  // for the client's ACK of the headers, which Linux delays by up to 40 ms. Three push answers in
  // five waited that long (a connection's first ones are ACKed at once): 0.65 s of a 5 s push of
  // 110,000 records, during which neither side worked.
  server.set_tcp_nodelay(true);
  server.new_task_queue = [threads = options.threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(options.max_raw_body_bytes);
  // A weekly sync over a poor link stalls for seconds at a time; do not cut it for that.
  server.set_read_timeout(60);
  server.set_write_timeout(60);

  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    tl_note = RequestNote{};
    tl_note.start = Clock::now();
    tl_note.started = true;
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Every answer but a push's or a pull's (compressed by SetJsonAnswer) and an error's (below).
  auto answered = [](auto handler) {
    return [handler](const httplib::Request& req, httplib::Response& res) {
      handler(req, res);
      KeepFromHttplibCompression(req, res);
    };
  };
  server.Get("/v1/health", answered([this](const httplib::Request& req, httplib::Response& res) { Health(req, res); }));
  server.Get("/v1/whoami", answered([this](const httplib::Request& req, httplib::Response& res) { Whoami(req, res); }));
  server.Post("/v1/restored",
              answered([this](const httplib::Request& req, httplib::Response& res) { Restored(req, res); }));
  server.Post("/v1/recovered",
              answered([this](const httplib::Request& req, httplib::Response& res) { Recovered(req, res); }));
  server.Get("/v1/pull", [this](const httplib::Request& req, httplib::Response& res) { Pull(req, res); });
  server.Post("/v1/push", [this](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) { Push(req, res, reader); });
  server.Get("/v1/conflicts",
             answered([this](const httplib::Request& req, httplib::Response& res) { ListConflicts(req, res); }));
  server.Get(R"(/v1/conflicts/([^/]+))",
             answered([this](const httplib::Request& req, httplib::Response& res) { ShowConflict(req, res); }));
  for (const char* action : {"resolve", "merge", "dismiss"}) {
    server.Post(std::string(R"(/v1/conflicts/([^/]+)/)") + action,
                answered([this, action](const httplib::Request& req, httplib::Response& res) {
                  SettleConflict(req, res, action);
                }));
  }
  server.Get(R"(/v1/history/([^/]+))",
             answered([this](const httplib::Request& req, httplib::Response& res) { RecordHistory(req, res); }));

  // Answers httplib produced by itself (unknown path, unreadable request…) get a JSON error too.
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) {
          KeepFromHttplibCompression(req, res);
          return httplib::Server::HandlerResponse::Unhandled;
        }
        ErrorCode code = ErrorCode::kUsage;
        std::string message = "la requête n'a pas pu être lue";
        if (res.status == 404 && !AllowedMethods(req.path).empty()) {
          // A known path asked with another method.
          res.status = 405;
          res.set_header("Allow", AllowedMethods(req.path));
          message = "la méthode " + req.method + " n'est pas permise sur " + req.path +
                    " (permises : " + AllowedMethods(req.path) + ")";
        } else if (res.status == 404) {
          code = ErrorCode::kNotFound;
          message = "adresse inconnue : " + req.method + " " + req.path;
        } else if (res.status == 413) {
          code = ErrorCode::kTooLarge;
          message = "le corps de la requête dépasse la taille permise";
        } else if (res.status == 415) {
          message = "Content-Encoding non pris en charge (envoyez gzip ou aucun encodage)";
        } else if (res.status >= 500) {
          code = ErrorCode::kInternal;
          message = "erreur interne du serveur central ; réessayez plus tard";
        }
        res.set_content(sync::EncodeError(MakeError(code, message)), kJson);
        KeepFromHttplibCompression(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }));
  // The one place where an exception becomes an answer: the server stays up whatever it is sent.
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    tl_note.detail += " exception=\"" + what + "\"";
    SendError(res, 500, MakeError(ErrorCode::kInternal, "erreur interne du serveur central ; réessayez plus tard"));
  });
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) { Log(req, res); });
}

HttpEndpoint::HttpEndpoint(CentralStore& store, HttpOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {
  impl_->Install();
}

HttpEndpoint::~HttpEndpoint() {
  if (impl_->server.is_running()) impl_->server.stop();
}

Result<int> HttpEndpoint::Bind(const std::string& host, int port) {
  int bound = 0;
  if (port == 0) {
    bound = impl_->server.bind_to_any_port(host);
  } else if (port > 0 && port < 65536 && impl_->server.bind_to_port(host, port)) {
    bound = port;
  }
  if (bound > 0) {
    // Listening again on a listening socket only changes its backlog (Linux, and POSIX allows it).
    if (impl_->listen_socket < 0) return MakeError(ErrorCode::kInternal, "le serveur n'a pas trouvé sa prise d'écoute");
    if (::listen(impl_->listen_socket, impl_->options.listen_backlog) != 0) {
      return MakeError(ErrorCode::kIo, "impossible de régler la file d'attente d'écoute sur " + host + ":" +
                                           std::to_string(bound) + " : " + std::strerror(errno));
    }
    return bound;
  }
  return MakeError(ErrorCode::kIo, "impossible d'écouter sur " + host + ":" + std::to_string(port) +
                                       " (adresse déjà utilisée, ou qui n'est pas une adresse de cette machine) : "
                                       "choisissez un autre --listen");
}

Status HttpEndpoint::Serve() {
  if (!impl_->server.listen_after_bind())
    return MakeError(ErrorCode::kIo, "le serveur s'est arrêté sur une erreur réseau");
  return OkStatus();
}

void HttpEndpoint::Stop() { impl_->server.stop(); }

bool HttpEndpoint::IsServing() const { return impl_->server.is_running(); }

}  // namespace relais::server
