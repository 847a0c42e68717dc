#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "base/gzip.h"
#include "sync/codec.h"
#include "sync/engine.h"
#include "sync/push_runs.h"

using namespace relais;
using namespace relais::sync;

namespace {

std::string Id(int n) {
  std::string tail = std::to_string(n);
  return "0190a1b2-0000-7000-8000-" + std::string(12 - tail.size(), '0') + tail;
}

Change AChange(Op op, const std::string& table, int change_n, int record_n, std::string hlc,
               std::vector<FieldChange> fields) {
  Change c;
  c.change_id = Id(change_n);
  c.table = table;
  c.record_id = Id(record_n);
  c.op = op;
  c.base_version = op == Op::kCreate ? 0 : 7;
  c.hlc = std::move(hlc);
  c.fields = std::move(fields);
  return c;
}

Change ACaseCreate(int n) {
  Change c = AChange(Op::kCreate, "cases", 1000 + n, n, "1700000000000-00000" + std::to_string(n % 10) + "-deva",
                     {{"last_name", "Névache " + std::to_string(n), {}},
                      {"first_name", "Zoé", {}},
                      {"opened_on", "2026-03-01", {}},
                      {"territory", "hautes-alpes-gap", {}}});
  if (n % 2) c.fields.push_back({"service_level", "2", {}});  // a column with nulls in it
  return c;
}

Change AFollowupCreate(int n, int case_n) {
  return AChange(
      Op::kCreate, "followups", 2000 + n, 500 + n, "1700000000001-000000-deva",
      {{"case_id", Id(case_n), {}}, {"kind", "entretien", {}}, {"date", "2026-03-02", {}}, {"text", "vu", {}}});
}

Change AnUpdate(int n) {
  return AChange(Op::kUpdate, "cases", 3000 + n, n, "1700000000002-000000-deva",
                 {{"phone", "0611223344", "0699887766"}});
}

// A batch as a device forms it: creates of cases, their follow-ups, an update in between.
PushRequest AMixedBatch() {
  PushRequest r{"batch-runs", {}};
  for (int i = 0; i < 5; ++i) r.changes.push_back(ACaseCreate(i));
  r.changes.push_back(AFollowupCreate(0, 0));
  r.changes.push_back(AFollowupCreate(1, 0));
  r.changes.push_back(AnUpdate(1));
  r.changes.push_back(ACaseCreate(9));  // a create alone: a row
  return r;
}

std::string Run(const std::string& columns, const std::string& extra = "") {
  return R"({"protocol":1,"batch":"b1","changes":[{"run":"create","table":"cases",)" + extra + R"("columns":)" +
         columns + "}]}";
}

const std::string kIds = R"("id":[")" + Id(1001) + R"(",")" + Id(1002) + R"("],"record":[")" + Id(1) + R"(",")" +
                         Id(2) + R"("],"hlc":["1700000000000-000000-deva","1700000000000-000001-deva"])";
const std::string kNames = R"("last_name":["A","B"],"first_name":["C","D"],"opened_on":["2026-01-01","2026-01-02"])";

}  // namespace

TEST_CASE("consecutive creates of one table travel as a run and decode to the same request", "[runs]") {
  const PushRequest request = AMixedBatch();
  const std::string rows = EncodePushRequest(request);
  const std::string runs = EncodePushRequestRuns(request);
  CHECK(runs.size() < rows.size());
  const nlohmann::json doc = nlohmann::json::parse(runs);
  REQUIRE(doc["changes"].size() == 4);  // 5 cases, 2 follow-ups, the update, the lone create
  CHECK(doc["changes"][0]["run"] == "create");
  CHECK(doc["changes"][0]["columns"]["id"].size() == 5);
  CHECK(doc["changes"][0]["columns"]["service_level"][0].is_null());
  CHECK(doc["changes"][0]["columns"]["service_level"][1] == 2);      // integers stay numbers
  CHECK_FALSE(doc["changes"][0]["columns"].contains("birth_date"));  // a column of nulls is left out
  CHECK(doc["changes"][1]["table"] == "followups");
  CHECK(doc["changes"][2]["op"] == "update");
  CHECK(doc["changes"][3]["op"] == "create");

  auto from_runs = DecodePushRequest(runs);
  REQUIRE(from_runs.ok());
  auto from_rows = DecodePushRequest(rows);
  REQUIRE(from_rows.ok());
  REQUIRE(from_runs->changes.size() == request.changes.size());
  for (size_t i = 0; i < request.changes.size(); ++i) {
    CHECK(from_runs->changes[i].change_id == request.changes[i].change_id);  // order kept
  }
  // The centre hashes the canonical row form: the same batch whichever way it was sent.
  CHECK(EncodePushRequest(*from_runs) == EncodePushRequest(*from_rows));
  CHECK(EncodePushRequest(*from_runs) == rows);
}

