// The HTTP API, through a real httplib::Server on a port the OS picked and a real client.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/gzip.h"
#include "sync/push_runs.h"
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using nlohmann::json;

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

json ErrorOf(const httplib::Result& r) {
  json body = json::parse(r->body, nullptr, false);
  REQUIRE(body.is_object());
  REQUIRE(body.contains("error"));
  return body["error"];
}

// A store whose every call fails, as a store on a dead disk would.
class FailingStore final : public CentralStore {
 public:
  Status Health() override { return Fail(); }
  Result<CentreIdentity> Identity() override { return Fail(); }
  Result<CentreIdentity> BeginEpoch(std::optional<EpochEvidence>) override { return Fail(); }
  Status NoteRecovery(const Device&, const std::vector<RecoveredRecord>&) override { return Fail(); }
  Result<std::vector<RecoveryNote>> Recoveries(size_t) override { return Fail(); }
  Result<stats::StatsTable> Stats(const stats::Query&) override { return Fail(); }
  Status ReadForStats(const std::function<Status(stats::Database&)>&) override { return Fail(); }
  Result<std::string> AddDevice(const std::string&, const std::vector<std::string>&, Role) override { return Fail(); }
  Result<std::vector<DeviceInfo>> ListDevices() override { return Fail(); }
  Status RevokeDevice(const std::string&, bool) override { return Fail(); }
  Result<Device> Authenticate(std::string_view, const DeviceReport&) override {
    return Device{1, "a", Role::kDevice, {kGap}};
  }
  Result<PushReply> Push(const Device&, const DecodedPush&) override { return Fail(); }
  Result<sync::PullPage> Pull(const Device&, int64_t, size_t, bool) override { return Fail(); }
  Result<ScopeDigestAt> Digest(const Device&) override { return Fail(); }
  Result<std::vector<HistoryEntry>> History(std::string_view, std::string_view) override { return Fail(); }
  Result<std::vector<schema::Record>> Records(const schema::Table&, size_t) override { return Fail(); }
  Result<std::vector<schema::Record>> RecordsWhere(const schema::Table&, std::string_view, const std::string&) override {
    return Fail();
  }
  Result<std::vector<Conflict>> Conflicts(const ConflictFilter&) override { return Fail(); }
  Result<Conflict> GetConflict(int64_t) override { return Fail(); }
  Result<Placement> Locate(std::string_view) override { return Fail(); }
  Result<Conflict> Resolve(int64_t, const Decision&, const std::string&) override { return Fail(); }
  Result<Conflict> Merge(int64_t, const std::vector<std::string>&, const std::string&) override { return Fail(); }
  Result<Conflict> Dismiss(int64_t, const std::string&) override { return Fail(); }
  Result<Erasure> ErasePerson(const std::string&, const std::string&, const std::string&,
                              const std::string&) override {
    return Fail();
  }
  Result<std::vector<Erasure>> Erasures() override { return Fail(); }
  Result<int64_t> RecordAccess(const std::vector<AccessEntry>&) override { return Fail(); }
  Result<std::vector<AccessEntry>> AccessLog(const AccessFilter&) override { return Fail(); }
  Status NoteStaffRead(const std::string&, std::string_view, const std::string&, const std::string&) override {
    return Fail();
  }
  Result<RetentionPolicy> Retention() override { return Fail(); }
  Status SetRetention(const RetentionPolicy&) override { return Fail(); }
  Result<std::vector<ClosedCase>> ClosedBefore(const std::string&) override { return Fail(); }
  Result<Network> GetNetwork() override { return Fail(); }
  Status AddTerritory(const Territory&) override { return Fail(); }
  Status RenameTerritory(const std::string&, const std::string&) override { return Fail(); }
  Status EditReceptionPoints(const std::string&, const std::vector<std::string>&,
                             const std::vector<std::string>&) override {
    return Fail();
  }
  Status SetTransferPolicy(TransferPolicy) override { return Fail(); }

 private:
  static Error Fail() { return MakeError(ErrorCode::kIo, "disk I/O error in SELECT secret FROM x"); }
};

