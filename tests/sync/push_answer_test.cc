#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "sync/codec.h"
#include "sync/message_checks.h"

using namespace relais;
using namespace relais::sync;
using nlohmann::json;

namespace {

// The DOM decoder the event reader replaced (sync/push_answer.cc), kept here as the reference the
// reader must agree with: what it accepts, what it reads, its errors and their precedence.
Result<PushResponse> ReferenceDecode(std::string_view text) {
  RELAIS_TRY(CheckMessageText(text));
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return MakeError(ErrorCode::kUsage, "the body is not valid JSON");
  if (!doc.is_object()) return MakeError(ErrorCode::kProtocol, "push answer is not a JSON object");
  auto protocol = doc.find("protocol");
  if (protocol == doc.end() || !protocol->is_number_integer()) {
    return MakeError(ErrorCode::kProtocol,
                     "protocol: missing (this server speaks version " + std::to_string(kProtocolVersion) + ")");
  }
  if (protocol->get<int64_t>() != kProtocolVersion) {
    return MakeError(ErrorCode::kProtocol, "protocol: version " + std::to_string(protocol->get<int64_t>()) +
                                               " is not spoken here (expected " + std::to_string(kProtocolVersion) +
                                               ")");
  }
  PushResponse response;
  auto batch = doc.find("batch");
  auto results = doc.find("results");
  if (batch == doc.end() || !batch->is_string() || results == doc.end() || !results->is_array()) {
    return MakeError(ErrorCode::kProtocol, "push answer lacks batch or results");
  }
  response.batch_key = batch->get<std::string>();
  for (const json& r : *results) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string() || !r.contains("status") ||
        !r["status"].is_string()) {
      return MakeError(ErrorCode::kProtocol, "push answer holds a malformed result");
    }
    ChangeResult cr;
    cr.change_id = r["id"].get<std::string>();
    const std::string status = r["status"].get<std::string>();
    if (status == "applied")
      cr.status = ChangeStatus::kApplied;
    else if (status == "merged")
      cr.status = ChangeStatus::kMerged;
    else if (status == "review")
      cr.status = ChangeStatus::kReview;
    else if (status == "rejected")
      cr.status = ChangeStatus::kRejected;
    else
      return MakeError(ErrorCode::kProtocol, "push answer holds an unknown status");
    auto version = r.find("version");
    if (version != r.end() && !version->is_null() && !version->is_number_integer()) {
      return MakeError(ErrorCode::kProtocol, "push answer holds a malformed version");
    }
    if (version != r.end() && version->is_number_integer()) cr.version = version->get<int64_t>();
    auto reason = r.find("reason");
    if (reason != r.end() && !reason->is_null()) {
      if (!reason->is_string()) return MakeError(ErrorCode::kProtocol, "push answer holds a malformed reason");
      cr.reason = reason->get<std::string>();
    }
    auto code = r.find("code");
    if (code != r.end() && !code->is_null()) {
      if (!code->is_string()) return MakeError(ErrorCode::kProtocol, "push answer holds a malformed code");
      cr.code = code->get<std::string>();
    }
    if (auto rv = r.find("review"); rv != r.end() && rv->is_array()) {
      for (const json& f : *rv) {
        if (f.is_string()) cr.review_fields.push_back(f.get<std::string>());
      }
    }
    response.results.push_back(std::move(cr));
  }
  return response;
}

void RequireSame(const Result<PushResponse>& got, const Result<PushResponse>& want) {
  REQUIRE(got.ok() == want.ok());
  if (!want.ok()) {
    CHECK(got.error().code == want.error().code);
    CHECK(got.error().message == want.error().message);
    return;
  }
  CHECK(got->batch_key == want->batch_key);
  REQUIRE(got->results.size() == want->results.size());
  for (size_t i = 0; i < want->results.size(); ++i) {
    const ChangeResult& g = got->results[i];
    const ChangeResult& w = want->results[i];
    CHECK(g.change_id == w.change_id);
    CHECK(g.status == w.status);
    CHECK(g.version == w.version);
    CHECK(g.reason == w.reason);
    CHECK(g.code == w.code);
    CHECK(g.review_fields == w.review_fields);
  }
}

PushResponse AnAnswer() {
  PushResponse r{"batch-1", {}};
  r.results.push_back({"0190a1b2-0000-7000-8000-000000000001", ChangeStatus::kApplied, 12, {}, {}, {}});
  r.results.push_back({"0190a1b2-0000-7000-8000-000000000002",
                       ChangeStatus::kRejected,
                       0,
                       "hors de vos territoires",
                       {},
                       "outside_scope"});
  r.results.push_back({"0190a1b2-0000-7000-8000-000000000003", ChangeStatus::kReview, 14, {}, {"phone", "email"}, {}});
  r.results.push_back({"0190a1b2-0000-7000-8000-000000000004", ChangeStatus::kMerged, 15, {}, {}, {}});
  return r;
}

}  // namespace

