#include "tests/e2e/run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>

extern char** environ;

namespace relais::e2e {

namespace {

using Clock = std::chrono::steady_clock;

// Run's body; past `deadline`, when there is one, the child is SIGKILLed and its pipes drained.
RunResult RunUntil(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
                   const std::string& stdin_text, const std::filesystem::path& cwd,
                   std::optional<Clock::time_point> deadline) {
  signal(SIGPIPE, SIG_IGN);  // a child that exits without reading its stdin must not kill the test
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) vars[k] = v;
  std::vector<std::string> env_strings;
  env_strings.reserve(vars.size());
  for (const auto& [k, v] : vars) env_strings.push_back(std::string(k).append("=").append(v));
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  }

  RunResult result;
  size_t written = 0;
  int in_fd = in[1];
  if (stdin_text.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open || in_fd >= 0) {
    pollfd fds[3];
    nfds_t n = 0;
    if (out_open) fds[n++] = {out[0], POLLIN, 0};
    if (err_open) fds[n++] = {err[0], POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    int wait_ms = -1;
    if (deadline && !result.timed_out) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) {
        ::kill(pid, SIGKILL);  // its pipes close as it dies: the loop then ends by itself
        result.timed_out = true;
        continue;
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left, 1000));
    }
    if (poll(fds, n, wait_ms) < 0) continue;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = write(in_fd, stdin_text.data() + written, stdin_text.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == stdin_text.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        (fds[i].fd == out[0] ? result.out : result.err).append(buf, static_cast<size_t>(r));
      } else {
        close(fds[i].fd);
        (fds[i].fd == out[0] ? out_open : err_open) = false;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace

RunResult Run(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
              const std::string& stdin_text, const std::filesystem::path& cwd) {
  return RunUntil(argv, env, stdin_text, cwd, std::nullopt);
}

RunResult RunWithin(const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
  return RunUntil(argv, {}, "", {}, Clock::now() + limit);
}

Listening SpawnListening(const std::vector<std::string>& argv, const std::string& log, std::chrono::milliseconds wait,
                         const std::function<bool()>& interrupted, const std::string& prefix) {
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  std::vector<std::string> argv_copy = argv;
  std::vector<char*> args;
  args.reserve(argv_copy.size() + 1);
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  Listening server;
  int rc = posix_spawnp(&server.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + command + ": " + std::strerror(rc));
  }
  std::string line;
  const auto deadline = Clock::now() + wait;
  while (line.find('\n') == std::string::npos && Clock::now() < deadline && !(interrupted && interrupted())) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buf[256];
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
  }
  close(fds[0]);
  const auto at = line.find(prefix);
  if (at == std::string::npos) {
    ::kill(server.pid, SIGKILL);
    int status;
    waitpid(server.pid, &status, 0);
    std::ifstream in(log);
    std::string logged((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw std::runtime_error(command + " did not start: " + line + logged.substr(0, 2000));
  }
  server.url = line.substr(at + prefix.size());
  server.url = server.url.substr(0, server.url.find('\n'));
  return server;
}

std::filesystem::path Artefacts() {
  const char* given = std::getenv("RELAIS_TEST_ARTEFACTS");
  std::filesystem::path dir = given && *given ? given : "test-artefacts";
  std::filesystem::create_directories(dir);
  return dir;
}

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace relais::e2e