struct FailingServer {
  FailingStore store;
  HttpEndpoint endpoint{store, ServerFixture::QuietOptions()};
  int port = 0;
  std::thread thread;
  FailingServer() {
    port = *endpoint.Bind("127.0.0.1", 0);
    thread = std::thread([this] { (void)endpoint.Serve(); });
    while (!endpoint.IsServing()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FailingServer() {
    endpoint.Stop();
    thread.join();
  }
};

// Opens `count` connections to 127.0.0.1:port at once and returns how many the kernel completed
// within `wait_ms`. A connection completes when it fits the listening socket's backlog; beyond it
// the kernel drops the handshake and the client tries again a second later.
int ConnectionsCompleted(int port, int count, int wait_ms) {
  std::vector<int> fds;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    (void)connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);  // EINPROGRESS
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  int completed = 0;
  for (int fd : fds) {
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t size = sizeof error;
    if (poll(&p, 1, 0) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0) ++completed;
    close(fd);
  }
  return completed;
}

TEST_CASE("a burst of devices fits the listen backlog while the server is not yet accepting", "[http]") {
  // Bound, not serving: nobody accepts, so what completes is exactly what the backlog holds.
  // Debian's cpp-httplib listens with a backlog of 5; Bind() raises it (HttpOptions::listen_backlog).
  FailingStore store;
  HttpEndpoint endpoint{store, ServerFixture::QuietOptions()};
  auto port = endpoint.Bind("127.0.0.1", 0);
  REQUIRE(port.ok());
  CHECK(ConnectionsCompleted(*port, 200, 300) == 200);
}

TEST_CASE("health answers ok without a token", "[http]") {
  ServerFixture f;
  auto r = f.Client()->Get("/v1/health");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body) ==
        json{{"status", "ok"},
             {"protocol", 1},
             {"features", {"push-runs", "pull-no-echo", "push-after", "pending-report", "removed-to", "erasure"}}});
}

TEST_CASE("health answers 503 when the store does not answer", "[http]") {
  FailingServer s;
  httplib::Client client("127.0.0.1", s.port);
  auto r = client.Get("/v1/health");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(ErrorOf(r)["code"] == "io");
}

TEST_CASE("a store failure during a push answers 503 without SQL details, and the server stays up", "[http]") {
  FailingServer s;
  httplib::Client client("127.0.0.1", s.port);
  auto request = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))});
  auto r = client.Post("/v1/push", ServerFixture::Headers("x"), sync::EncodePushRequest(request), "application/json");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(r->body.find("SELECT") == std::string::npos);
  CHECK(client.Get("/v1/health"));
}

TEST_CASE("whoami names the device and its territories", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("pae-bastia", {kBastia, "corse-ajaccio"});
  auto r = f.Client()->Get("/v1/whoami", ServerFixture::Headers(a.token));
  REQUIRE(r);
  CHECK(r->status == 200);
  json body = json::parse(r->body);
  CHECK(body["device"] == "pae-bastia");
  CHECK(body["territories"] == json{"corse-ajaccio", "corse-bastia"});
  // Enrolment declared both; every device learns the whole list (docs/SERVER.md, "Territories").
  REQUIRE(body["declared_territories"].size() == 2);
  CHECK(body["declared_territories"][1] ==
        json{{"code", "corse-bastia"}, {"label", "corse-bastia"}, {"reception_points", json::array()}});
  CHECK(body["transfers"] == "allow");
  CHECK(sync::CentreHasFeature(r->body, sync::kFeaturePushRuns));  // devices may send create runs
}

TEST_CASE("a request without a token gets 401 and a JSON error only", "[http]") {
  ServerFixture f;
  auto r = f.Client()->Get("/v1/pull?since=0", httplib::Headers{{"Relais-Protocol", "1"}});
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(ErrorOf(r)["code"] == "unauthorized");
  CHECK(json::parse(r->body).size() == 1);
}

TEST_CASE("an unknown token gets 401", "[http]") {
  ServerFixture f;
  f.Enrol("a", {kGap});
  auto r = f.Client()->Get("/v1/pull?since=0", ServerFixture::Headers(RandomHex(32)));
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(ErrorOf(r)["code"] == "unauthorized");
}