TEST_CASE("a batch hashes the same whichever form carried it, and differently for any other change", "[runs][hash]") {
  const PushRequest request = AMixedBatch();
  auto from_runs = DecodePushRequest(EncodePushRequestRuns(request));
  auto from_rows = DecodePushRequest(EncodePushRequest(request));
  REQUIRE(from_runs.ok());
  REQUIRE(from_rows.ok());
  const std::string hash = PushRequestHash(*from_rows);
  CHECK(hash.rfind(kPushRequestHashPrefix, 0) == 0);
  CHECK(PushRequestHash(*from_runs) == hash);
  CHECK(PushRequestHashV1(*from_runs) == PushRequestHashV1(*from_rows));
  CHECK(PushRequestHashV1(*from_rows).rfind(kPushRequestHashPrefix, 0) != 0);

  PushRequest other_value = *from_rows;
  other_value.changes[7].fields[0].value = "0611223345";
  CHECK(PushRequestHash(other_value) != hash);
  PushRequest no_base = *from_rows;
  no_base.changes[7].fields[0].base.reset();
  CHECK(PushRequestHash(no_base) != hash);
  PushRequest other_key = *from_rows;
  other_key.batch_key += "x";
  CHECK(PushRequestHash(other_key) != hash);
  PushRequest fewer = *from_rows;
  fewer.changes.pop_back();
  CHECK(PushRequestHash(fewer) != hash);
  // Lengths are part of what is hashed: moving a character from one text to the next changes it.
  PushRequest shifted = *from_rows;
  shifted.changes[0].fields[0].field = "last_nam";
  shifted.changes[0].fields[0].value = "e" + *shifted.changes[0].fields[0].value;
  CHECK(PushRequestHash(shifted) != hash);
}

TEST_CASE("a run of nothing but creates of one table is one element", "[runs]") {
  PushRequest request{"b", {}};
  for (int i = 0; i < 300; ++i) request.changes.push_back(ACaseCreate(i));
  const nlohmann::json doc = nlohmann::json::parse(EncodePushRequestRuns(request));
  CHECK(doc["changes"].size() == 1);
  auto back = DecodePushRequest(doc.dump());
  REQUIRE(back.ok());
  CHECK(back->changes.size() == 300);
}

TEST_CASE("a well-formed run written by hand decodes; nulls and left-out columns are absent values", "[runs]") {
  auto r = DecodePushRequest(Run("{" + kIds + "," + kNames + R"(,"phone":[null,"0611223344"]})"));
  REQUIRE(r.ok());
  REQUIRE(r->changes.size() == 2);
  CHECK(r->changes[0].op == Op::kCreate);
  CHECK(r->changes[0].base_version == 0);
  CHECK(r->changes[1].record_id == Id(2));
  CHECK(r->changes[0].fields.size() == 3);
  CHECK(r->changes[1].fields.size() == 4);
}