TEST_CASE("a push answer reads back as written", "[codec][answer]") {
  const PushResponse answer = AnAnswer();
  auto read = DecodePushResponse(EncodePushResponse(answer));
  REQUIRE(read.ok());
  RequireSame(read, answer);
  CHECK(read->results[2].review_fields == std::vector<std::string>{"phone", "email"});
  CHECK(read->results[1].reason == "hors de vos territoires");
  CHECK(read->results[1].code == "outside_scope");
}

TEST_CASE("a push answer is read as the DOM decoder read it, whatever it holds", "[codec][answer]") {
  SECTION("edge cases written by hand") {
    const std::vector<std::string> texts = {
        "",
        "nul",
        "[]",
        "12",
        "\"x\"",
        "{}",
        R"({"protocol":1})",
        R"({"protocol":2,"batch":"b","results":[]})",
        R"({"protocol":"1","batch":"b","results":[]})",
        R"({"protocol":1.0,"batch":"b","results":[]})",
        R"({"protocol":1,"batch":"b","results":[]})",
        R"({"protocol":1,"batch":7,"results":[]})",
        R"({"protocol":1,"batch":"b","results":{}})",
        R"({"protocol":1,"batch":"b","results":[1]})",
        R"({"protocol":1,"batch":"b","results":[[]]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a"}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"applied"}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"won"}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"applied","version":1.5}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"applied","version":null,"reason":null}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"applied","version":18446744073709551615}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"applied","reason":["x"]}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"review","review":["a",["b"],{"c":"d"},"e",1]}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"review","review":{"a":"b"}}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"review","review":["a"],"review":"b"}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"review","review":"b","review":["c"]}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":1,"id":"a","status":"applied"}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","id":1,"status":"applied"}]})",
        R"({"protocol":1,"batch":"b","results":[1],"results":[]})",
        R"({"protocol":1,"batch":"b","results":[],"results":[{"id":"a","status":"merged","version":3}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"won"},{"id":"b","status":"applied","version":"x"}]})",
        R"({"protocol":1,"batch":"b","results":[{"id":"a","status":"applied","x":{"id":"z","results":[1]}}],"y":[{"batch":2}]})",
        R"({"results":[1],"batch":"b","protocol":1})",
        R"({"protocol":1,"batch":"b","results":[]} x)",
    };
    for (const std::string& text : texts) {
      INFO(text);
      RequireSame(DecodePushResponse(text), ReferenceDecode(text));
    }
  }
  SECTION("mutated answers") {
    // Members replaced by values of every kind, removed, given twice; and bytes changed at random.
    const std::vector<json> values = {nullptr,
                                      true,
                                      0,
                                      1,
                                      -3,
                                      2.5,
                                      "",
                                      "applied",
                                      "review",
                                      "rejected",
                                      "x",
                                      json::array(),
                                      json::array({"a", 1, nullptr}),
                                      json::object(),
                                      json::object({{"id", "q"}})};
    const std::vector<std::string> keys = {"id", "status", "version", "code", "reason", "review", "other"};
    std::mt19937 rng(20261203);
    int accepted = 0, refused = 0;
    for (int trial = 0; trial < 4000; ++trial) {
      json doc = json::parse(EncodePushResponse(AnAnswer()));
      const int kind = static_cast<int>(rng() % 6);
      json& result = doc["results"][rng() % 4];
      const std::string& key = keys[rng() % keys.size()];
      std::string text;
      if (kind == 0) {
        result[key] = values[rng() % values.size()];
      } else if (kind == 1) {
        result.erase(key);
      } else if (kind == 2) {
        doc[std::vector<std::string>{"protocol", "batch", "results", "extra"}[rng() % 4]] =
            values[rng() % values.size()];
      } else if (kind == 3) {
        doc["results"][rng() % 4] = values[rng() % values.size()];
      }
      text = doc.dump();
      if (kind == 4) {
        // A member given twice: a copy of the id, status or version put first, with another value.
        const std::string dup = "\"" + std::vector<std::string>{"id", "status", "version", "review"}[rng() % 4] +
                                "\":" + values[rng() % values.size()].dump() + ",";
        size_t at = text.find("{\"id\"", 1 + rng() % (text.size() / 2));
        if (at != std::string::npos) text.insert(at + 1, dup);
      } else if (kind == 5) {
        text[rng() % text.size()] = "{}[]\",:0a- \\"[rng() % 12];
      }
      INFO(text);
      auto got = DecodePushResponse(text);
      RequireSame(got, ReferenceDecode(text));
      (got.ok() ? accepted : refused) += 1;
    }
    CHECK(accepted > 500);
    CHECK(refused > 500);
  }
}