TEST_CASE("a revoked token gets 401 and sees nothing", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  f.Push(a, {CreateCase(NewId(), kGap, Stamp(kT0, "a"))});
  REQUIRE(f.store().RevokeDevice("a").ok());
  auto r = f.Client()->Get("/v1/pull?since=0", ServerFixture::Headers(a.token));
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(r->body.find("Martin") == std::string::npos);
  CHECK(json::parse(r->body).size() == 1);
}

namespace {

// The device `name` as `device list` shows it.
DeviceInfo Listed(ServerFixture& f, const std::string& name) {
  auto devices = f.store().ListDevices();
  REQUIRE(devices.ok());
  for (const DeviceInfo& d : *devices) {
    if (d.name == name) return d;
  }
  FAIL("no device " << name);
  return {};
}

}  // namespace

TEST_CASE("a token revoked with a wipe order gets 401 revoked_wipe naming the centre, and the delivery is noted",
          "[http][wipe]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  f.Push(a, {CreateCase(NewId(), kGap, Stamp(kT0, "a"))});
  REQUIRE(f.store().RevokeDevice("a", /*wipe=*/true).ok());
  CHECK(Listed(f, "a").wipe_ordered_at.has_value());
  CHECK_FALSE(Listed(f, "a").wipe_delivered_at.has_value());
  for (const char* path : {"/v1/whoami", "/v1/pull?since=0"}) {
    INFO(path);
    auto r = f.Client()->Get(path, ServerFixture::Headers(a.token));
    REQUIRE(r);
    CHECK(r->status == 401);
    const json error = ErrorOf(r);
    CHECK(error["code"] == "revoked_wipe");
    CHECK(error["centre"]["store_id"] == f.store().Identity()->store_id);
    CHECK(r->body.find("Martin") == std::string::npos);
  }
  CHECK(Listed(f, "a").wipe_delivered_at.has_value());
  // A revocation without --wipe afterwards leaves the order.
  REQUIRE(f.store().RevokeDevice("a").ok());
  CHECK(ErrorOf(f.Client()->Get("/v1/whoami", ServerFixture::Headers(a.token)))["code"] == "revoked_wipe");
  // Another device is not concerned; a plain revocation is a plain 401.
  auto other = f.Client()->Get("/v1/whoami", ServerFixture::Headers(b.token));
  REQUIRE(other);
  CHECK(other->status == 200);
  REQUIRE(f.store().RevokeDevice("b").ok());
  CHECK(ErrorOf(f.Client()->Get("/v1/whoami", ServerFixture::Headers(b.token)))["code"] == "unauthorized");
  CHECK_FALSE(Listed(f, "b").wipe_ordered_at.has_value());
}

TEST_CASE("the pending count a device reports is kept with its date; a malformed one is refused", "[http][wipe]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto whoami = [&](const std::string& pending) {
    auto headers = ServerFixture::Headers(a.token);
    headers.emplace("Relais-Pending", pending);
    auto r = f.Client()->Get("/v1/whoami", headers);
    REQUIRE(r);
    return *r;
  };
  for (const char* bad : {"abc", "-1", "1e3", "7 8", "1234567890"}) {
    INFO(bad);
    const httplib::Response r = whoami(bad);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["error"]["code"] == "bad_request");
    CHECK(json::parse(r.body)["error"]["message"].get<std::string>().find("Relais-Pending") != std::string::npos);
    CHECK_FALSE(Listed(f, "a").pending_changes.has_value());
  }
  CHECK(whoami("7").status == 200);
  CHECK(Listed(f, "a").pending_changes == 7);
  CHECK(Listed(f, "a").pending_reported_at.has_value());
  CHECK(whoami("0").status == 200);  // a change of count is written at once, not once a minute
  CHECK(Listed(f, "a").pending_changes == 0);
}

