// Every bad input gets its 4xx with a JSON error, and leaves the store byte for byte unchanged.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <set>

#include <nlohmann/json.hpp>

#include "base/gzip.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using nlohmann::json;

const std::string kGap = "hautes-alpes-gap";

// A served store holding one case, with the device already seen (so that authenticating again
// writes nothing) and the dump of the store taken before the bad input.
struct Refusal {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::string case_id = NewId();
  std::string before;

  Refusal() {
    f.Push(a, {CreateCase(case_id, kGap, Stamp(kT0, "a"))});
    before = f.Dump();
  }

  httplib::Result PushRaw(const std::string& body, httplib::Headers extra = {}) {
    auto headers = ServerFixture::Headers(a.token);
    for (auto& h : extra) headers.erase(h.first);
    headers.insert(extra.begin(), extra.end());
    return f.Client()->Post("/v1/push", headers, body, "application/json");
  }

  // Asserts the answer and that nothing changed.
  void ExpectRefused(const httplib::Result& r, int status, const std::string& code) {
    REQUIRE(r);
    CHECK(r->status == status);
    CHECK(r->get_header_value("Content-Type") == "application/json");
    json body = json::parse(r->body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["error"]["code"] == code);
    CHECK(body["error"]["message"].is_string());
    CHECK(f.Dump() == before);
  }
};

std::string ValidPush(const std::string& phone = "0611111111") {
  return sync::EncodePushRequest(Batch({CreateContact(NewId(), phone, Stamp(kT0, "a"))}));
}

// `prefix`, `piece` `times` over, then `suffix`, gzip-compressed by streaming (never holding the
// inflated text in memory).
std::string GzipRepeated(const std::string& prefix, const std::string& piece, size_t times,
                         const std::string& suffix = "") {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out, buf(1 << 16, '\0');
  auto feed = [&](const std::string& in, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf.data());
      z.avail_out = static_cast<uInt>(buf.size());
      deflate(&z, flush);
      out.append(buf.data(), buf.size() - z.avail_out);
    } while (z.avail_in > 0 || z.avail_out == 0);
  };
  feed(prefix, Z_NO_FLUSH);
  const size_t per_block = std::max<size_t>(1, (1u << 20) / piece.size());
  std::string block;
  for (size_t i = 0; i < per_block; ++i) block += piece;
  for (size_t left = times; left > 0;) {
    size_t n = std::min(left, per_block);
    left -= n;
    feed(n == per_block ? block : block.substr(0, n * piece.size()), Z_NO_FLUSH);
  }
  feed(suffix, Z_FINISH);
  deflateEnd(&z);
  return out;
}

std::string GzipZeros(size_t zeros) { return GzipRepeated("", std::string(1, '\0'), zeros); }

long PeakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST_CASE("malformed JSON gets 400", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw("{\"protocol\": 1, \"batch\": \"k\", \"changes\": ["), 400, "bad_request");
}

TEST_CASE("a body that is not UTF-8 gets 400", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw("{\"protocol\": 1, \"batch\": \"\xff\xfe\", \"changes\": []}"), 400, "bad_request");
}

TEST_CASE("a deeply nested body gets 400", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw(std::string(100000, '[') + std::string(100000, ']')), 400, "bad_request");
}

TEST_CASE("an unknown table gets 400", "[bad-input]") {
  Refusal t;
  std::string body = ValidPush();
  body.replace(body.find("\"contacts\""), 10, "\"patients\"");
  t.ExpectRefused(t.PushRaw(body), 400, "bad_request");
}

TEST_CASE("an unknown field gets 400", "[bad-input]") {
  Refusal t;
  std::string body = ValidPush();
  body.replace(body.find("\"phone\""), 7, "\"iban\"");
  t.ExpectRefused(t.PushRaw(body), 400, "bad_request");
}

TEST_CASE("a value that fails validation gets 422 naming the change", "[bad-input]") {
  Refusal t;
  auto request =
      Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a")), CreateContact(NewId(), "12", Stamp(kT0, "a"))});
  auto r = t.PushRaw(sync::EncodePushRequest(request));
  t.ExpectRefused(r, 422, "validation");
  CHECK(json::parse(r->body)["error"]["change"] == request.changes[1].change_id);
  CHECK(json::parse(r->body)["error"]["message"].get<std::string>().find("phone") != std::string::npos);
}

TEST_CASE("an edit of an append-only follow-up gets 422", "[bad-input]") {
  Refusal t;
  auto request = Batch({Update("followups", NewId(), 1, Stamp(kT0, "a"), {{"text", "autre", "texte"}})});
  t.ExpectRefused(t.PushRaw(sync::EncodePushRequest(request)), 422, "validation");
}

TEST_CASE("a missing protocol header gets 400", "[bad-input]") {
  Refusal t;
  auto r = t.f.Client()->Post("/v1/push", httplib::Headers{{"Authorization", "Bearer " + t.a.token}}, ValidPush(),
                              "application/json");
  t.ExpectRefused(r, 400, "protocol");
}

TEST_CASE("a protocol header of another version gets 400", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw(ValidPush(), {{"Relais-Protocol", "2"}}), 400, "protocol");
  auto pull = t.f.Client()->Get("/v1/pull?since=0",
                                httplib::Headers{{"Relais-Protocol", "0"}, {"Authorization", "Bearer " + t.a.token}});
  t.ExpectRefused(pull, 400, "protocol");
}

TEST_CASE("a body of another protocol version gets 400", "[bad-input]") {
  Refusal t;
  std::string body = ValidPush();
  body.replace(body.find("\"protocol\":1"), 12, "\"protocol\":7");
  t.ExpectRefused(t.PushRaw(body), 400, "protocol");
}

TEST_CASE("a push without a token gets 401", "[bad-input]") {
  Refusal t;
  auto r = t.f.Client()->Post("/v1/push", httplib::Headers{{"Relais-Protocol", "1"}}, ValidPush(), "application/json");
  t.ExpectRefused(r, 401, "unauthorized");
}

TEST_CASE("a body over 16 MiB on the wire gets 413", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw(std::string((16u << 20) + 1, ' ')), 413, "too_large");
}

