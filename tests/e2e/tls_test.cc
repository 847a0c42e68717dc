// The centre over real TLS (docs/SERVER.md, "TLS"): certificates made by the test with the openssl
// command in a temporary folder, the real `relais-central serve --tls-cert --tls-key`, the real
// `relais init --ca-file` and `relais sync`.
#include <signal.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

namespace relais::e2e {
namespace {

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

void OpenSsl(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");  // (Run() takes a path, not a name to look up)
  RunResult r = Run(args, {}, "", dir.path());
  INFO("openssl " << args[1] << ": " << r.err);
  REQUIRE(r.exit_code == 0);
}

// A certificate authority `name`: name.key and name.pem in `dir`.
void MakeCa(const TempDir& dir, const std::string& name) {
  OpenSsl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=Relais test CA " + name, "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
}

// A server certificate for `san` ("IP:127.0.0.1", "DNS:autre.exemple.fr") signed by `ca`:
// name.key and name.pem in `dir`.
void MakeServerCert(const TempDir& dir, const std::string& ca, const std::string& name, const std::string& san) {
  OpenSsl(dir, {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
                "-out", name + ".csr", "-subj", "/CN=" + san.substr(san.find(':') + 1)});
  WriteFile(dir / (name + ".ext"), "subjectAltName=" + san +
                                       "\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                       "extendedKeyUsage=serverAuth\n");
  OpenSsl(dir, {"x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext"});
}

void StartTls(Central& central, const TempDir& dir, const std::string& name) {
  central.ServeArgs({"--tls-cert", dir / (name + ".pem"), "--tls-key", dir / (name + ".key")});
  central.Start();
}

RunResult InitWith(const Device& d, const Central& c, const std::string& token, const std::string& ca_file) {
  std::vector<std::string> args = {"init", "--server", c.url(), "--token", token};
  if (!ca_file.empty()) {
    args.push_back("--ca-file");
    args.push_back(ca_file);
  }
  return d.Cmd(args);
}

// Waits (up to 10 s) for `text` in the centre's log: the line it writes once a signal is handled.
bool LogSays(const Central& central, const std::string& text, size_t from) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    const std::string log = central.Log();
    if (log.size() > from && log.find(text, from) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST_CASE("devices sync over TLS with their network's CA, and are refused without it", "[e2e][tls]") {
  TempDir dir;
  MakeCa(dir, "ca");
  MakeServerCert(dir, "ca", "server", "IP:127.0.0.1");
  Central central(dir.path());
  StartTls(central, dir, "server");
  REQUIRE(central.url().rfind("https://127.0.0.1:", 0) == 0);

  Device a(dir, "a"), b(dir, "b");
  const std::string token_a = central.Enrol("a", {"05"}), token_b = central.Enrol("b", {"05"});

  // Without the CA, the centre's certificate is not trusted: nothing is stored, a clear message.
  const std::string before = a.Cmd({"status", "--json"}).out;
  RunResult refused = InitWith(a, central, token_a, "");
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("certificat du centre") != std::string::npos);
  CHECK(refused.err.find("--ca-file") != std::string::npos);
  CHECK(a.Cmd({"status", "--json"}).out == before);

  RunResult init = InitWith(a, central, token_a, dir / "ca.pem");
  INFO(init.err);
  REQUIRE(init.exit_code == 0);
  CHECK(a.Json({"status"})["ca_file"] == dir / "ca.pem");
  for (int i = 0; i < 30; ++i) a.AddCase("Tls" + std::to_string(i), "Camille", "05");
  a.Sync();
  REQUIRE(InitWith(b, central, token_b, dir / "ca.pem").exit_code == 0);
  b.Sync();
  CHECK(b.CaseCount() == 30);
  CHECK(central.Count("SELECT count(*) FROM cases") == 30);
}

TEST_CASE("a centre whose certificate names another host is refused, even with its CA", "[e2e][tls]") {
  TempDir dir;
  MakeCa(dir, "ca");
  MakeServerCert(dir, "ca", "other", "DNS:autre.exemple.fr");
  Central central(dir.path());
  StartTls(central, dir, "other");
  Device a(dir, "a");
  RunResult refused = InitWith(a, central, central.Enrol("a", {"05"}), dir / "ca.pem");
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("certificat du centre") != std::string::npos);
}

TEST_CASE("SIGHUP serves the new certificate; a bad one leaves the old in service", "[e2e][tls]") {
  TempDir dir;
  MakeCa(dir, "ca1");
  MakeCa(dir, "ca2");
  MakeServerCert(dir, "ca1", "first", "IP:127.0.0.1");
  MakeServerCert(dir, "ca2", "second", "IP:127.0.0.1");
  std::filesystem::copy_file(dir / "first.pem", dir / "live.pem");
  std::filesystem::copy_file(dir / "first.key", dir / "live.key");
  Central central(dir.path());
  StartTls(central, dir, "live");
  const std::string token = central.Enrol("a", {"05"});
  Device a(dir, "a"), b(dir, "b");
  REQUIRE(InitWith(a, central, token, dir / "ca1.pem").exit_code == 0);

  // Renewed: the files are replaced, then the centre is told.
  std::filesystem::copy_file(dir / "second.pem", dir / "live.pem", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(dir / "second.key", dir / "live.key", std::filesystem::copy_options::overwrite_existing);
  size_t from = central.Log().size();
  ::kill(central.pid(), SIGHUP);
  REQUIRE(LogSays(central, "certificat TLS rechargé", from));
  CHECK(InitWith(b, central, token, dir / "ca2.pem").exit_code == 0);
  RunResult old_ca = a.Cmd({"sync"});
  CHECK(old_ca.exit_code != 0);
  CHECK(old_ca.err.find("certificat du centre") != std::string::npos);

  // A broken file: the reason is logged and the certificate in service stays.
  WriteFile(dir / "live.pem", "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
  from = central.Log().size();
  ::kill(central.pid(), SIGHUP);
  REQUIRE(LogSays(central, "l'ancien reste en service", from));
  CHECK(b.Cmd({"sync"}).exit_code == 0);
}

TEST_CASE("serve refuses unreadable or mismatched TLS files at start, in French", "[e2e][tls]") {
  TempDir dir;
  MakeCa(dir, "ca");
  MakeServerCert(dir, "ca", "server", "IP:127.0.0.1");
  MakeServerCert(dir, "ca", "stranger", "IP:127.0.0.1");
  WriteFile(dir / "garbage.pem", "ceci n'est pas un certificat\n");
  auto serve = [&](const std::string& cert, const std::string& key) {
    return Run({CentralBinary(), "serve", "--db", dir / "central.db", "--listen", "127.0.0.1:0", "--tls-cert", cert,
                "--tls-key", key});
  };
  RunResult garbage = serve(dir / "garbage.pem", dir / "server.key");
  CHECK(garbage.exit_code != 0);
  CHECK(garbage.err.find("--tls-cert") != std::string::npos);
  CHECK(garbage.err.find("aucun certificat") != std::string::npos);
  RunResult missing = serve(dir / "absent.pem", dir / "server.key");
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("illisible ou absent") != std::string::npos);
  RunResult mismatch = serve(dir / "server.pem", dir / "stranger.key");
  CHECK(mismatch.exit_code != 0);
  CHECK(mismatch.err.find("n'est pas la clé du certificat") != std::string::npos);
  CHECK(mismatch.out.find("listening") == std::string::npos);
}

TEST_CASE("plain HTTP on a network address is warned about at every start, not on loopback", "[e2e][tls]") {
  TempDir dir;
  Central loopback(dir.path());
  loopback.Start();
  loopback.Kill(SIGTERM);
  CHECK(loopback.Log().find("ATTENTION") == std::string::npos);
  std::filesystem::remove(dir / "server.log");
  Central open(dir.path());
  open.RunInside({}, "0.0.0.0");
  open.Start();
  CHECK(open.url().rfind("http://0.0.0.0:", 0) == 0);
  REQUIRE(LogSays(open, "ATTENTION : HTTP en clair", 0));
  CHECK(open.Log().find("docs/SERVER.md") != std::string::npos);
}

}  // namespace relais::e2e