TEST_CASE("a push over HTTP answers the fate of each change", "[http]") {
  ServerFixture f;
  Enrolled c = f.Enrol("c", {kBastia});
  auto request =
      Batch({CreateCase(NewId(), kGap, Stamp(kT0, "c")), CreateContact(NewId(), "0611111111", Stamp(kT0, "c"))});
  auto r = f.Client()->Post("/v1/push", ServerFixture::Headers(c.token), sync::EncodePushRequest(request),
                            "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  auto response = sync::DecodePushResponse(r->body);
  REQUIRE(response.ok());
  CHECK(response->batch_key == request.batch_key);
  CHECK(response->results[0].status == sync::ChangeStatus::kRejected);
  CHECK(response->results[1].status == sync::ChangeStatus::kApplied);
}

TEST_CASE("a gzip-compressed push is inflated and applied", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto request = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))});
  auto headers = ServerFixture::Headers(a.token);
  headers.emplace("Content-Encoding", "gzip");
  auto r = f.Client()->Post("/v1/push", headers, GzipCompress(sync::EncodePushRequest(request)), "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(sync::DecodePushResponse(r->body)->results[0].version == 1);
}

TEST_CASE("answers are gzip-compressed when the client accepts gzip", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::vector<sync::Change> changes;
  changes.reserve(50);
  for (int i = 0; i < 50; ++i) changes.push_back(CreateContact(NewId(), "0611111111", Stamp(kT0, "a")));
  f.Push(a, changes);
  auto client = f.Client();
  client->set_decompress(false);
  auto headers = ServerFixture::Headers(a.token);
  headers.emplace("Accept-Encoding", "gzip");
  auto r = client->Get("/v1/pull?since=0", headers);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Encoding") == "gzip");
  auto body = GzipDecompress(r->body, 1 << 20);
  REQUIRE(body.ok());
  CHECK(body->size() > r->body.size());
  CHECK(sync::DecodePullPage(*body)->records.size() == 50);

  // A push's answer too; a client that does not take gzip gets it plain.
  auto request = Batch({CreateContact(NewId(), "0633333333", Stamp(kT0 + 1, "a"))});
  auto packed = client->Post("/v1/push", headers, sync::EncodePushRequest(request), "application/json");
  REQUIRE(packed);
  CHECK(packed->status == 200);
  CHECK(packed->get_header_value("Content-Encoding") == "gzip");
  auto answer = GzipDecompress(packed->body, 1 << 20);
  REQUIRE(answer.ok());
  auto response = sync::DecodePushResponse(*answer);
  REQUIRE(response.ok());
  CHECK(response->results.at(0).version == 51);
  auto plain =
      client->Post("/v1/push", ServerFixture::Headers(a.token), sync::EncodePushRequest(request), "application/json");
  REQUIRE(plain);
  CHECK(plain->status == 200);
  CHECK(plain->get_header_value("Content-Encoding").empty());
  CHECK(plain->body == *answer);  // the same batch again: the stored answer, verbatim
}

TEST_CASE("a pull asked by column answers one array per column; rows otherwise", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  f.Push(a, {CreateContact(NewId(), "0611111111", Stamp(kT0, "a")),
             CreateContact(NewId(), "0622222222", Stamp(kT0, "a"))});
  auto columns = f.Client()->Get("/v1/pull?since=0&layout=columns", ServerFixture::Headers(a.token));
  auto rows = f.Client()->Get("/v1/pull?since=0", ServerFixture::Headers(a.token));
  REQUIRE(columns);
  REQUIRE(rows);
  CHECK(columns->status == 200);
  auto doc = nlohmann::json::parse(columns->body);
  CHECK_FALSE(doc["tables"]["contacts"].contains("rows"));
  CHECK(doc["tables"]["contacts"]["values"][0].size() == 2);
  CHECK(nlohmann::json::parse(rows->body)["tables"]["contacts"]["rows"].size() == 2);
  auto from_columns = sync::DecodePullPage(columns->body);
  auto from_rows = sync::DecodePullPage(rows->body);
  REQUIRE(from_columns.ok());
  REQUIRE(from_rows.ok());
  from_columns->now_ms = from_rows->now_ms;
  CHECK(sync::EncodePullPage(*from_columns) == sync::EncodePullPage(*from_rows));

  auto unknown = f.Client()->Get("/v1/pull?since=0&layout=diagonal", ServerFixture::Headers(a.token));
  REQUIRE(unknown);
  CHECK(unknown->status == 400);
  CHECK(unknown->body.find("layout") != std::string::npos);
}