TEST_CASE("bad runs are refused with a message naming what is wrong", "[runs]") {
  struct Case {
    std::string body;
    ErrorCode code;
    std::string mention;
  };
  const std::string ids_short = R"("id":[")" + Id(1001) + R"("],"record":[")" + Id(1) + R"(",")" + Id(2) +
                                R"("],"hlc":["1700000000000-000000-deva","1700000000000-000001-deva"])";
  auto c = GENERATE_REF(values<Case>({
      {Run("{" + ids_short + "," + kNames + "}"), ErrorCode::kUsage,
       "changes[0].columns.first_name: 2 cells where the \"id\" column has 1"},
      {Run("{" + kIds + "," + kNames + R"(,"shoe_size":[1,2]})"), ErrorCode::kUsage,
       "changes[0].columns.shoe_size: unknown field of cases"},
      {R"({"protocol":1,"batch":"b1","changes":[{"run":"create","table":"secrets","columns":{}}]})", ErrorCode::kUsage,
       "changes[0].table: unknown table"},
      {Run(R"({"record":[")" + Id(1) + R"("],"hlc":["1700000000000-000000-deva"]})"), ErrorCode::kUsage,
       "the \"id\" column is missing"},
      {Run(R"({"id":[")" + Id(1) + R"("],"hlc":["1700000000000-000000-deva"]})"), ErrorCode::kUsage,
       "the \"record\" column is missing"},
      {Run(R"({"id":[")" + Id(1) + R"("],"record":[")" + Id(1) + R"("]})"), ErrorCode::kUsage,
       "the \"hlc\" column is missing"},
      {R"({"protocol":1,"batch":"b1","changes":[{"run":"update","table":"cases","columns":{}}]})", ErrorCode::kUsage,
       "changes[0].run"},
      {R"({"protocol":1,"batch":"b1","changes":[{"table":"cases","columns":{}}]})", ErrorCode::kUsage,
       "changes[0].run"},
      {Run(R"({"id":[],"record":[],"hlc":[]})"), ErrorCode::kUsage, "a run holds at least one change"},
      {Run("[]"), ErrorCode::kUsage, "changes[0].columns: missing or not an object"},
      {Run("{" + kIds + R"(,"last_name":"A"})"), ErrorCode::kUsage, "changes[0].columns.last_name: not an array"},
      {Run(R"({"id":[")" + Id(1001) + R"(",1],"record":[")" + Id(1) + R"(",")" + Id(2) +
           R"("],"hlc":["1700000000000-000000-deva","1700000000000-000001-deva"],)" + kNames + "}"),
       ErrorCode::kUsage, "changes[0][1].id: missing or not a string"},
      {Run(R"({"id":[")" + Id(1001) + R"(",")" + Id(1001) + R"("],"record":[")" + Id(1) + R"(",")" + Id(2) +
           R"("],"hlc":["1700000000000-000000-deva","1700000000000-000001-deva"],)" + kNames + "}"),
       ErrorCode::kUsage, "changes[0][1].id: appears twice"},
      {Run("{" + kIds + "," + kNames + "}", R"("id":")" + Id(7) + R"(",)"), ErrorCode::kUsage,
       "a run carries \"run\", \"table\" and \"columns\" only"},
      {Run("{" + kIds +
           R"(,"last_name":["A",{"x":1}],"first_name":["C","D"],"opened_on":["2026-01-01","2026-01-02"]})"),
       ErrorCode::kValidation, "changes[0][1].values.last_name: expected a string"},
      {Run("{" + kIds + R"(,"last_name":["A","B"],"first_name":["C","D"],"opened_on":["2026-01-01","2026-02-30"]})"),
       ErrorCode::kValidation, "changes[0][1].values.opened_on"},
  }));
  auto r = DecodePushRequest(c.body);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == c.code);
  INFO(r.error().message);
  CHECK(r.error().message.find(c.mention) != std::string::npos);
}

// The same creates written as one run and as rows: `run` is a request with one run element, whose
// k-th change is changes[k] in row form.
std::string AsRows(const nlohmann::json& run_request) {
  const nlohmann::json& run = run_request["changes"][0];
  const nlohmann::json& columns = run["columns"];
  nlohmann::json rows = nlohmann::json::array();
  for (size_t k = 0; k < columns["id"].size(); ++k) {
    nlohmann::json row = {
        {"id", columns["id"][k]},   {"table", run["table"]}, {"record", columns["record"][k]},    {"op", "create"},
        {"hlc", columns["hlc"][k]}, {"base_version", 0},     {"values", nlohmann::json::object()}};
    for (const auto& [name, cells] : columns.items()) {
      if (name != "id" && name != "record" && name != "hlc") row["values"][name] = cells[k];
    }
    rows.push_back(std::move(row));
  }
  return nlohmann::json{{"protocol", 1}, {"batch", run_request["batch"]}, {"changes", rows}}.dump();
}

