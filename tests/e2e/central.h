// A real `relais-central serve` process for end-to-end tests, on a port the OS picks.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/run.h"

extern char** environ;

namespace relais::e2e {

inline std::string CentralBinary() { return std::string(RELAIS_BINARY_DIR) + "/relais-central"; }
inline std::string RelaisBinary() { return std::string(RELAIS_BINARY_DIR) + "/relais"; }

class Central {
 public:
  explicit Central(std::filesystem::path dir) : dir_(std::move(dir)), db_((dir_ / "central.db").string()) {}
  ~Central() { Kill(SIGKILL); }
  Central(const Central&) = delete;
  Central& operator=(const Central&) = delete;

  // Starts the server and waits (up to 10 s) for its "listening on URL" line. On a restart the
  // server gets a new port: url() changes, so replicas are re-bound with Rebind().
  void Start() {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::string log = (dir_ / "server.log").string();
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<std::string> args = {CentralBinary(), "serve", "--db", db_, "--listen", "127.0.0.1:" + std::to_string(port_)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) throw std::runtime_error("spawn relais-central");
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[256];
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        line.append(buf, static_cast<size_t>(n));
      }
    }
    close(fds[0]);
    const std::string prefix = "listening on ";
    auto at = line.find(prefix);
    if (at == std::string::npos) throw std::runtime_error("relais-central did not start: " + line);
    url_ = line.substr(at + prefix.size());
    url_ = url_.substr(0, url_.find('\n'));
    port_ = std::stoi(url_.substr(url_.rfind(':') + 1));  // a restart reuses the port
  }

  void Kill(int sig) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  bool Running() const { return pid_ > 0; }
  const std::string& url() const { return url_; }
  const std::string& db() const { return db_; }

  // Enrols a device; returns its token.
  std::string Enrol(const std::string& name, const std::vector<std::string>& territories) {
    std::vector<std::string> args = {CentralBinary(), "device", "add", "--db", db_, "--name", name, "--json"};
    for (const auto& t : territories) {
      args.push_back("--territory");
      args.push_back(t);
    }
    RunResult r = Run(args);
    if (r.exit_code != 0) throw std::runtime_error("device add failed: " + r.err);
    return nlohmann::json::parse(r.out)["token"].get<std::string>();
  }

 private:
  std::filesystem::path dir_;
  std::string db_;
  std::string url_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Starts argv (a path and its arguments), lets it run `delay_ms`, then SIGKILLs it: a battery that
// dies mid-command. Its output is discarded. Returns true when the kill found it still running,
// false when it had already finished.
inline bool RunAndKill(std::vector<std::string> args, int delay_ms) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  int status = 0;
  const bool running = waitpid(pid, &status, WNOHANG) == 0;
  if (running) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  return running;
}

}  // namespace relais::e2e