TEST_CASE("a pull answer repeats its page's cursor in its headers, on every page", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  std::vector<sync::Change> changes;
  changes.reserve(5);
  for (int i = 0; i < 5; ++i) changes.push_back(CreateContact(NewId(), "0611111111", Stamp(kT0, "a")));
  f.Push(a, changes);
  int64_t since = 0;
  int pages = 0;
  while (true) {
    auto r = f.Client()->Get("/v1/pull?since=" + std::to_string(since) + "&limit=2&layout=columns",
                             ServerFixture::Headers(a.token));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto page = sync::DecodePullPage(r->body);
    REQUIRE(page.ok());
    ++pages;
    CHECK(r->get_header_value(sync::kHeaderPullNext) == std::to_string(page->next));
    CHECK(r->get_header_value(sync::kHeaderPullMore) == (page->more ? "1" : "0"));
    if (!page->more) break;
    since = page->next;
  }
  CHECK(pages == 3);
}

TEST_CASE("a pull with echo=0 leaves out the device's own records; without it, or with echo=1, they come",
          "[http][echo]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  f.Push(a, {CreateContact(NewId(), "0611111111", Stamp(kT0, "a")),
             CreateContact(NewId(), "0622222222", Stamp(kT0, "a"))});
  auto records = [&](const std::string& query) -> size_t {
    auto r = f.Client()->Get("/v1/pull?since=0" + query, ServerFixture::Headers(a.token));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto page = sync::DecodePullPage(r->body);
    REQUIRE(page.ok());
    CHECK(page->next == 2);
    return page->records.size();
  };
  CHECK(records("&echo=0") == 0);
  CHECK(records("&echo=1") == 2);
  CHECK(records("") == 2);
  auto unknown = f.Client()->Get("/v1/pull?since=0&echo=no", ServerFixture::Headers(a.token));
  REQUIRE(unknown);
  CHECK(unknown->status == 400);
  CHECK(unknown->body.find("echo") != std::string::npos);
}

TEST_CASE("a pull over HTTP gives the page the device may see", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled c = f.Enrol("c", {kBastia});
  f.Push(a, {CreateCase(NewId(), kGap, Stamp(kT0, "a")), CreateContact(NewId(), "0611111111", Stamp(kT0, "a")),
             CreateContact(NewId(), "0622222222", Stamp(kT0, "a"))});
  auto r = f.Client()->Get("/v1/pull?since=0&limit=1", ServerFixture::Headers(c.token));
  REQUIRE(r);
  CHECK(r->status == 200);
  auto page = sync::DecodePullPage(r->body);
  REQUIRE(page.ok());
  CHECK(page->records.size() == 1);
  CHECK(page->records[0].table == "contacts");
  CHECK(page->more);
  CHECK(page->next == 2);
}

TEST_CASE("a retried push over HTTP gets the same bytes back and is applied once", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto request = Batch({CreateCase(NewId(), kGap, Stamp(kT0, "a"))});
  const std::string body = sync::EncodePushRequest(request);
  auto first = f.Client()->Post("/v1/push", ServerFixture::Headers(a.token), body, "application/json");
  REQUIRE(first);
  std::string after_first = f.Dump();
  auto again = f.Client()->Post("/v1/push", ServerFixture::Headers(a.token), body, "application/json");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(again->body == first->body);
  CHECK(f.Dump() == after_first);
}

TEST_CASE("a batch key reused with other content gets 409", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto first = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))}, "k1");
  auto other = Batch({CreateContact(NewId(), "0622222222", Stamp(kT0, "a"))}, "k1");
  REQUIRE(f.Client()->Post("/v1/push", ServerFixture::Headers(a.token), sync::EncodePushRequest(first),
                           "application/json"));
  std::string before = f.Dump();
  auto r =
      f.Client()->Post("/v1/push", ServerFixture::Headers(a.token), sync::EncodePushRequest(other), "application/json");
  REQUIRE(r);
  CHECK(r->status == 409);
  CHECK(ErrorOf(r)["code"] == "conflict");
  CHECK(f.Dump() == before);
}