TEST_CASE("a gzip bomb gets 413 without inflating it in memory", "[bad-input]") {
  Refusal t;
  const std::string bomb = GzipZeros(size_t{1} << 30);  // 1 GiB of zeros in about 1 MiB
  REQUIRE(bomb.size() < (2u << 20));
  const long peak_before = PeakRssKb();
  t.ExpectRefused(t.PushRaw(bomb, {{"Content-Encoding", "gzip"}}), 413, "too_large");
  CHECK(PeakRssKb() - peak_before < 256L * 1024);  // the limit is 64 MiB once inflated
  auto health = t.f.Client()->Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("a gzip bomb of empty objects gets 413 without parsing them into memory", "[bad-input]") {
  // 60 MiB of "{}," inflate within the 64 MiB limit; parsed, each empty object would cost a
  // container of its own (gigabytes). The decoder counts values before it parses.
  Refusal t;
  const size_t objects = size_t{20} << 20;
  const std::string bomb = GzipRepeated("{\"protocol\":1,\"batch\":\"k\",\"changes\":[", "{},", objects, "{}]}");
  const long peak_before = PeakRssKb();
  t.ExpectRefused(t.PushRaw(bomb, {{"Content-Encoding", "gzip"}}), 413, "too_large");
  CHECK(PeakRssKb() - peak_before < 256L * 1024);
}

TEST_CASE("a body that is not gzip but says so gets 400", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw("this is not gzip at all", {{"Content-Encoding", "gzip"}}), 400, "bad_request");
}

TEST_CASE("an unknown Content-Encoding gets 415", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw(ValidPush(), {{"Content-Encoding", "zstd"}}), 415, "bad_request");
}

TEST_CASE("a create with a base_version other than 0 gets 422 naming the change", "[bad-input]") {
  Refusal t;
  sync::Change create = CreateContact(NewId(), "0611111111", Stamp(kT0, "a"));
  create.base_version = 3;
  auto r = t.PushRaw(sync::EncodePushRequest(Batch({CreateContact(NewId(), "0622222222", Stamp(kT0, "a")), create})));
  t.ExpectRefused(r, 422, "validation");
  json error = json::parse(r->body)["error"];
  CHECK(error["change"] == create.change_id);
  CHECK(error["message"].get<std::string>().find("changes[1].base_version") != std::string::npos);
}

TEST_CASE("an update on a base_version the centre never gave is rejected and writes no record", "[bad-input]") {
  Refusal t;
  // The store's last sequence is the case's creation: 1. A device that saw version 7 of it knew
  // another centre, or this one before a restore.
  sync::Change edit = Update("cases", t.case_id, 7, Stamp(kT0 + 10, "a"), {{"phone", "0611111111", std::nullopt}});
  auto r = t.PushRaw(sync::EncodePushRequest(Batch({edit})));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto response = sync::DecodePushResponse(r->body);
  REQUIRE(response.ok());
  CHECK(response->results.at(0).status == sync::ChangeStatus::kRejected);
  CHECK(response->results.at(0).code == "unknown_base_version");
  CHECK(response->results.at(0).reason.find("version de base 7") != std::string::npos);
  auto page = t.f.store().Pull(t.a.device, 0, 100, false);
  REQUIRE(page.ok());
  REQUIRE(page->records.size() == 1);
  CHECK(page->records[0].record.version == 1);
  CHECK(page->next == 1);
  // On the sequence itself, the same edit is taken.
  edit.change_id = NewId();
  edit.base_version = 1;
  auto taken = t.PushRaw(sync::EncodePushRequest(Batch({edit})));
  REQUIRE(taken);
  CHECK(sync::DecodePushResponse(taken->body)->results.at(0).status == sync::ChangeStatus::kApplied);
}

TEST_CASE("a bad pull cursor or limit gets 400", "[bad-input]") {
  Refusal t;
  std::string query = GENERATE(as<std::string>{}, "", "?since=-1", "?since=abc", "?since=1.5", "?since=0&limit=0",
                               "?since=0&limit=10001", "?since=0&limit=x", "?since=99999999999999999999");
  CAPTURE(query);
  t.ExpectRefused(t.f.Client()->Get("/v1/pull" + query, ServerFixture::Headers(t.a.token)), 400, "bad_request");
}

TEST_CASE("an unknown endpoint gets 404 with a JSON error", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.f.Client()->Get("/v2/pull?since=0", ServerFixture::Headers(t.a.token)), 404, "not_found");
}

TEST_CASE("the server still answers after every bad input", "[bad-input]") {
  Refusal t;
  REQUIRE(t.PushRaw("]]]"));
  auto r = t.PushRaw(ValidPush());
  REQUIRE(r);
  CHECK(r->status == 200);
}

// ---- The hostile-input table -------------------------------------------------------------------
//
// One served store holding what a hostile request could aim at (a case of each of two territories,
// a field conflict and a probable duplicate for staff, a batch key already used, a revoked device),
// then every malformed request of the table, one after the other on the same server. Each must get
// its 4xx with a JSON error body, leave every table byte for byte as it was, and leave the server
// answering /v1/health.

const std::string kBastia = "corse-bastia";

struct Probe {
  std::string name;
  std::string method;  // GET, POST, PUT, DELETE; RAW sends `body` as the whole request on a socket
  std::string path;
  std::string body;
  httplib::Headers headers;
  int status = 400;
  std::string code = "bad_request";
  // A request HTTP cannot read at all: the centre's HTTP library (libmicrohttpd) answers it itself
  // with `status` and a body of its own, or closes the connection.
  bool unreadable = false;
};

