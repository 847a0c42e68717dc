// A centre that sends what no Relais centre should (issue 24, item 8), to the real `relais`: a
// small fake centre inside the test (cpp-httplib on loopback) answers whoami, health and pull as a
// centre does, then serves bad pages one by one. Each must be refused whole, the replica unchanged
// (hash of its whole content), with an error that names the fault. Also: what `relais` prints of
// values that would act on a terminal, and an address that leads to a server that is not Relais.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kCaseA = "0190a1b2-0000-7000-8000-00000000000a";
const std::string kCaseB = "0190a1b2-0000-7000-8000-00000000000b";

// Answers like a centre: whoami, health, and the pull page set for each `since` (an empty last
// page otherwise). Or, with `not_relais`, like a web server that is no centre.
class FakeCentre {
 public:
  FakeCentre() {
    server_.Get("/v1/whoami", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (Foreign(res)) return;
      res.set_content(json{{"device", "d"},
                           {"role", "device"},
                           {"territories", {kGap}},
                           {"protocol", 1},
                           {"features", json::array()}}
                          .dump(),
                      "application/json");
    });
    server_.Get("/v1/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", "application/json");
    });
    server_.Get("/v1/pull", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (Foreign(res)) return;
      const int64_t since = std::stoll(req.get_param_value("since"));
      auto page = pages_.find(since);
      const std::string body =
          page != pages_.end()
              ? page->second
              : json{{"protocol", 1}, {"since", since}, {"next", since}, {"more", false}, {"tables", json::object()}}
                    .dump();
      res.set_content(body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The socket listens from bind_to_any_port on; stop() needs the loop to have started.
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeCentre() {
    server_.stop();
    thread_.join();
  }
  FakeCentre(const FakeCentre&) = delete;
  FakeCentre& operator=(const FakeCentre&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void SetPage(int64_t since, const std::string& body) {
    std::lock_guard lock(mu_);
    pages_[since] = body;
  }
  // From now on every answer is `body` with `status` and `type`, as a server that is not Relais.
  void AnswerForeign(int status, std::string body, std::string type) {
    std::lock_guard lock(mu_);
    foreign_ = Foreign_{status, std::move(body), std::move(type)};
  }

 private:
  struct Foreign_ {
    int status;
    std::string body, type;
  };
  bool Foreign(httplib::Response& res) const {
    if (!foreign_) return false;
    res.status = foreign_->status;
    res.set_content(foreign_->body, foreign_->type);
    return true;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<int64_t, std::string> pages_;
  std::optional<Foreign_> foreign_;
};

const std::vector<std::string> kColumns = {"id",         "version",     "last_name",     "first_name",
                                           "birth_date", "status",      "service_level", "territory",
                                           "opened_on",  "merged_into", "notes"};

// A case row of kColumns, `changes` applied on top of a valid case of kGap.
json CaseRow(const std::string& id, int64_t version, const std::map<std::string, json>& changes = {}) {
  std::map<std::string, json> cells = {{"id", id},
                                       {"version", version},
                                       {"last_name", "Roux"},
                                       {"first_name", "Inès"},
                                       {"birth_date", "1990-03-12"},
                                       {"status", "demandeur_emploi"},
                                       {"service_level", 2},
                                       {"territory", kGap},
                                       {"opened_on", "2026-11-02"},
                                       {"merged_into", nullptr},
                                       {"notes", nullptr}};
  for (const auto& [name, value] : changes) cells[name] = value;
  json row = json::array();
  for (const std::string& c : kColumns) row.push_back(cells.at(c));
  return row;
}

json Page(int64_t since, int64_t next, json rows, json removed = json::array()) {
  return json{{"protocol", 1},
              {"since", since},
              {"next", next},
              {"more", false},
              {"removed", std::move(removed)},
              {"tables", {{"cases", {{"columns", kColumns}, {"rows", std::move(rows)}}}}}};
}

// A replica bound to `centre` that pulled case A at version 10.
struct BoundDevice {
  explicit BoundDevice(FakeCentre& centre) : device(dir, "d") {
    centre.SetPage(0, Page(0, 10, json::array({CaseRow(kCaseA, 10)})).dump());
    RunResult init = device.Cmd({"init", "--server", centre.url(), "--token", "jeton"});
    INFO(init.err);
    REQUIRE(init.exit_code == 0);
    RunResult sync = device.Cmd({"sync"});
    INFO(sync.err);
    REQUIRE(sync.exit_code == 0);
    REQUIRE(device.Show(kCaseA)["version"] == 10);
  }
  TempDir dir;
  Device device;
};

}  // namespace

TEST_CASE("a page that fails validation, scope or versions is refused whole, the replica unchanged", "[hostile][e2e]") {
  FakeCentre centre;
  BoundDevice bound(centre);
  Device& d = bound.device;
  const std::string before = d.ContentHash();

  struct Bad {
    std::string what;
    json page;
    std::vector<std::string> named;  // what the error must say
  };
  const std::vector<Bad> bad = {
      {"a case of another territory",
       Page(10, 20, json::array({CaseRow(kCaseB, 12, {{"territory", "embrun"}})})),
       {"cases, fiche " + kCaseB, "territory", "embrun", kGap}},
      {"a date that does not exist",
       Page(10, 20, json::array({CaseRow(kCaseB, 12, {{"birth_date", "1990-13-45"}})})),
       {"cases, fiche " + kCaseB, "birth_date", "1990-13-45"}},
      {"a status outside its choices",
       Page(10, 20, json::array({CaseRow(kCaseB, 12, {{"status", "hacker"}})})),
       {"cases, fiche " + kCaseB, "status", "hacker"}},
      {"a service level out of range",
       Page(10, 20, json::array({CaseRow(kCaseB, 12, {{"service_level", 99}})})),
       {"cases, fiche " + kCaseB, "service_level", "99"}},
      {"a name of a megabyte",
       Page(10, 20, json::array({CaseRow(kCaseB, 12, {{"last_name", std::string(1 << 20, 'x')}})})),
       {"cases, fiche " + kCaseB, "last_name", "dépasse 100 octets"}},
      {"a redirect that is not an id",
       Page(10, 20, json::array({CaseRow(kCaseA, 12, {{"merged_into", "ailleurs"}})})),
       {"cases, fiche " + kCaseA, "merged_into", "UUID"}},
      {"a terminal escape in a name",
       Page(10, 20, json::array({CaseRow(kCaseA, 12, {{"last_name", "Roux\x1b]2;pwned\x07"}})})),
       {"cases, fiche " + kCaseA, "last_name", "une seule ligne"}},
      {"one record twice, the last at an older version",
       Page(10, 20, json::array({CaseRow(kCaseB, 15), CaseRow(kCaseB, 12, {{"last_name", "Ancien"}})})),
       {"cases, fiche " + kCaseB, "deux fois", "12", "15"}},
      {"a negative version",
       Page(10, 20, json::array({CaseRow(kCaseB, -3)})),
       {"cases, fiche " + kCaseB, "version -3"}},
      {"a version the page does not cover (the replica holds 10)",
       Page(10, 20, json::array({CaseRow(kCaseA, 5, {{"last_name", "Ancien"}})})),
       {"cases, fiche " + kCaseA, "version 5", "de 11 à 20"}},
      {"a removal at a negative sequence",
       Page(10, 20, json::array(), json::array({{{"table", "cases"}, {"id", kCaseA}, {"seq", -1}}})),
       {"retrait de cases, fiche " + kCaseA, "séquence -1"}},
      {"a cursor that goes back on a page with records",
       Page(10, 4, json::array({CaseRow(kCaseB, 3)})),
       {"next is before since"}},
  };
  for (const Bad& b : bad) {
    SECTION(b.what) {
      centre.SetPage(10, b.page.dump());
      RunResult r = d.Cmd({"sync"});
      INFO(r.out << r.err.substr(0, 2000));
      CHECK(r.exit_code != 0);
      for (const std::string& n : b.named) CHECK_THAT(r.err, Catch::Contains(n));
      CHECK(d.ContentHash() == before);
    }
  }
}

TEST_CASE("values that would act on a terminal are shown as marks, --json keeps them exact", "[hostile][e2e]") {
  FakeCentre centre;
  BoundDevice bound(centre);
  Device& d = bound.device;
  // Valid text that a counsellor could type (bidirectional overrides, a C1 control), pulled from the
  // centre; and an escape written into the replica behind relais' back.
  const std::string name = "Roux\u202Egnp.exe\u202C";
  const std::string first = "In\u00C2\u009B31m\u2066s";
  centre.SetPage(10,
                 Page(10, 20, json::array({CaseRow(kCaseB, 12, {{"last_name", name}, {"first_name", first}})})).dump());
  RunResult sync = d.Cmd({"sync"});
  INFO(sync.err);
  REQUIRE(sync.exit_code == 0);
  Exec(d.db(),
       "UPDATE cases SET notes = 'ligne 1' || char(10) || 'ligne 2' || char(27) || '[2J' || char(13) || "
       "'fin' WHERE id = '" +
           kCaseB + "'");

  auto acts_on_terminal = [](const std::string& text) {
    for (const char* bad : {"\x1b", "\r", "\u202E", "\u202C", "\u2066", "\u009B"}) {
      if (text.find(bad) != std::string::npos) return true;
    }
    return false;
  };
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"case", "show", kCaseB}, {"case", "list"}, {"case", "search", "Roux"}}) {
    RunResult r = d.Cmd(args);
    INFO(args[1] << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(acts_on_terminal(r.out));
    CHECK_THAT(r.out, Catch::Contains("Roux<U+202E>gnp.exe<U+202C>"));
  }
  RunResult show = d.Cmd({"case", "show", kCaseB});
  CHECK_THAT(show.out, Catch::Contains("ligne 1"));
  CHECK_THAT(show.out, Catch::Contains("ligne 2<U+001B>[2J<U+000D>fin"));
  CHECK_THAT(show.out, Catch::Contains("In\u00C2<U+009B>31m<U+2066>s"));

  json exact = d.Show(kCaseB);
  CHECK(exact["last_name"] == name);
  CHECK(exact["first_name"] == first);
  CHECK(exact["notes"] == "ligne 1\nligne 2\x1b[2J\rfin");
}