TEST_CASE("each request is logged on one line without personal data", "[http]") {
  std::mutex mutex;
  std::vector<std::string> lines;
  HttpOptions options;
  options.log = [&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.emplace_back(line);
  };
  ServerFixture f(options);
  Enrolled a = f.Enrol("pae-gap", {kGap});
  auto request = Batch({CreateCase(NewId(), kGap, Stamp(kT0, "a"), {{"phone", "0611223344"}})});
  REQUIRE(f.Client()->Post("/v1/push", ServerFixture::Headers(a.token), sync::EncodePushRequest(request),
                           "application/json"));
  // The line is written just after the answer is sent.
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!lines.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::lock_guard<std::mutex> lock(mutex);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("POST /v1/push 200 device=pae-gap") == 0);
  CHECK(lines[0].find("changes=1 applied=1") != std::string::npos);
  CHECK(lines[0].find("ms=") != std::string::npos);
  CHECK(lines[0].find("Martin") == std::string::npos);
  CHECK(lines[0].find("0611223344") == std::string::npos);
}

TEST_CASE("creates sent as runs are applied in order, one result per change, as their rows would be", "[http][runs]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  const std::string case_id = NewId();
  std::vector<sync::Change> changes = {
      CreateCase(case_id, kGap, Stamp(kT0, "a")), CreateCase(NewId(), kGap, Stamp(kT0, "a")),
      CreateFollowup(NewId(), case_id, Stamp(kT0, "a")), CreateFollowup(NewId(), case_id, Stamp(kT0, "a")),
      CreateCase(NewId(), kBastia, Stamp(kT0, "a"))};
  auto request = Batch(changes);
  const std::string runs = sync::EncodePushRequestRuns(request);
  REQUIRE(json::parse(runs)["changes"].size() == 3);  // two runs and a lone row
  auto headers = ServerFixture::Headers(a.token);
  headers.emplace("Content-Encoding", "gzip");
  auto sent = f.Client()->Post("/v1/push", headers, GzipCompress(runs), "application/json");
  REQUIRE(sent);
  REQUIRE(sent->status == 200);
  auto response = sync::DecodePushResponse(sent->body);
  REQUIRE(response.ok());
  REQUIRE(response->results.size() == 5);
  for (size_t i = 0; i < 5; ++i) CHECK(response->results[i].change_id == changes[i].change_id);
  CHECK(response->results[2].status == sync::ChangeStatus::kApplied);  // the follow-up after its case's creation
  CHECK(response->results[3].version == 4);
  CHECK(response->results[4].status == sync::ChangeStatus::kRejected);  // outside the device's territories
  CHECK(response->results[4].code == "outside_scope");                  // read back from the wire

  // The same batch resent as rows is the same batch: the same answer, applied once.
  const std::string after = f.Dump();
  auto as_rows = f.Client()->Post("/v1/push", ServerFixture::Headers(a.token), sync::EncodePushRequest(request),
                                  "application/json");
  REQUIRE(as_rows);
  CHECK(as_rows->status == 200);
  CHECK(as_rows->body == sent->body);
  CHECK(f.Dump() == after);
}

TEST_CASE("a bad run gets 400 naming what is wrong, changes nothing, and the server stays up", "[http][runs]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto request = Batch(
      {CreateContact(NewId(), "0611111111", Stamp(kT0, "a")), CreateContact(NewId(), "0622222222", Stamp(kT0, "a"))});
  json doc = json::parse(sync::EncodePushRequestRuns(request));
  doc["changes"][0]["columns"]["phone"].push_back("0633333333");  // one cell too many
  const std::string before = f.Dump();
  auto r = f.Client()->Post("/v1/push", ServerFixture::Headers(a.token), doc.dump(), "application/json");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(ErrorOf(r)["code"] == "bad_request");
  CHECK(ErrorOf(r)["message"].get<std::string>().find("changes[0].columns.phone: 3 cells") != std::string::npos);
  CHECK(f.Dump() == before);
  auto health = f.Client()->Get("/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("a value refused in a run gets 422 naming the change of the run", "[http][runs]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto request = Batch({CreateCase(NewId(), kGap, Stamp(kT0, "a")),
                        CreateCase(NewId(), kGap, Stamp(kT0, "a"), {{"birth_date", "1990-13-45"}})});
  const std::string before = f.Dump();
  auto r = f.Client()->Post("/v1/push", ServerFixture::Headers(a.token), sync::EncodePushRequestRuns(request),
                            "application/json");
  REQUIRE(r);
  CHECK(r->status == 422);
  CHECK(ErrorOf(r)["change"] == request.changes[1].change_id);
  CHECK(ErrorOf(r)["message"].get<std::string>().rfind("changes[0][1].values.birth_date", 0) == 0);
  CHECK(f.Dump() == before);
}