// One answer read off a socket: status 0 when none came.
struct RawAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Sends `request` as it is on a new connection and reads one answer.
// With `end_request`, the write side is shut after it: the request ends there, even where it
// announces more (the server would otherwise wait for the rest until its read timeout).
RawAnswer SendRaw(int port, const std::string& request, bool end_request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval timeout{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer and close before reading everything
    sent += static_cast<size_t>(n);
  }
  if (end_request) shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[65536];
  for (;;) {
    size_t head_end = answer.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::string head = answer.substr(0, head_end);
      size_t cl = head.find("Content-Length: ");
      size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
      if (answer.size() >= head_end + 4 + length) break;
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  RawAnswer out;
  if (answer.rfind("HTTP/1.1 ", 0) == 0) out.status = static_cast<int>(std::strtol(answer.c_str() + 9, nullptr, 10));
  const size_t head_end = answer.find("\r\n\r\n");
  if (head_end == std::string::npos) return out;
  out.body = answer.substr(head_end + 4);
  // Header names are case-insensitive (RFC 9110, 5.1).
  std::string head = answer.substr(0, head_end + 2);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t at = head.find("\r\ncontent-type:");
  if (at != std::string::npos) {
    size_t from = at + 15;
    while (from < head.size() && head[from] == ' ') ++from;
    out.content_type = answer.substr(from, head.find("\r\n", from) - from);
  }
  return out;
}

struct Hostile : Refusal {
  Enrolled staff = f.Enrol("siege", {kGap}, Role::kStaff);
  Enrolled a2 = f.Enrol("a2", {kGap});
  Enrolled c = f.Enrol("c", {kBastia});
  Enrolled revoked = f.Enrol("gone", {kGap});
  std::string bastia_case = NewId();
  std::string reviewed_case = NewId();
  int64_t field_conflict = 0;
  int64_t duplicate_conflict = 0;
  std::string used_key = "used-key-1";
  sync::PushRequest used_batch = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))}, used_key);

  Hostile() {
    f.Push(c, {CreateCase(bastia_case, kBastia, Stamp(kT0, "c"))});
    // The same person created twice: a probable duplicate. The same review field edited on two
    // devices: a field conflict.
    f.Push(a, {CreateCase(reviewed_case, kGap, Stamp(kT0, "a"), {{"birth_date", "1990-04-12"}})});
    f.Push(a2, {CreateCase(NewId(), kGap, Stamp(kT0, "a2"), {{"birth_date", "1990-04-12"}})});
    int64_t version = 0;
    for (const sync::PulledRecord& pr : f.Pull(a).records) {
      if (pr.record.id == reviewed_case) version = pr.record.version;
    }
    REQUIRE(version > 0);
    f.Push(a2, {Update("cases", reviewed_case, version, Stamp(kT0 + 1, "a2"), {{"status", "salarie", std::nullopt}})});
    f.Push(a, {Update("cases", reviewed_case, version, Stamp(kT0 + 2, "a"), {{"status", "etudiant", std::nullopt}})});
    REQUIRE(f.store().Push(a.device, Decoded(used_batch)).ok());
    REQUIRE(f.store().RevokeDevice("gone").ok());
    ConflictFilter all;
    all.status.reset();
    auto conflicts = f.store().Conflicts(all);
    REQUIRE(conflicts.ok());
    for (const Conflict& conflict : *conflicts) {
      (conflict.kind == "duplicate" ? duplicate_conflict : field_conflict) = conflict.id;
    }
    REQUIRE(field_conflict > 0);
    REQUIRE(duplicate_conflict > 0);
    // Every token authenticates once here so that `last_seen_at` is written before the dump.
    for (const Enrolled* e : {&a, &a2, &c, &staff}) REQUIRE(f.store().Authenticate(e->token).ok());
    before = f.Dump();
  }

  httplib::Headers As(const Enrolled& who) const { return ServerFixture::Headers(who.token); }

  httplib::Result Send(const Probe& p) {
    auto client = f.Client();
    if (p.method == "GET") return client->Get(p.path, p.headers);
    if (p.method == "PUT") return client->Put(p.path, p.headers, p.body, "application/json");
    if (p.method == "DELETE") return client->Delete(p.path, p.headers);
    return client->Post(p.path, p.headers, p.body, "application/json");
  }
};

// A valid create of a case of the device's territory, as JSON to break.
json CaseCreate() {
  return {
      {"id", NewId()},
      {"table", "cases"},
      {"record", NewId()},
      {"op", "create"},
      {"hlc", Stamp(kT0 + 10, "a")},
      {"base_version", 0},
      {"values", {{"last_name", "Martin"}, {"first_name", "Zoé"}, {"opened_on", "2026-01-05"}, {"territory", kGap}}}};
}

json CaseUpdate(const std::string& record) {
  return {{"id", NewId()},
          {"table", "cases"},
          {"record", record},
          {"op", "update"},
          {"hlc", Stamp(kT0 + 10, "a")},
          {"base_version", 1},
          {"set", {{"phone", "0622222222"}}},
          {"base", {{"phone", nullptr}}}};
}

json PushDoc(json changes, const std::string& key = "") {
  return {{"protocol", 1}, {"batch", key.empty() ? RandomHex(8) : key}, {"changes", std::move(changes)}};
}

// The body of a push of one valid case create after `edit` changed the create.
template <class Edit>
std::string WithCreate(Edit edit) {
  json change = CaseCreate();
  edit(change);
  return PushDoc(json::array({change})).dump();
}

template <class Edit>
std::string WithUpdate(const std::string& record, Edit edit) {
  json change = CaseUpdate(record);
  edit(change);
  return PushDoc(json::array({change})).dump();
}

template <class Edit>
std::string WithDoc(Edit edit) {
  json doc = PushDoc(json::array({CaseCreate()}));
  edit(doc);
  return doc.dump();
}

// A push body whose last_name is `raw` spliced in as bytes (for bytes JSON could not hold).
std::string WithRawLastName(const std::string& raw) {
  std::string body = WithCreate([](json& c) { c["values"]["last_name"] = "@@NAME@@"; });
  body.replace(body.find("@@NAME@@"), 8, raw);
  return body;
}

// `body` with its first `needle` replaced by `replacement`.
std::string Splice(std::string body, const std::string& needle, const std::string& replacement) {
  size_t at = body.find(needle);
  REQUIRE(at != std::string::npos);
  return body.replace(at, needle.size(), replacement);
}

std::string Repeat(const std::string& piece, size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (size_t i = 0; i < times; ++i) out += piece;
  return out;
}

std::string Nested(size_t depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); }

