// The reverse-proxy setup docs/SERVER.md, "Deployment" gives, run for real: nginx with
// docs/deploy/nginx-relais.conf (only its addresses and file paths replaced), unprivileged, every
// file it writes in a temp folder, TLS with a certificate of a test CA made here by openssl, in
// front of a plain `relais-central serve` on loopback. Skipped, with a message, without nginx
// (scripts/setup.sh installs it).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/loopback_http.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kHost = "relais.exemple.fr";
const char* const kNginx = "/usr/sbin/nginx";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Replace(std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);  // the documented file still says it
  text.replace(at, from.size(), to);
}

// A loopback port free now (the system picks it; nginx needs it written in its configuration).
int FreePort() {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(s);
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(s);
  return ok;
}

void MustRun(const std::vector<std::string>& argv) {
  RunResult r = Run(argv);
  INFO(argv.front() << ": " << r.err);
  REQUIRE(r.exit_code == 0);
}

// A test CA and a certificate it signs for kHost, as files in `dir`: ca.pem, server.pem, server.key.
void MakeCertificates(const TempDir& dir) {
  MustRun({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
           "/CN=Relais test CA", "-keyout", dir / "ca.key", "-out", dir / "ca.pem"});
  MustRun({"/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + kHost, "-keyout",
           dir / "server.key", "-out", dir / "server.csr"});
  std::ofstream(dir / "san.ext") << "subjectAltName=DNS:" << kHost << ",IP:127.0.0.1\n";
  MustRun({"/usr/bin/openssl", "x509", "-req", "-in", dir / "server.csr", "-CA", dir / "ca.pem", "-CAkey",
           dir / "ca.key", "-CAcreateserial", "-days", "2", "-extfile", dir / "san.ext", "-out", dir / "server.pem"});
}

// nginx in the foreground, one process, every path under `prefix`; with the documented server
// block, listening in TLS on tls_port and proxying to upstream_port.
class Nginx {
 public:
  Nginx(const TempDir& dir, const fs::path& prefix, int upstream_port) : prefix_(prefix) {
    fs::create_directories(prefix_);
    std::string site = ReadFile(fs::path(RELAIS_SOURCE_DIR) / "docs/deploy/nginx-relais.conf");
    tls_port = FreePort();
    Replace(site, "listen 443 ssl;", "listen 127.0.0.1:" + std::to_string(tls_port) + " ssl;");
    Replace(site, "server 127.0.0.1:8080;", "server 127.0.0.1:" + std::to_string(upstream_port) + ";");
    Replace(site, "/etc/letsencrypt/live/relais.exemple.fr/fullchain.pem", dir / "server.pem");
    Replace(site, "/etc/letsencrypt/live/relais.exemple.fr/privkey.pem", dir / "server.key");
    std::ofstream(prefix_ / "relais.conf") << site;
    const std::string p = prefix_.string();
    std::ofstream(prefix_ / "nginx.conf")
        << "daemon off;\nmaster_process off;\nworker_processes 1;\npid " << p << "/nginx.pid;\n"
        << "error_log " << p << "/error.log;\nevents { worker_connections 64; }\nhttp {\n"
        << "  access_log " << p << "/access.log;\n  client_body_temp_path " << p << "/body;\n"
        << "  proxy_temp_path " << p << "/proxy;\n  fastcgi_temp_path " << p << "/fastcgi;\n"
        << "  uwsgi_temp_path " << p << "/uwsgi;\n  scgi_temp_path " << p << "/scgi;\n"
        << "  include " << p << "/relais.conf;\n}\n";
    std::vector<std::string> args = {kNginx, "-p", p + "/", "-c", p + "/nginx.conf", "-e", p + "/error.log"};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(posix_spawn(&pid_, kNginx, nullptr, nullptr, argv.data(), environ) == 0);
    // Up when it accepts; a start that fails ends the process.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!Accepts(tls_port)) {
      int status = 0;
      INFO(ReadFile(prefix_ / "error.log"));
      REQUIRE(waitpid(pid_, &status, WNOHANG) == 0);
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a readiness poll, not an ordering
    }
  }
  ~Nginx() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  // curl to https://kHost:tls_port PATH, the name resolved to 127.0.0.1, trusting the test CA
  // unless `trust` is false.
  RunResult Curl(const TempDir& dir, const std::string& path, std::vector<std::string> extra = {},
                 bool trust = true) const {
    std::vector<std::string> args = {
        "/usr/bin/curl", "-sS", "--resolve", kHost + ":" + std::to_string(tls_port) + ":127.0.0.1", "-o", "-", "-w",
        "\n%{http_code}"};
    if (trust) {
      args.push_back("--cacert");
      args.push_back(dir / "ca.pem");
    }
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://" + kHost + ":" + std::to_string(tls_port) + path);
    return Run(args);
  }

  int tls_port = 0;

 private:
  fs::path prefix_;
  pid_t pid_ = -1;
};

