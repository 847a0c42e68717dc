// Every bad input gets its 4xx with a JSON error, and leaves the store byte for byte unchanged.
#include <sys/resource.h>
#include <zlib.h>

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

// `zeros` bytes of zeros, gzip-compressed by streaming (never holding them in memory).
std::string GzipZeros(size_t zeros) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string in(1 << 20, '\0'), out, buf(1 << 16, '\0');
  size_t left = zeros;
  int flush = Z_NO_FLUSH;
  do {
    size_t n = std::min(left, in.size());
    left -= n;
    flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf.data());
      z.avail_out = static_cast<uInt>(buf.size());
      deflate(&z, flush);
      out.append(buf.data(), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&z);
  return out;
}

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
  auto request = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a")),
                        CreateContact(NewId(), "12", Stamp(kT0, "a"))});
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
  auto r = t.f.Client()->Post("/v1/push", httplib::Headers{{"Authorization", "Bearer " + t.a.token}}, ValidPush(), "application/json");
  t.ExpectRefused(r, 400, "protocol");
}

TEST_CASE("a protocol header of another version gets 400", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw(ValidPush(), {{"Relais-Protocol", "2"}}), 400, "protocol");
  auto pull = t.f.Client()->Get("/v1/pull?since=0", httplib::Headers{{"Relais-Protocol", "0"}, {"Authorization", "Bearer " + t.a.token}});
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
  CHECK(PeakRssKb() - peak_before < 256 * 1024);  // the limit is 64 MiB once inflated
  auto health = t.f.Client()->Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("a body that is not gzip but says so gets 400", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw("this is not gzip at all", {{"Content-Encoding", "gzip"}}), 400, "bad_request");
}

TEST_CASE("an unknown Content-Encoding gets 415", "[bad-input]") {
  Refusal t;
  t.ExpectRefused(t.PushRaw(ValidPush(), {{"Content-Encoding", "zstd"}}), 415, "protocol");
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

}  // namespace
}  // namespace relais::server::testing