TEST_CASE("an address that leads to a server that is not Relais says so, in French", "[hostile][e2e]") {
  FakeCentre centre;
  TempDir dir;
  Device d(dir, "d");
  SECTION("init, against a web page") {
    centre.AnswerForeign(200, "<!doctype html><html><body>Bienvenue</body></html>", "text/html");
    RunResult r = d.Cmd({"init", "--server", centre.url(), "--token", "jeton"});
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("ne répond pas comme un centre Relais") && Catch::Contains("une page HTML") &&
                          Catch::Contains("relais init --server") && Catch::Contains(centre.url()));
    CHECK_THAT(r.err, !Catch::Contains("unexpected"));
  }
  SECTION("init, against a 404 in JSON of another shape") {
    centre.AnswerForeign(404, R"({"detail":"Not Found"})", "application/json");
    RunResult r = d.Cmd({"init", "--server", centre.url(), "--token", "jeton"});
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("ne répond pas comme un centre Relais") &&
                          Catch::Contains("un document JSON d'une autre forme") && Catch::Contains("404"));
    CHECK_THAT(r.err, !Catch::Contains("unexpected"));
  }
  SECTION("sync, once the address leads elsewhere") {
    BoundDevice bound(centre);
    const std::string before = bound.device.ContentHash();
    for (const auto& [status, body, type] :
         {std::tuple<int, std::string, std::string>{200, "<html><body>Portail captif</body></html>", "text/html"},
          {404, "<html><body>Not Found</body></html>", "text/html"},
          {200, R"({"status":"ok","items":[]})", "application/json"}}) {
      centre.AnswerForeign(status, body, type);
      RunResult r = bound.device.Cmd({"sync"});
      INFO(body << ": " << r.err);
      CHECK(r.exit_code != 0);
      CHECK_THAT(r.err, Catch::Contains("ne répond pas comme un centre Relais") &&
                            Catch::Contains("relais init --server") && Catch::Contains(centre.url()));
      CHECK_THAT(r.err, !Catch::Contains("unexpected"));
      CHECK(bound.device.ContentHash() == before);
    }
  }
}
