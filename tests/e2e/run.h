// Runs a program the way a person or a script would, for end-to-end tests: separate stdout and
// stderr, the exit code, extra environment variables. Shared by every e2e test file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace relais::e2e {

// The passphrase of every replica the tests make (RELAIS_PASSPHRASE, set by tests/e2e/replica_key.cc).
inline constexpr char kTestPassphrase[] = "phrase de passe des tests";

struct RunResult {
  int exit_code = -1;      // the program's exit status; 128 + signal when it was killed
  std::string out;         // everything written on stdout
  std::string err;         // everything written on stderr
  bool timed_out = false;  // RunWithin killed it at its time limit (exit_code is then 128 + SIGKILL)
};

// Runs argv[0] (a path) with its arguments, waits for it and returns what it wrote. `env` adds or
// overrides environment variables of this process; `stdin_text` is written on its standard input;
// `cwd`, when not empty, is its working folder. Reading both pipes at once, it never deadlocks on a
// chatty child.
RunResult Run(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env = {},
              const std::string& stdin_text = "", const std::filesystem::path& cwd = {});

// As Run, but the program is SIGKILLed when it has not finished within `limit`: a test that
// drives a program over a slow network bounds its wait. Whatever it wrote until then is returned.
RunResult RunWithin(const std::vector<std::string>& argv, std::chrono::milliseconds limit);

// A server that said it listens: its process and the URL of its "listening on URL" line.
struct Listening {
  pid_t pid = -1;
  std::string url;
};

// Starts argv[0] (a path, or a name looked up in PATH) with its arguments, its stdout read here and
// its stderr appended to `log`, and waits up to `wait` for the line "listening on URL" that
// `relais-central serve` prints once it accepts connections (`prefix` for another program's words). When the line does not come (the
// program failed, `wait` passed, or `interrupted` says so), the program is killed and
// std::runtime_error names the command, what it printed and the start of `log`. The caller owns
// the process: it stops it and waits for it.
Listening SpawnListening(const std::vector<std::string>& argv, const std::string& log, std::chrono::milliseconds wait,
                         const std::function<bool()>& interrupted = {}, const std::string& prefix = "listening on ");

// Where a test keeps what a person would look at (screenshots): $RELAIS_TEST_ARTEFACTS, else
// test-artefacts in the folder the test runs in (ctest: the build folder). Made when missing.
std::filesystem::path Artefacts();

// A fresh empty folder under the system temp folder, removed with its content at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "relais-e2e");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace relais::e2e