std::vector<Probe> HostileProbes(const Hostile& t) {
  const auto dev = t.As(t.a);
  const auto staff = t.As(t.staff);
  const std::string mib(1u << 20, 'x');
  std::vector<Probe> p;
  auto push = [&](std::string name, std::string body, int status = 400, std::string code = "bad_request") {
    p.push_back({std::move(name), "POST", "/v1/push", std::move(body), dev, status, std::move(code)});
  };
  auto pull = [&](std::string name, const std::string& query) {
    p.push_back({std::move(name), "GET", "/v1/pull" + query, "", dev, 400, "bad_request"});
  };
  auto raw = [&](std::string name, std::string request, int status = 400, std::string code = "bad_request") {
    p.push_back({std::move(name), "RAW", "", std::move(request), {}, status, std::move(code)});
  };
  auto with_token = [&](std::string name, const std::string& authorization, int status = 401,
                        std::string code = "unauthorized") {
    httplib::Headers h{{"Relais-Protocol", "1"}};
    if (!authorization.empty()) h.emplace("Authorization", authorization);
    p.push_back({std::move(name), "POST", "/v1/push", ValidPush(), h, status, std::move(code)});
  };
  const std::string conflicts = "/v1/conflicts/";
  const std::string dup = conflicts + std::to_string(t.duplicate_conflict);
  const std::string field = conflicts + std::to_string(t.field_conflict);
  auto settle = [&](std::string name, std::string path, std::string body, int status = 400,
                    std::string code = "bad_request") {
    p.push_back({std::move(name), "POST", std::move(path), std::move(body), staff, status, std::move(code)});
  };

  // Wrong types.
  push("protocol as a string", WithDoc([](json& d) { d["protocol"] = "1"; }), 400, "protocol");
  push("protocol as a fraction", WithDoc([](json& d) { d["protocol"] = 1.0; }), 400, "protocol");
  push("protocol null", WithDoc([](json& d) { d["protocol"] = nullptr; }), 400, "protocol");
  push("batch as a number", WithDoc([](json& d) { d["batch"] = 42; }));
  push("batch null", WithDoc([](json& d) { d["batch"] = nullptr; }));
  push("changes as an object", WithDoc([](json& d) { d["changes"] = json::object(); }));
  push("changes as a string", WithDoc([](json& d) { d["changes"] = "[]"; }));
  push("a change as a number", WithDoc([](json& d) { d["changes"] = json::array({7}); }));
  push("a change as an array", WithDoc([](json& d) { d["changes"] = json::array({json::array({CaseCreate()})}); }));
  push("id as a number", WithCreate([](json& c) { c["id"] = 12345; }));
  push("table as an array", WithCreate([](json& c) { c["table"] = json::array({"cases"}); }));
  push("record as a boolean", WithCreate([](json& c) { c["record"] = true; }));
  push("op as a number", WithCreate([](json& c) { c["op"] = 1; }));
  push("hlc as a number", WithCreate([](json& c) { c["hlc"] = kT0; }));
  push("base_version as a string", WithCreate([](json& c) { c["base_version"] = "0"; }));
  push("base_version as a fraction", WithCreate([](json& c) { c["base_version"] = 1.5; }));
  push("base_version negative", WithCreate([](json& c) { c["base_version"] = -1; }));
  push("base_version 1e300", WithCreate([](json& c) { c["base_version"] = 1e300; }));
  push("base_version 2^64-1", WithCreate([](json& c) { c["base_version"] = UINT64_MAX; }));
  push("values as an array", WithCreate([](json& c) { c["values"] = json::array(); }));
  push("values as a string", WithCreate([](json& c) { c["values"] = "last_name=Martin"; }));
  push("set as an array", WithUpdate(t.case_id, [](json& c) { c["set"] = json::array({"phone"}); }));
  push("base as an array", WithUpdate(t.case_id, [](json& c) { c["base"] = json::array(); }));
  push("an integer field as a string", WithCreate([](json& c) { c["values"]["service_level"] = "2"; }), 422,
       "validation");
  push("an integer field as a fraction", WithCreate([](json& c) { c["values"]["service_level"] = 2.5; }), 422,
       "validation");
  push("an integer field as a boolean", WithCreate([](json& c) { c["values"]["service_level"] = true; }), 422,
       "validation");
  push("an integer field beyond 64 bits", WithCreate([](json& c) { c["values"]["service_level"] = 1e30; }), 422,
       "validation");
  push("an integer field at INT64_MIN", WithCreate([](json& c) { c["values"]["service_level"] = INT64_MIN; }), 422,
       "validation");
  push("a text field as a number", WithCreate([](json& c) { c["values"]["last_name"] = 42; }), 422, "validation");
  push("a text field as an object", WithCreate([](json& c) {
         c["values"]["last_name"] = {{"a", 1}};
       }),
       422, "validation");
  push("a text field as an array", WithCreate([](json& c) { c["values"]["last_name"] = json::array({"Martin"}); }), 422,
       "validation");
  push("a text field as a boolean in set", WithUpdate(t.case_id, [](json& c) { c["set"]["phone"] = false; }), 422,
       "validation");
  push("a base value of the wrong type", WithUpdate(t.case_id, [](json& c) { c["base"]["phone"] = 611111111; }), 422,
       "validation");
  push("the body is an array", "[]");
  push("the body is a string", "\"push\"");
  push("the body is null", "null");
  push("the body is a number", "42");
  push("the body is empty", "");
  push("the body is whitespace", "   \n\t ");
  push("the body is an empty object", "{}", 400, "protocol");
  push("trailing garbage after the object", ValidPush() + "}");
  push("two objects", ValidPush() + ValidPush());
  push("a JSON comment", "/* x */" + ValidPush());
  push("single quotes", "{'protocol': 1}");
  push("NaN", WithCreate([](json& c) { c["base_version"] = 0; }).replace(0, 1, "{\"x\": NaN, "));

  // Missing members.
  push("no batch", WithDoc([](json& d) { d.erase("batch"); }));
  push("no changes", WithDoc([](json& d) { d.erase("changes"); }));
  for (const char* member : {"id", "table", "record", "op", "hlc", "base_version"}) {
    push(std::string("a change without ") + member, WithCreate([&](json& c) { c.erase(member); }));
  }
  push("a create without values", WithCreate([](json& c) { c.erase("values"); }));
  push("an update without set", WithUpdate(t.case_id, [](json& c) { c.erase("set"); }));
  push("an update with an empty set", WithUpdate(t.case_id, [](json& c) { c["set"] = json::object(); }));
  push("a create without a required field", WithCreate([](json& c) { c["values"].erase("last_name"); }), 422,
       "validation");
  push("a create with a required field null", WithCreate([](json& c) { c["values"]["opened_on"] = nullptr; }), 422,
       "validation");
  push("a required field set to blanks", WithCreate([](json& c) { c["values"]["last_name"] = "   "; }), 422,
       "validation");
  push("a follow-up without its case", WithCreate([](json& c) {
         c["table"] = "followups";
         c["values"] = {{"kind", "entretien"}, {"date", "2026-02-03"}, {"text", "x"}};
       }),
       422, "validation");

  // Wrong shapes.
  push("a create carrying set", WithCreate([](json& c) { c["set"] = {{"phone", "0611111111"}}; }));
  push("an update carrying values", WithUpdate(t.case_id, [](json& c) { c["values"] = {{"phone", "0611111111"}}; }));
  push("a base for a field not set", WithUpdate(t.case_id, [](json& c) { c["base"]["email"] = "a@b.fr"; }));
  push("the same change id twice", [] {
    json change = CaseCreate();
    json other = CaseCreate();
    other["id"] = change["id"];
    return PushDoc(json::array({change, other})).dump();
  }());
  push("an update of a follow-up",
       WithUpdate(t.case_id,
                  [](json& c) {
                    c["table"] = "followups";
                    c["set"] = {{"text", "x"}};
                    c["base"] = json::object();
                  }),
       422, "validation");

  // Unknown tables, fields and keys.
  push("an unknown top-level key", WithDoc([](json& d) { d["admin"] = true; }));
  push("an unknown change key", WithCreate([](json& c) { c["version"] = 99; }));
  for (const char* table : {"patients", "", "CASES", "sqlite_master", "push_batches", "devices", "history", "cases_fts",
                            "cases; DROP TABLE cases", "cases' --", "cases\"", "../cases"}) {
    push(std::string("table \"") + table + "\"", WithCreate([&](json& c) { c["table"] = table; }));
  }
  for (const char* name : {"iban", "id", "version", "stamps", "last_device", "identity_key", "Last_Name", "",
                           "last_name = 'x' --", "token_hash"}) {
    push(std::string("values field \"") + name + "\"", WithCreate([&](json& c) { c["values"][name] = "x"; }));
    push(std::string("set field \"") + name + "\"", WithUpdate(t.case_id, [&](json& c) {
           c["set"] = {{name, "x"}};
           c["base"] = json::object();
         }));
  }
  push("a central-only field in values", WithCreate([&](json& c) { c["values"]["merged_into"] = t.case_id; }), 422,
       "validation");
  push("a central-only field in set",
       WithUpdate(t.case_id,
                  [&](json& c) {
                    c["set"] = {{"merged_into", t.case_id}};
                    c["base"] = json::object();
                  }),
       422, "validation");
  push("op delete", WithCreate([](json& c) { c["op"] = "delete"; }));
  push("op CREATE", WithCreate([](json& c) { c["op"] = "CREATE"; }));
  push("an enumeration outside its values", WithCreate([](json& c) { c["values"]["status"] = "chomeur"; }), 422,
       "validation");
  push("a date that does not exist", WithCreate([](json& c) { c["values"]["birth_date"] = "1990-02-30"; }), 422,
       "validation");

  // Huge strings and counts.
  push("a name of 101 bytes", WithCreate([](json& c) { c["values"]["last_name"] = std::string(101, 'a'); }), 422,
       "validation");
  push("a name of 1 MiB", WithCreate([&](json& c) { c["values"]["last_name"] = mib; }), 422, "validation");
  push("notes of 10,001 bytes", WithCreate([](json& c) { c["values"]["notes"] = std::string(10001, 'n'); }), 422,
       "validation");
  push("notes of 8 MiB", WithCreate([](json& c) { c["values"]["notes"] = std::string(8u << 20, 'n'); }), 422,
       "validation");
  push("a batch key of 101 characters", WithDoc([](json& d) { d["batch"] = std::string(101, 'k'); }));
  push("a batch key of 4 MiB", WithDoc([](json& d) { d["batch"] = std::string(4u << 20, 'k'); }));
  push("a change id of 1 MiB", WithCreate([&](json& c) { c["id"] = mib; }));
  push("a record id of 1 MiB", WithCreate([&](json& c) { c["record"] = mib; }));
  push("a table name of 1 MiB", WithCreate([&](json& c) { c["table"] = mib; }));
  push("a field name of 1 MiB", WithCreate([&](json& c) { c["values"][mib] = "x"; }));
  push("a clock stamp of 101 characters", WithCreate([](json& c) { c["hlc"] = std::string(101, '1'); }));
  push("a clock stamp that is not one", WithCreate([](json& c) { c["hlc"] = "yesterday"; }));
  push("base_version of 400 digits",
       Splice(WithCreate([](json&) {}), "\"base_version\":0", "\"base_version\":" + std::string(400, '9')));
  push(
      "10,001 changes",
      [] {
        json changes = json::array();
        for (int i = 0; i < 10001; ++i) changes.push_back(CaseCreate());
        return PushDoc(changes).dump();
      }(),
      413, "too_large");
  push("17 MiB of whitespace around a valid push", std::string(17u << 20, ' ') + ValidPush(), 413, "too_large");
  push("two million empty objects", Splice(PushDoc(json::array()).dump(), "[]", "[" + Repeat("{},", 1999999) + "{}]"),
       413, "too_large");

  // Deep nesting.
  push("17 levels in a value",
       Splice(WithCreate([](json& c) { c["values"]["last_name"] = "@"; }), "\"@\"", Nested(17)));
  push("100,000 levels of objects", std::string(100000, '{'));
  push("100,000 levels in a change", "{\"protocol\":1,\"batch\":\"k\",\"changes\":" + Nested(100000) + "}");
  push("nesting hidden after an escaped quote", "{\"protocol\":1,\"batch\":\"k\\\"\",\"changes\":" + Nested(40) + "}");

  // Invalid UTF-8 (raw bytes in the body) and hostile escapes.
  push("a lone continuation byte", WithRawLastName("Mar\x80tin"));
  push("an overlong slash", WithRawLastName("\xc0\xaf"));
  push("an encoded surrogate", WithRawLastName("\xed\xa0\x80"));
  push("a truncated sequence", WithRawLastName("Mart\xe2\x82"));
  push("a five-byte sequence", WithRawLastName("\xf8\x88\x80\x80\x80"));
  push("a code point beyond U+10FFFF", WithRawLastName("\xf4\x90\x80\x80"));
  push("Latin-1 instead of UTF-8", WithRawLastName("Lef\xe8vre"));
  push("invalid UTF-8 in a key", ValidPush().replace(1, 0, "\"\xff\":1,"));
  push("a UTF-16 body", std::string("\xff\xfe{\0\"\0", 6));
  push("an escaped lone surrogate", WithRawLastName("\\ud800"));
  push("an escaped NUL", WithRawLastName("Mar\\u0000tin"), 422, "validation");
  push("a newline in a one-line field", WithRawLastName("Mar\\ntin"), 422, "validation");
  push("an escape that is not one", WithRawLastName("\\x41"));
  push("a raw NUL byte in the body", WithRawLastName(std::string("Mar\0tin", 7)));

  // SQL metacharacters where they are refused (as data they are stored verbatim: see below).
  push("SQL in a record id", WithCreate([](json& c) { c["record"] = "' OR '1'='1"; }));
  push("SQL in a change id", WithCreate([](json& c) { c["id"] = "1; DROP TABLE history"; }));
  push("SQL in a batch key", WithDoc([](json& d) { d["batch"] = "k'; DELETE FROM push_batches; --"; }));
  pull("SQL in the cursor", "?since=0%20OR%201%3D1");
  pull("an '=' in the cursor (read as since=1 by httplib)", "?since=0%20OR%201=1");
  p.push_back(
      {"an '=' in the conflicts status", "GET", "/v1/conflicts?status=open=all", "", staff, 400, "bad_request"});
  pull("SQL in the limit", "?since=0&limit=1;DROP%20TABLE%20cases");
  with_token("SQL in the token", "Bearer ' OR '1'='1");

  // Cursors and limits.
  pull("since missing", "");
  pull("since empty", "?since=");
  pull("since -1", "?since=-1");
  pull("since INT64_MIN", "?since=-9223372036854775808");
  pull("since 2^64", "?since=18446744073709551616");
  pull("since of 20 digits", "?since=99999999999999999999");
  pull("since of 400 digits", "?since=" + std::string(400, '9'));
  pull("since +1", "?since=%2B1");
  pull("since 0x10", "?since=0x10");
  pull("since 1e3", "?since=1e3");
  pull("since 1.5", "?since=1.5");
  pull("since with a NUL", "?since=1%00");
  pull("since with a space", "?since=%201");
  pull("since abc", "?since=abc");
  pull("limit 0", "?since=0&limit=0");
  pull("limit -5", "?since=0&limit=-5");
  pull("limit 10,001", "?since=0&limit=10001");
  pull("limit of 20 digits", "?since=0&limit=99999999999999999999");
  pull("limit empty", "?since=0&limit=");
  pull("limit 1.0", "?since=0&limit=1.0");

  // Bodies too large, compressed bombs, broken encodings.
  {
    auto gzip_headers = dev;
    gzip_headers.emplace("Content-Encoding", "gzip");
    const std::string gz = GzipCompress(ValidPush());
    p.push_back({"a gzip bomb of whitespace after a valid prefix", "POST", "/v1/push",
                 GzipRepeated("{\"protocol\":1,\"batch\":\"k\",\"changes\":[", " ", size_t{200} << 20), gzip_headers,
                 413, "too_large"});
    p.push_back(
        {"a gzip body cut in half", "POST", "/v1/push", gz.substr(0, gz.size() / 2), gzip_headers, 400, "bad_request"});
    p.push_back({"a gzip body with a broken checksum", "POST", "/v1/push",
                 [&] {
                   std::string broken = gz;
                   broken[broken.size() - 6] ^= 0x55;
                   return broken;
                 }(),
                 gzip_headers, 400, "bad_request"});
    p.push_back({"gzip inside gzip", "POST", "/v1/push", GzipCompress(gz), gzip_headers, 400, "bad_request"});
    p.push_back({"gzip of invalid UTF-8", "POST", "/v1/push", GzipCompress(WithRawLastName("\xff")), gzip_headers, 400,
                 "bad_request"});
    p.push_back({"an empty gzip body", "POST", "/v1/push", "", gzip_headers, 400, "bad_request"});
    for (const char* encoding : {"deflate", "br", "compress", "gzip, gzip", "x-gzip"}) {
      auto h = dev;
      h.emplace("Content-Encoding", encoding);
      p.push_back(
          {std::string("Content-Encoding ") + encoding, "POST", "/v1/push", ValidPush(), h, 415, "bad_request"});
    }
    // gzip in capitals is gzip: a body that is not gzip is refused as such.
    auto capitals = dev;
    capitals.emplace("Content-Encoding", "GZIP");
    p.push_back({"Content-Encoding GZIP on a body that is not gzip", "POST", "/v1/push", ValidPush(), capitals, 400,
                 "bad_request"});
  }

  // Another territory's records, by id, where the decoder already refuses (see below for those a
  // push answers as rejected).
  push("an update of another territory's case with a bad value",
       WithUpdate(t.bastia_case,
                  [](json& c) {
                    c["set"] = {{"phone", "12"}};
                    c["base"] = json::object();
                  }),
       422, "validation");

  // Replayed batch keys with other content.
  {
    json used = json::parse(sync::EncodePushRequest(t.used_batch));
    json changed = used;
    changed["changes"][0]["values"]["phone"] = "0699999999";
    push("a used batch key with a changed value", changed.dump(), 409, "conflict");
    json more = used;
    more["changes"].push_back(CaseCreate());
    push("a used batch key with one more change", more.dump(), 409, "conflict");
    json fewer = used;
    fewer["changes"] = json::array();
    push("a used batch key with no change", fewer.dump(), 409, "conflict");
    json other_id = used;
    other_id["changes"][0]["id"] = NewId();
    push("a used batch key with another change id", other_id.dump(), 409, "conflict");
    json other_time = used;
    other_time["changes"][0]["hlc"] = Stamp(kT0 + 99, "a");
    push("a used batch key with another clock stamp", other_time.dump(), 409, "conflict");
  }

  // Tokens and protocol headers.
  with_token("no Authorization header", "");
  with_token("a scheme without token", "Bearer");
  with_token("Basic credentials", "Basic YTpi");
  with_token("the token with one more character", "Bearer " + t.a.token + "x");
  with_token("the token cut short", "Bearer " + t.a.token.substr(0, t.a.token.size() - 1));
  with_token("a token of 300 characters", "Bearer " + std::string(300, 'a'));
  with_token("a token of 8,000 characters", "Bearer " + std::string(8000, 'a'));
  with_token("a revoked token", "Bearer " + t.revoked.token);
  with_token(
      "a token in the wrong case", "Bearer " + [&] {
        std::string upper = t.a.token;
        for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        return upper;
      }());
  with_token("a staff token on push", "Bearer " + t.staff.token, 403, "forbidden");
  p.push_back({"a staff token on pull", "GET", "/v1/pull?since=0", "", staff, 403, "forbidden"});
  p.push_back({"a device token on the conflicts list", "GET", "/v1/conflicts", "", dev, 403, "forbidden"});
  p.push_back({"a device token settling a conflict", "POST", field + "/resolve", "{\"keep\":\"device\"}", dev, 403,
               "forbidden"});
  p.push_back({"a device token on a record's history", "GET", "/v1/history/" + t.case_id, "", dev, 403, "forbidden"});
  p.push_back({"a staff token on another territory's history", "GET", "/v1/history/" + t.bastia_case, "", staff, 403,
               "forbidden"});
  p.push_back({"whoami without a token", "GET", "/v1/whoami", "", {{"Relais-Protocol", "1"}}, 401, "unauthorized"});
  for (const char* version : {"0", "2", "1.0", "01", "1, 1", "-1", "99999999999999999999"}) {
    p.push_back({std::string("Relais-Protocol ") + version,
                 "POST",
                 "/v1/push",
                 ValidPush(),
                 {{"Relais-Protocol", version}, {"Authorization", "Bearer " + t.a.token}},
                 400,
                 "protocol"});
  }

  // The staff API with bad bodies, ids and parameters.
  settle("resolve of a duplicate", dup + "/resolve", "{\"keep\":\"server\"}");
  settle("merge of a field conflict", field + "/merge", "{}");
  settle("dismiss of a field conflict", field + "/dismiss", "");
  settle("resolve with keep 1", field + "/resolve", "{\"keep\":1}");
  settle("resolve with keep both", field + "/resolve", "{\"keep\":\"both\"}");
  settle("resolve with keep and value", field + "/resolve", "{\"keep\":\"server\",\"value\":\"x\"}");
  settle("resolve with neither keep nor value", field + "/resolve", "{}");
  settle("resolve with a number value", field + "/resolve", "{\"value\":5}");
  settle("resolve with a value outside the enumeration", field + "/resolve", "{\"value\":\"chomeur\"}", 422,
         "validation");
  settle("resolve with a value of 10,000 bytes", field + "/resolve", json{{"value", std::string(10000, 'v')}}.dump(),
         422, "validation");
  settle("resolve with an unknown member", field + "/resolve", "{\"keep\":\"server\",\"sql\":\"DROP TABLE cases\"}");
  settle("resolve with an array body", field + "/resolve", "[]");
  settle("resolve with malformed JSON", field + "/resolve", "{\"keep\":");
  settle("resolve with invalid UTF-8", field + "/resolve", "{\"value\":\"\xff\"}");
  settle("resolve with 10,000 levels", field + "/resolve", Nested(10000));
  settle("merge taking a string", dup + "/merge", "{\"take\":\"phone\"}");
  settle("merge taking a number", dup + "/merge", "{\"take\":[1]}");
  settle("merge taking an unknown field", dup + "/merge", "{\"take\":[\"iban\"]}");
  settle("merge taking merged_into", dup + "/merge", "{\"take\":[\"merged_into\"]}");
  settle("dismiss with a body", dup + "/dismiss", "{\"why\":1}");
  settle("a staff body of 1 MiB", field + "/resolve", "{\"keep\":\"server\"" + std::string(1u << 20, ' ') + "}", 413,
         "too_large");
  settle("a staff body of a million values", dup + "/merge", "{\"take\":[" + Repeat("[],", 999999) + "[]]}", 413,
         "too_large");
  for (const char* id : {"abc", "-1", "0", "99999999", "1e3", "1%20OR%201=1", "99999999999999999999"}) {
    p.push_back({std::string("conflict id ") + id, "GET", conflicts + id, "", staff, 404, "not_found"});
    settle(std::string("dismiss of conflict id ") + id, conflicts + id + "/dismiss", "", 404, "not_found");
  }
  p.push_back(
      {"conflicts of status bogus", "GET", "/v1/conflicts?status=open'%20OR%20'1'='1", "", staff, 400, "bad_request"});
  p.push_back({"history of an unknown record", "GET", "/v1/history/x'%20OR%20'1'='1", "", staff, 404, "not_found"});

  // Methods and paths.
  p.push_back({"PUT on push", "PUT", "/v1/push", ValidPush(), dev, 405, "bad_request"});
  p.push_back({"DELETE on pull", "DELETE", "/v1/pull?since=0", "", dev, 405, "bad_request"});
  p.push_back({"GET on push", "GET", "/v1/push", "", dev, 405, "bad_request"});
  p.push_back({"POST on pull", "POST", "/v1/pull?since=0", ValidPush(), dev, 405, "bad_request"});
  p.push_back({"a path climbing out", "GET", "/v1/../../etc/passwd", "", dev, 404, "not_found"});
  p.push_back({"a path of 8,000 characters", "GET", "/v1/" + std::string(8000, 'a'), "", dev, 404, "not_found"});

  // Requests HTTP cannot read.
  raw("a request line of garbage", "HELLO\r\n\r\n");
  p.back().unreadable = true;
  raw("a request line without version", "GET /v1/health\r\n\r\n");
  p.back().unreadable = true;
  raw("a URI of 10,000 characters", "GET /v1/" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414,
      "bad_request");
  // A header line without colon is not a header: the request cannot be read.
  raw("a header line without colon",
      "POST /v1/push HTTP/1.1\r\nHost: x\r\nRelais-Protocol 1\r\nContent-Length: 2\r\n\r\n{}", 400, "protocol");
  p.back().unreadable = true;
  raw("a Content-Length that is not a number",
      "POST /v1/push HTTP/1.1\r\nHost: x\r\nRelais-Protocol: 1\r\nAuthorization: Bearer " + t.a.token +
          "\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}");
  p.back().unreadable = true;
  raw("a chunk size that is not hexadecimal",
      "POST /v1/push HTTP/1.1\r\nHost: x\r\nRelais-Protocol: 1\r\nAuthorization: Bearer " + t.a.token +
          "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
  p.back().unreadable = true;
  raw(
      "17 MiB in chunks",
      "POST /v1/push HTTP/1.1\r\nHost: x\r\nRelais-Protocol: 1\r\nAuthorization: Bearer " + t.a.token +
          "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
          [] {
            std::string chunks;
            const std::string chunk(1u << 20, ' ');
            for (int i = 0; i < 17; ++i) chunks += "100000\r\n" + chunk + "\r\n";
            return chunks + "0\r\n\r\n";
          }(),
      413, "too_large");
  return p;
}

TEST_CASE("every malformed request of the table gets its 4xx and a JSON error and changes nothing",
          "[bad-input][hostile]") {
  Hostile t;
  const std::vector<Probe> probes = HostileProbes(t);
  size_t refused_cleanly = 0;  // answered as the table says, the store unchanged, the server still up
  std::set<std::string> requests;
  for (const Probe& probe : probes) {
    INFO("probe: " << probe.name);
    std::string request = probe.method + " " + probe.path + "\n";
    for (const auto& [name, value] : probe.headers) request.append(name).append(": ").append(value).append("\n");
    requests.insert(request + "\n" + probe.body);
    int status = 0;
    std::string body, content_type;
    if (probe.method == "RAW") {
      RawAnswer answer = SendRaw(t.f.port(), probe.body, false);
      status = answer.status;
      body = answer.body;
      content_type = answer.content_type;
    } else {
      auto r = t.Send(probe);
      REQUIRE(r);
      status = r->status;
      body = r->body;
      content_type = r->get_header_value("Content-Type");
    }
    if (probe.unreadable) {
      CHECK((status == probe.status || status == 0));
      const bool unchanged = t.f.Dump() == t.before;
      CHECK(unchanged);
      auto health = t.f.Client()->Get("/v1/health");
      REQUIRE(health);
      CHECK(health->status == 200);
      if (unchanged && health->status == 200) ++refused_cleanly;
      continue;
    }
    CHECK(status == probe.status);
    CHECK(content_type == "application/json");
    json error = json::parse(body, nullptr, false);
    REQUIRE(error.is_object());
    CHECK(error["error"]["code"] == probe.code);
    CHECK(error["error"]["message"].is_string());
    const bool unchanged = t.f.Dump() == t.before;
    CHECK(unchanged);
    auto health = t.f.Client()->Get("/v1/health");
    REQUIRE(health);
    CHECK(health->status == 200);
    if (status == probe.status && content_type == "application/json" && error["error"]["code"] == probe.code &&
        error["error"]["message"].is_string() && unchanged && health->status == 200) {
      ++refused_cleanly;
    }
  }
  // The figure the README quotes, as counted: distinct requests, each refused as the table says.
  WARN("hostile requests refused cleanly: " << refused_cleanly << " of " << probes.size() << " (" << requests.size()
                                            << " distinct)");
  CHECK(requests.size() == probes.size());
  CHECK(refused_cleanly == probes.size());
}

TEST_CASE("a body that ends before its announced length is never applied, and the server stays up",
          "[bad-input][hostile]") {
  // httplib reads a Content-Length of "-1" as 2^64-1 bytes; over the 16 MiB limit it skips the
  // announced bytes, and a chunk cut short is read until the client ends the request. It then closes
  // the connection, with a 4xx or without an answer depending on timing. Either is fine: nothing is
  // applied, nothing is written.
  Hostile t;
  std::string framing = GENERATE(as<std::string>{}, "Content-Length: -1", "Content-Length: 99999999999",
                                 "Transfer-Encoding: chunked\r\n\r\n100");
  auto [status, content_type, body] =
      SendRaw(t.f.port(),
              "POST /v1/push HTTP/1.1\r\nHost: x\r\nRelais-Protocol: 1\r\nAuthorization: Bearer " + t.a.token +
                  "\r\nConnection: close\r\n" + framing + "\r\n\r\n" + ValidPush(),
              true);
  CAPTURE(status, body);
  CHECK((status == 0 || (status >= 400 && status < 500)));
  CHECK(t.f.Dump() == t.before);
  auto health = t.f.Client()->Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("SQL metacharacters in values are stored as data, verbatim", "[bad-input][hostile]") {
  Hostile t;
  const std::string name = "Robert'); DROP TABLE cases;--";
  const std::string commune = "x\" OR 1=1; --";
  auto request = Batch({CreateCase(NewId(), kGap, Stamp(kT0 + 5, "a"), {{"commune", commune}})});
  request.changes[0].fields[0].value = name;
  auto r = t.PushRaw(sync::EncodePushRequest(request));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(sync::DecodePushResponse(r->body)->results[0].status == sync::ChangeStatus::kApplied);
  bool found = false;
  for (const sync::PulledRecord& pr : t.f.Pull(t.a).records) {
    if (pr.record.id != request.changes[0].record_id) continue;
    found = true;
    CHECK(pr.record.values[0] == name);
  }
  CHECK(found);
  CHECK(t.f.Pull(t.c).records.size() >= 1);  // every table still there
}

TEST_CASE("changes aimed at another territory's records are rejected one by one and write no record",
          "[bad-input][hostile]") {
  Hostile t;
  auto records_before = t.f.Pull(t.c);
  auto request =
      Batch({Update("cases", t.bastia_case, 1, Stamp(kT0 + 5, "a"), {{"phone", "0633333333", std::nullopt}}),
             CreateFollowup(NewId(), t.bastia_case, Stamp(kT0 + 5, "a")),
             CreateCase(t.bastia_case, kGap, Stamp(kT0 + 5, "a")), CreateCase(NewId(), kBastia, Stamp(kT0 + 5, "a")),
             // A referral of the other territory's person, who never consented: told as an unknown
             // case, not as a consent missing (which would say the person exists).
             Create("referrals", NewId(),
                    {{"case_id", t.bastia_case},
                     {"organisation", NewId()},
                     {"service", "formation"},
                     {"status", "envoyee"},
                     {"sent_on", "2026-02-03"}},
                    Stamp(kT0 + 5, "a"))});
  auto r = t.PushRaw(sync::EncodePushRequest(request));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto response = sync::DecodePushResponse(r->body);
  REQUIRE(response.ok());
  REQUIRE(response->results.size() == 5);
  CHECK(response->results[4].code == "unknown_case");
  for (const sync::ChangeResult& result : response->results) {
    CAPTURE(result.reason);
    CHECK(result.status == sync::ChangeStatus::kRejected);
    CHECK(result.version == 0);
    CHECK(result.reason.find("Martin") == std::string::npos);  // nothing of the other record's content
  }
  auto records_after = t.f.Pull(t.c);
  CHECK(records_after.next == records_before.next);  // no sequence number taken
  CHECK(sync::EncodePullPage(records_after) == sync::EncodePullPage(records_before));
}

TEST_CASE("another device's batch key is its own: no answer of another device is replayed", "[bad-input][hostile]") {
  Hostile t;
  auto mine = Batch({CreateContact(NewId(), "0622222222", Stamp(kT0 + 5, "a2"))}, t.used_key);
  auto r = t.f.Client()->Post("/v1/push", t.As(t.a2), sync::EncodePushRequest(mine), "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto response = sync::DecodePushResponse(r->body);
  REQUIRE(response.ok());
  REQUIRE(response->results.size() == 1);
  CHECK(response->results[0].change_id == mine.changes[0].change_id);
  CHECK(response->results[0].status == sync::ChangeStatus::kApplied);
}

TEST_CASE("a replayed batch whose JSON differs only in member order gets the stored answer", "[bad-input][hostile]") {
  Hostile t;
  json doc = json::parse(sync::EncodePushRequest(t.used_batch));
  // Members in another order and other spacing: the same batch, so the same answer, applied once.
  std::string reordered =
      "{\"changes\": " + doc["changes"].dump(2) + ", \"batch\": \"" + t.used_key + "\", \"protocol\": 1}";
  auto r = t.PushRaw(reordered);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(sync::DecodePushResponse(r->body)->results[0].change_id == t.used_batch.changes[0].change_id);
  CHECK(t.f.Dump() == t.before);
}

}  // namespace
}  // namespace relais::server::testing