TEST_CASE("a gzip body is inflated whatever the case of its Content-Encoding", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  const std::string encoding = GENERATE(as<std::string>{}, "GZIP", "Gzip", " gzip ");
  CAPTURE(encoding);
  auto request = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))});
  auto headers = ServerFixture::Headers(a.token);
  headers.emplace("Content-Encoding", encoding);
  auto r = f.Client()->Post("/v1/push", headers, GzipCompress(sync::EncodePushRequest(request)), "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  auto response = sync::DecodePushResponse(r->body);
  REQUIRE(response.ok());
  CHECK(response->results.at(0).status == sync::ChangeStatus::kApplied);
  CHECK(response->results.at(0).version == 1);
}

TEST_CASE("a body announced as gzip in capitals that is not gzip gets 400 and changes nothing", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  (void)f.Client()->Get("/v1/whoami", ServerFixture::Headers(a.token));  // the device seen once
  const std::string before = f.Dump();
  auto headers = ServerFixture::Headers(a.token);
  headers.emplace("Content-Encoding", "GZIP");
  auto r = f.Client()->Post("/v1/push", headers, "not gzip at all", "application/json");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(ErrorOf(r)["code"] == "bad_request");
  CHECK(f.Dump() == before);
}

TEST_CASE("Accept-Encoding is read with its q-values: gzip only when gzip, or else *, has a q above 0", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  f.Push(a, {CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))});
  auto client = f.Client();
  client->set_decompress(false);
  auto [accept, gzip] = GENERATE(table<std::string, bool>({{"gzip", true},
                                                           {"GZIP", true},
                                                           {"gzip;q=0", false},
                                                           {"gzip; q=0.000", false},
                                                           {"gzip;q=0.5", true},
                                                           {"deflate, gzip;q=1.0", true},
                                                           {"gzip;q=0, *", false},
                                                           {"*", true},
                                                           {"*;q=0", false},
                                                           {"identity", false},
                                                           {"br;q=1, identity;q=0.5", false},
                                                           {"gzip;q=2", false},
                                                           {"gzip;q=abc", false},
                                                           {"x-gzip", true}}));
  CAPTURE(accept);
  auto headers = ServerFixture::Headers(a.token);
  headers.emplace("Accept-Encoding", accept);
  auto r = client->Get("/v1/pull?since=0", headers);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK((r->get_header_value("Content-Encoding") == "gzip") == gzip);
  std::string body = r->body;
  if (gzip) body = *GzipDecompress(r->body, 1 << 20);
  auto page = sync::DecodePullPage(body);
  REQUIRE(page.ok());
  CHECK(page->records.size() == 1);
  // Every answer honours a refusal, whoami's and an error's too (small answers may go plain
  // when gzip is taken).
  for (const char* path : {"/v1/whoami", "/v1/pull?since=x"}) {
    auto other = client->Get(path, headers);
    REQUIRE(other);
    if (!gzip) CHECK(other->get_header_value("Content-Encoding").empty());
  }
}