TEST_CASE("a create in a run passes the very checks of a create written as a row", "[runs]") {
  // Three well-formed creates of cases, then one or two cells replaced by values that each check
  // refuses or changes: wrong types, bad dates, numbers and emails, ids to normalize, a field for
  // central staff, a change id given twice.
  nlohmann::json request = nlohmann::json::parse(
      Run(R"({"id":[")" + Id(1001) + R"(",")" + Id(1002) + R"(",")" + Id(1003) + R"("],"record":[")" + Id(1) +
          R"(",")" + Id(2) + R"(",")" + Id(3) + R"("],"hlc":["1700000000000-000000-deva",)" +
          R"("1700000000000-000001-deva","1700000000000-000002-deva"],)" +
          R"("last_name":["Névache","Brun","Zoé"],"first_name":["Léa","Marc","Ana"],)" +
          R"("opened_on":["2026-01-01","2026-01-02","2026-01-03"],)" +
          R"("email":["a@b.fr",null,"c@d.fr"],"service_level":[1,null,3],)" +
          R"("territory":["hautes-alpes-gap","hautes-alpes-gap",null],)" +
          R"("merged_into":[null,null,null],"notes":["  une note  ","",null]})"));
  const std::vector<nlohmann::json> replacements = {nullptr,
                                                    12,
                                                    -1,
                                                    1.5,
                                                    true,
                                                    "",
                                                    "x",
                                                    "  Espacé  ",
                                                    nlohmann::json::object(),
                                                    nlohmann::json::array(),
                                                    "2026-02-30",
                                                    "2026-03-01",
                                                    "not-an-email",
                                                    "0611223344",
                                                    std::string(120, 'a'),
                                                    "0190A1B2-0000-7000-8000-000000000009",
                                                    "0190a1b2-0000-7000-8000-00000000100",
                                                    "1700000000000-000003-devb",
                                                    "1700000000000",
                                                    Id(1002),
                                                    Id(7),
                                                    "4",
                                                    3};
  const std::vector<std::string> names = {"id",         "record",      "hlc",   "last_name",
                                          "first_name", "opened_on",   "email", "service_level",
                                          "territory",  "merged_into", "notes"};
  std::mt19937 rng(20261203);
  int refused = 0, accepted = 0, normalized = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    nlohmann::json mutated = request;
    for (int m = 0, count = 1 + static_cast<int>(rng() % 2); m < count; ++m) {
      mutated["changes"][0]["columns"][names[rng() % names.size()]][rng() % 3] =
          replacements[rng() % replacements.size()];
    }
    const std::string runs = mutated.dump();
    const std::string rows = AsRows(mutated);
    INFO(runs);
    std::vector<ChangeFacts> runs_facts, rows_facts;
    auto from_runs = DecodePushRequest(runs, runs_facts);
    auto from_rows = DecodePushRequest(rows, rows_facts);
    REQUIRE(from_runs.ok() == from_rows.ok());
    if (!from_runs.ok()) {
      ++refused;
      CHECK(from_runs.error().code == from_rows.error().code);
      std::string message = from_runs.error().message;
      for (int k = 0; k < 3; ++k) {
        const std::string in_run = "changes[0][" + std::to_string(k) + "]";
        if (auto at = message.find(in_run); at != std::string::npos)
          message.replace(at, in_run.size(), "changes[" + std::to_string(k) + "]");
      }
      CHECK(message == from_rows.error().message);
      continue;
    }
    ++accepted;
    CHECK(EncodePushRequest(*from_runs) == EncodePushRequest(*from_rows));
    REQUIRE(from_runs->changes.size() == from_rows->changes.size());
    REQUIRE(runs_facts.size() == from_runs->changes.size());
    REQUIRE(rows_facts.size() == from_rows->changes.size());
    for (size_t k = 0; k < from_runs->changes.size(); ++k) {
      CHECK(runs_facts[k].normalized == rows_facts[k].normalized);
      CHECK(runs_facts[k].validated);
      CHECK(rows_facts[k].validated);
      if (runs_facts[k].normalized) ++normalized;
    }
  }
  // The replacements reach every outcome.
  CHECK(refused > 1000);
  CHECK(accepted > 100);
  CHECK(normalized > 100);
}

TEST_CASE("a run's changes count towards the limit of changes per batch", "[runs]") {
  PushRequest request{"b", {}};
  for (int i = 0; i < 6000; ++i) request.changes.push_back(ACaseCreate(i));
  std::string first = EncodePushRequestRuns(request);
  // Two runs of 6,000: 12,000 changes in two elements.
  nlohmann::json doc = nlohmann::json::parse(first);
  nlohmann::json second = doc["changes"][0];
  for (auto& id : second["columns"]["id"]) id = std::string(id).replace(0, 4, "0291");
  doc["changes"].push_back(second);
  auto r = DecodePushRequest(doc.dump());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kTooLarge);
}