// What reaches the centre through the proxy: a server that records each request's headers.
class HeaderRecorder {
 public:
  HeaderRecorder()
      : server_([this](const httplib::Request& req, httplib::Response& res) {
          std::lock_guard lock(mu_);
          last_ = req.headers;
          res.set_content(R"({"status":"ok"})", "application/json");
        }) {}
  int port() const { return server_.port(); }
  // Every value of header `name` in the last request, joined by ", ".
  std::string Header(const std::string& name) {
    std::lock_guard lock(mu_);
    std::string out;
    auto [from, to] = last_.equal_range(name);
    for (auto it = from; it != to; ++it) out += (out.empty() ? "" : ", ") + it->second;
    return out;
  }

 private:
  std::mutex mu_;
  httplib::Headers last_;
  LoopbackHttp server_;  // last: stopped before what it writes goes
};

bool HaveNginx() {
  if (fs::exists(kNginx)) return true;
  WARN("SKIPPED: " << kNginx << " is absent (scripts/setup.sh installs nginx): the documented proxy is not tested");
  return false;
}

}  // namespace

TEST_CASE("the documented nginx setup serves the centre over TLS, and a device syncs through it", "[proxy][e2e]") {
  if (!HaveNginx()) return;
  TempDir dir;
  MakeCertificates(dir);
  Central central(dir.path());
  central.Start();
  const int centre_port = std::stoi(central.url().substr(central.url().rfind(':') + 1));
  Nginx nginx(dir, dir.path() / "nginx", centre_port);

  RunResult health = nginx.Curl(dir, "/v1/health");
  INFO(health.err);
  CHECK(health.exit_code == 0);
  CHECK_THAT(health.out, Catch::Contains(R"("status":"ok")") && Catch::EndsWith("\n200"));
  // The certificate is the test CA's: without it, curl refuses the connection.
  CHECK(nginx.Curl(dir, "/v1/health", {}, false).exit_code == 60);
  // A body over the centre's 16 MiB is stopped by the proxy.
  {
    std::ofstream(dir / "big.bin") << std::string(17u << 20, 'x');
    RunResult big = nginx.Curl(dir, "/v1/push", {"--data-binary", "@" + dir / "big.bin"});
    CHECK_THAT(big.out, Catch::EndsWith("\n413"));
  }

  // Two devices, through the proxy over TLS (the certificate names 127.0.0.1, signed by the test CA
  // they are told to trust): 2,000 cases pushed by one reach the other.
  const std::string proxied = "https://127.0.0.1:" + std::to_string(nginx.tls_port);
  const std::string ca = dir / "ca.pem";
  Device a(dir, "a"), b(dir, "b");
  REQUIRE(a.Cmd({"init", "--server", proxied, "--token", central.Enrol("a", {kGap}), "--ca-file", ca}).exit_code == 0);
  REQUIRE(b.Cmd({"init", "--server", proxied, "--token", central.Enrol("b", {kGap}), "--ca-file", ca}).exit_code == 0);
  {
    std::ofstream cases(dir / "cases.jsonl");
    for (int i = 0; i < 2000; ++i) {
      cases << json{{"last_name", "Roux" + std::to_string(i)},
                    {"first_name", "Inès"},
                    {"opened_on", "2026-11-16"},
                    {"territory", kGap},
                    {"status", "demandeur_emploi"},
                    {"service_level", 1},
                    {"notes", std::string(200, 'n')}}
                   .dump()
            << "\n";
    }
  }
  REQUIRE(a.Cmd({"import", dir / "cases.jsonl", "--kind", "cases"}).exit_code == 0);
  CHECK(a.Sync()["pushed"] == 2000);
  CHECK(b.Sync()["pulled"] == 2000);
  CHECK(b.CaseCount() == 2000);
  // Every file nginx wrote is in its own folder.
  CHECK(fs::exists(dir.path() / "nginx" / "access.log"));
}

TEST_CASE("the documented nginx setup tells the centre the client's address and scheme, not the client's claims",
          "[proxy][e2e]") {
  if (!HaveNginx()) return;
  TempDir dir;
  MakeCertificates(dir);
  HeaderRecorder centre;
  Nginx nginx(dir, dir.path() / "nginx", centre.port());
  RunResult r = nginx.Curl(
      dir, "/v1/health",
      {"-H", "Authorization: Bearer jeton", "-H", "X-Forwarded-For: 203.0.113.9", "-H", "X-Forwarded-Proto: http"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(centre.Header("X-Forwarded-For") == "127.0.0.1");
  CHECK(centre.Header("X-Forwarded-Proto") == "https");
  CHECK(centre.Header("Host") == kHost);
  CHECK(centre.Header("Authorization") == "Bearer jeton");
}