TEST_CASE("a known path asked with another method gets 405 with the methods it takes in Allow", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled staff = f.Enrol("siege", {kGap}, Role::kStaff);
  auto client = f.Client();
  struct Ask {
    std::string method, path, allow;
  };
  const std::vector<Ask> asks = {{"POST", "/v1/pull?since=0", "GET, HEAD"},
                                 {"PUT", "/v1/pull", "GET, HEAD"},
                                 {"DELETE", "/v1/whoami", "GET, HEAD"},
                                 {"POST", "/v1/health", "GET, HEAD"},
                                 {"GET", "/v1/push", "POST"},
                                 {"PUT", "/v1/push", "POST"},
                                 {"POST", "/v1/conflicts", "GET, HEAD"},
                                 {"DELETE", "/v1/conflicts/12", "GET, HEAD"},
                                 {"GET", "/v1/conflicts/12/resolve", "POST"},
                                 {"PATCH", "/v1/history/0193", "GET, HEAD"}};
  for (const Ask& ask : asks) {
    INFO(ask.method << " " << ask.path);
    auto headers = ServerFixture::Headers(ask.path.find("conflicts") != std::string::npos ? staff.token : a.token);
    httplib::Result r = ask.method == "POST"    ? client->Post(ask.path, headers, "{}", "application/json")
                        : ask.method == "PUT"   ? client->Put(ask.path, headers, "{}", "application/json")
                        : ask.method == "PATCH" ? client->Patch(ask.path, headers, "{}", "application/json")
                        : ask.method == "GET"   ? client->Get(ask.path, headers)
                                                : client->Delete(ask.path, headers);
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == ask.allow);
    CHECK(ErrorOf(r)["code"] == "bad_request");
  }
  // An unknown path stays unknown.
  auto unknown = client->Post("/v1/pulls", ServerFixture::Headers(a.token), "{}", "application/json");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
}

TEST_CASE("an unknown or repeated query parameter, or a bad value, gets 400 naming the parameter", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled staff = f.Enrol("siege", {kGap}, Role::kStaff);
  auto client = f.Client();
  auto [path, named] = GENERATE(table<std::string, std::string>({{"/v1/pull?since=0&foo=1", "foo"},
                                                                 {"/v1/pull?since=0&since=5", "since"},
                                                                 {"/v1/pull?since=0&digest=2", "digest"},
                                                                 {"/v1/pull?since=0&digest=", "digest"},
                                                                 {"/v1/pull?since=0&echo=yes", "echo"},
                                                                 {"/v1/pull?since=0&layout=", "layout"},
                                                                 {"/v1/pull?Since=0", "Since"},
                                                                 {"/v1/pull", "since"},
                                                                 {"/v1/whoami?verbose=1", "verbose"},
                                                                 {"/v1/health?x", "x"},
                                                                 {"/v1/conflicts?status=open&sort=id", "sort"},
                                                                 {"/v1/history/0193?all=1", "all"}}));
  CAPTURE(path);
  auto r = client->Get(
      path, ServerFixture::Headers(path.find("/v1/pull") == 0 || path.find("/v1/whoami") == 0 ? a.token : staff.token));
  REQUIRE(r);
  CHECK(r->status == 400);
  json error = ErrorOf(r);
  CHECK(error["code"] == "bad_request");
  CHECK(error["message"].get<std::string>().find(named) != std::string::npos);
}

TEST_CASE("a push with an unknown query parameter gets 400 and changes nothing", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  (void)f.Client()->Get("/v1/whoami", ServerFixture::Headers(a.token));
  const std::string before = f.Dump();
  auto request = Batch({CreateContact(NewId(), "0611111111", Stamp(kT0, "a"))});
  auto r = f.Client()->Post("/v1/push?afterr=x", ServerFixture::Headers(a.token), sync::EncodePushRequest(request),
                            "application/json");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(ErrorOf(r)["message"].get<std::string>().find("afterr") != std::string::npos);
  CHECK(f.Dump() == before);
}

TEST_CASE("the queries relais itself sends are answered", "[http]") {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  auto client = f.Client();
  for (const char* path : {"/v1/pull?since=0&limit=5000&layout=columns&digest=1&echo=0",
                           "/v1/pull?since=0&limit=5000&layout=columns&digest=1", "/v1/pull?since=0", "/v1/whoami"}) {
    INFO(path);
    auto r = client->Get(path, ServerFixture::Headers(a.token));
    REQUIRE(r);
    CHECK(r->status == 200);
  }
}

}  // namespace
}  // namespace relais::server::testing