TEST_CASE("a device sends runs only to a centre that lists the feature", "[runs]") {
  CHECK(CentreHasFeature(R"({"device":"a","features":["push-runs"]})", kFeaturePushRuns));
  CHECK(CentreHasFeature(R"({"device":"a","features":["later-thing","push-runs"]})", kFeaturePushRuns));
  CHECK_FALSE(CentreHasFeature(R"({"device":"a","territories":[]})", kFeaturePushRuns));  // an older centre
  CHECK_FALSE(CentreHasFeature(R"({"features":"push-runs"})", kFeaturePushRuns));
  CHECK_FALSE(CentreHasFeature(R"({"features":[1,"push-run"]})", kFeaturePushRuns));
  CHECK_FALSE(CentreHasFeature("not json", kFeaturePushRuns));
  CHECK(std::find(CentreFeatures().begin(), CentreFeatures().end(), std::string(kFeaturePushRuns)) !=
        CentreFeatures().end());
}

namespace {

// A replica holding the changes of one request to push, and nothing else. Each batch takes the next
// changes, as many as FormBatch allows; `asked` keeps each FormBatch's limit.
class OneBatchReplica final : public ReplicaPort {
 public:
  explicit OneBatchReplica(PushRequest batch) : batch_(std::move(batch)) {}
  Result<std::optional<PushRequest>> UnacknowledgedBatch() override { return std::optional<PushRequest>(); }
  Result<std::optional<PushRequest>> FormBatch(size_t max_changes) override {
    asked.push_back(max_changes);
    if (next_ == batch_.changes.size()) return std::optional<PushRequest>();
    PushRequest request{batch_.batch_key + (next_ ? "-" + std::to_string(next_) : ""), {}};
    const size_t end = std::min(batch_.changes.size(), next_ + max_changes);
    request.changes.assign(batch_.changes.begin() + static_cast<std::ptrdiff_t>(next_),
                           batch_.changes.begin() + static_cast<std::ptrdiff_t>(end));
    next_ = end;
    formed.push_back(request.batch_key);
    return std::optional<PushRequest>(std::move(request));
  }
  Status AcknowledgeBatch(const PushRequest& request, const PushResponse&) override {
    acknowledged.push_back(request.batch_key);
    return OkStatus();
  }
  Status RejectChange(const std::string&, const std::string&, const std::string&) override { return OkStatus(); }
  Result<int64_t> PullCursor() override { return int64_t{0}; }
  Status ApplyPage(const PullPage&) override { return OkStatus(); }
  Result<int64_t> PendingCount() override { return static_cast<int64_t>(batch_.changes.size() - next_); }
  Result<ScopeDigest> LocalDigest() override { return ScopeDigest{}; }
  Status BeginFreshCopy() override { return OkStatus(); }
  Status StageFreshPage(const PullPage&) override { return OkStatus(); }
  Status SwapInFreshCopy(int64_t) override { return OkStatus(); }
  Result<int64_t> ObserveCentralClock(int64_t) override { return int64_t{0}; }

  std::vector<size_t> asked;
  std::vector<std::string> acknowledged;  // batch keys, in the order their answers were recorded
  std::vector<std::string> formed;        // batch keys, in the order the batches were formed

 private:
  PushRequest batch_;
  size_t next_ = 0;
};

// A centre that answers whoami with `whoami` and applies every pushed change; it keeps the bodies.
class FakeCentre final : public Transport {
 public:
  FakeCentre(int whoami_status, std::string whoami) : whoami_status_(whoami_status), whoami_(std::move(whoami)) {}
  Result<HttpReply> Post(const std::string& path, const std::string& body) override {
    paths.push_back(path);
    pushed.push_back(body);
    auto request = DecodePushRequest(body);
    if (!request) return HttpReply{400, EncodeError(request.error()), {}};
    PushResponse response{request->batch_key, {}};
    for (const Change& c : request->changes)
      response.results.push_back({c.change_id, ChangeStatus::kApplied, 1, {}, {}, {}});
    return HttpReply{200, EncodePushResponse(response), {}};
  }
  Result<HttpReply> PostGzip(const std::string& path, const std::string& gzip_body) override {
    packed.push_back(gzip_body);
    auto body = GzipDecompress(gzip_body, kMaxBodyBytes);
    if (!body) return HttpReply{400, EncodeError(body.error()), {}};
    return Post(path, *body);
  }
  Result<HttpReply> Get(const std::string& path) override {
    paths.push_back(path.substr(0, path.find('?')));
    if (path == "/v1/whoami") {
      if (whoami_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(whoami_delay_ms));
      return HttpReply{whoami_status_, whoami_, {}};
    }
    return HttpReply{200, EncodePullPage(PullPage{}), {}};
  }
  uint64_t bytes_sent() const override { return 0; }
  uint64_t bytes_received() const override { return 0; }
  uint64_t requests() const override { return paths.size(); }

  std::vector<std::string> paths;
  std::vector<std::string> pushed;
  std::vector<std::string> packed;  // the gzip bodies of PostGzip, as sent
  // How long whoami's answer takes to come back: a delay under test (the engine tells a slow link
  // by this round trip), not a way to order events.
  int whoami_delay_ms = 0;

 private:
  int whoami_status_;
  std::string whoami_;
};

bool HasRun(const std::string& body) { return body.find("\"run\":\"create\"") != std::string::npos; }

}  // namespace

TEST_CASE("a sync asks whoami before its first push and sends runs only to a centre that lists them",
          "[runs][engine]") {
  SyncOptions options;
  options.verify = false;
  SECTION("a centre that lists push-runs gets runs") {
    OneBatchReplica replica(AMixedBatch());
    FakeCentre centre(200, R"({"device":"a","territories":[],"features":["push-runs"]})");
    auto summary = RunSync(replica, centre, options);
    REQUIRE(summary.ok());
    CHECK(summary->applied == 9);
    REQUIRE(centre.paths.size() >= 2);
    CHECK(centre.paths[0] == "/v1/whoami");
    CHECK(centre.paths[1] == "/v1/push");
    REQUIRE(centre.pushed.size() == 1);
    CHECK(HasRun(centre.pushed[0]));
  }
  SECTION("an older centre, without features, gets rows") {
    OneBatchReplica replica(AMixedBatch());
    FakeCentre centre(200, R"({"device":"a","territories":[]})");
    auto summary = RunSync(replica, centre, options);
    REQUIRE(summary.ok());
    CHECK(summary->applied == 9);
    REQUIRE(centre.pushed.size() == 1);
    CHECK_FALSE(HasRun(centre.pushed[0]));
    CHECK(centre.pushed[0] == EncodePushRequest(AMixedBatch()));
  }
  SECTION("a revoked token stops the sync before anything is uploaded") {
    OneBatchReplica replica(AMixedBatch());
    FakeCentre centre(401, R"({"error":{"code":"unauthorized","message":"revoked"}})");
    auto summary = RunSync(replica, centre, options);
    REQUIRE_FALSE(summary.ok());
    CHECK(summary.error().code == ErrorCode::kAuth);
    CHECK(centre.pushed.empty());
  }
  SECTION("a slow link, told by whoami's round trip, gets batches packed at the slow-link level") {
    // The gzip header's XFL byte tells the level: 0 for levels 2 to 7, 2 for 8 and above (RFC 1952).
    for (int delay : {0, static_cast<int>(kSlowLinkMs) + 50}) {
      CAPTURE(delay);
      OneBatchReplica replica(AMixedBatch());
      FakeCentre centre(200, R"({"device":"a","territories":[],"features":["push-runs"]})");
      centre.whoami_delay_ms = delay;
      auto summary = RunSync(replica, centre, options);
      REQUIRE(summary.ok());
      REQUIRE(centre.packed.size() == 1);
      REQUIRE(centre.packed[0].size() > 10);
      const std::string level_of_a =
          GzipCompress(centre.pushed[0], delay == 0 ? kRequestGzipLevel : kSlowLinkGzipLevel);
      CHECK(centre.packed[0] == level_of_a);
      CHECK(static_cast<unsigned char>(centre.packed[0][8]) == (delay == 0 ? 0 : 2));
    }
  }
  SECTION("on a fast link the first batches ramp up to the batch size; on a slow one they are full from the first") {
    PushRequest many{"ramp", {}};
    for (int i = 0; i < 10000; ++i) many.changes.push_back(ACaseCreate(i));
    options.push_batch = 5000;
    for (int delay : {0, static_cast<int>(kSlowLinkMs) + 50}) {
      CAPTURE(delay);
      OneBatchReplica replica(many);
      FakeCentre centre(200, R"({"device":"a","territories":[],"features":["push-runs"]})");
      centre.whoami_delay_ms = delay;
      auto summary = RunSync(replica, centre, options);
      REQUIRE(summary.ok());
      CHECK(summary->applied == 10000);
      std::vector<size_t> sent;
      for (const std::string& body : centre.pushed) sent.push_back(DecodePushRequest(body)->changes.size());
      if (delay == 0) {
        CHECK(sent == std::vector<size_t>{kFirstPushBatch, 2 * kFirstPushBatch, 4 * kFirstPushBatch, 5000, 625});
      } else {
        CHECK(sent == std::vector<size_t>{5000, 5000});
      }
    }
  }
  SECTION("a batch size under the first one of the ramp is kept from the start") {
    PushRequest many{"small", {}};
    for (int i = 0; i < 1000; ++i) many.changes.push_back(ACaseCreate(i));
    options.push_batch = 100;
    OneBatchReplica replica(many);
    FakeCentre centre(200, R"({"device":"a","territories":[],"features":["push-runs"]})");
    REQUIRE(RunSync(replica, centre, options).ok());
    CHECK(centre.pushed.size() == 10);
    CHECK(std::all_of(replica.asked.begin(), replica.asked.end(), [](size_t n) { return n == 100; }));
  }
  SECTION("nothing to push: no whoami, straight to pull") {
    OneBatchReplica replica(PushRequest{"b", {}});
    FakeCentre centre(200, "{}");
    auto summary = RunSync(replica, centre, options);
    REQUIRE(summary.ok());
    REQUIRE_FALSE(centre.paths.empty());
    CHECK(centre.paths[0] == "/v1/pull");
  }
}

namespace {

// A centre reached over two connections (Concurrent): it takes ?after=KEY as the real one does
// (server/push_order.h): a batch that names another is answered once that one is, or with 409
// when that one is not answered within a second. A gate holds each answer until another batch is
// under way beside it, so that a client that keeps two batches in flight is seen doing so whatever
// the threads' timing; a batch that stays alone is answered after `answer_ms` (the time a client
// that sends one at a time is given to show it would not send another). Thread-safe.
class TwoLaneCentre final : public Transport {
 public:
  explicit TwoLaneCentre(std::string whoami, bool concurrent = true)
      : whoami_(std::move(whoami)), concurrent_(concurrent) {}
  Result<HttpReply> Post(const std::string&, const std::string&) override {
    return MakeError(ErrorCode::kInternal, "push batches are sent packed");
  }
  Result<HttpReply> PostGzip(const std::string& path, const std::string& gzip_body) override {
    auto request = DecodePushRequest(*GzipDecompress(gzip_body, kMaxBodyBytes));
    REQUIRE(request.ok());
    std::unique_lock lock(mu_);
    paths.push_back(path);
    keys.push_back(request->batch_key);
    under_way_max = std::max(under_way_max, ++under_way_);
    changed_.notify_all();
    const std::string prefix = "/v1/push?after=";
    std::optional<std::string> after;
    if (path.rfind(prefix, 0) == 0) after = path.substr(prefix.size());
    bool refused = after && refuse_next_after;
    if (refused) refuse_next_after = false;
    if (after && !refused) {
      refused = !changed_.wait_for(lock, std::chrono::seconds(1), [&] {
        return std::find(answered.begin(), answered.end(), *after) != answered.end();
      });
    }
    if (refused) {
      --under_way_;
      changed_.notify_all();
      return HttpReply{
          409, R"({"error":{"code":"conflict","message":"the batch named by after= is not applied"}})", {}};
    }
    changed_.wait_for(lock, std::chrono::milliseconds(answer_ms), [&] { return under_way_ >= 2; });
    --under_way_;
    answered.push_back(request->batch_key);
    changed_.notify_all();
    PushResponse response{request->batch_key, {}};
    for (const Change& c : request->changes)
      response.results.push_back({c.change_id, ChangeStatus::kApplied, ++version_, {}, {}, {}});
    return HttpReply{200, EncodePushResponse(response), {}};
  }
  Result<HttpReply> Get(const std::string& path) override {
    if (path == "/v1/whoami") return HttpReply{200, whoami_, {}};
    return HttpReply{200, EncodePullPage(PullPage{}), {}};
  }
  bool Concurrent() const override { return concurrent_; }
  uint64_t bytes_sent() const override { return 0; }
  uint64_t bytes_received() const override { return 0; }
  uint64_t requests() const override { return 0; }

  // The paths a batch was sent with, in the order they came (two lanes: a batch sent after another
  // may come first).
  std::vector<std::string> PathsOf(const std::string& key) {
    std::lock_guard lock(mu_);
    std::vector<std::string> of;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) of.push_back(paths[i]);
    }
    return of;
  }

  int answer_ms = 200;                             // how long an answer waits for another batch to come beside it
  bool refuse_next_after = false;                  // answer the next push that names another with 409, at once
  std::vector<std::string> paths, keys, answered;  // every push's path and key; keys answered 200
  int under_way_max = 0;

 private:
  std::string whoami_;
  bool concurrent_;
  std::mutex mu_;
  std::condition_variable changed_;  // a batch came, or one was answered
  int under_way_ = 0;
  int64_t version_ = 0;
};

PushRequest ManyCases(int n) {
  PushRequest many{"lane", {}};
  for (int i = 0; i < n; ++i) many.changes.push_back(ACaseCreate(i));
  return many;
}

// Batches of 1,000, no digest: what the two-lane tests sync with.
SyncOptions LaneOptions() {
  SyncOptions options;
  options.verify = false;
  options.push_batch = 1000;
  return options;
}

constexpr char kWhoamiAfter[] = R"({"device":"a","territories":[],"features":["push-runs","push-after"]})";

}  // namespace

TEST_CASE("two batches are at a centre that lists push-after at once, each naming the one before",
          "[engine][push-after]") {
  SyncOptions options = LaneOptions();
  OneBatchReplica replica(ManyCases(6000));
  TwoLaneCentre centre(kWhoamiAfter);
  auto summary = RunSync(replica, centre, options);
  REQUIRE(summary.ok());
  CHECK(summary->applied == 6000);
  CHECK(centre.under_way_max == 2);
  REQUIRE(replica.formed.size() == 7);  // 625, 1,000 × 5, 375
  REQUIRE(centre.keys.size() == 7);
  CHECK(centre.PathsOf(replica.formed[0]) == std::vector<std::string>{"/v1/push"});
  for (size_t i = 1; i < replica.formed.size(); ++i) {
    CAPTURE(i);
    CHECK(centre.PathsOf(replica.formed[i]) == std::vector<std::string>{"/v1/push?after=" + replica.formed[i - 1]});
  }
  // Applied, and answers recorded, in the order the batches were formed.
  CHECK(centre.answered == replica.formed);
  CHECK(replica.acknowledged == replica.formed);
}

TEST_CASE("one batch at a time to a centre without push-after, over one connection, or on a slow link",
          "[engine][push-after]") {
  SyncOptions options = LaneOptions();
  SECTION("a centre that does not list push-after") {
    OneBatchReplica replica(ManyCases(3000));
    TwoLaneCentre centre(R"({"device":"a","territories":[],"features":["push-runs"]})");
    REQUIRE(RunSync(replica, centre, options).ok());
    CHECK(centre.under_way_max == 1);
    CHECK(std::all_of(centre.paths.begin(), centre.paths.end(), [](const std::string& p) { return p == "/v1/push"; }));
    CHECK(replica.acknowledged == replica.formed);
  }
  SECTION("a transport of one connection") {
    OneBatchReplica replica(ManyCases(3000));
    TwoLaneCentre centre(kWhoamiAfter, /*concurrent=*/false);
    REQUIRE(RunSync(replica, centre, options).ok());
    CHECK(centre.under_way_max == 1);
    CHECK(std::all_of(centre.paths.begin(), centre.paths.end(), [](const std::string& p) { return p == "/v1/push"; }));
  }
}

TEST_CASE("a batch the centre refuses for its order (409) is sent again on its own, and every change lands once",
          "[engine][push-after]") {
  SyncOptions options = LaneOptions();
  OneBatchReplica replica(ManyCases(4000));
  TwoLaneCentre centre(kWhoamiAfter);
  centre.refuse_next_after = true;
  auto summary = RunSync(replica, centre, options);
  REQUIRE(summary.ok());
  CHECK(summary->applied == 4000);
  // The second batch went twice: first naming the first (409), then on its own once the first was answered.
  REQUIRE(replica.formed.size() == 5);  // 625, 1,000 × 3, 375
  CHECK(centre.PathsOf(replica.formed[1]) ==
        std::vector<std::string>{"/v1/push?after=" + replica.formed[0], "/v1/push"});
  // Each batch applied once, and answers recorded, in the order the batches were formed.
  CHECK(centre.answered == replica.formed);
  CHECK(replica.acknowledged == replica.formed);
}
