#include "stats/pdf.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

extern char** environ;

namespace relais::stats {

namespace {

constexpr auto kPrintTimeout = std::chrono::seconds(120);

Error Unavailable(const std::string& why) {
  return MakeError(ErrorCode::kIo, "PDF : " + why +
                                                " ; installez le paquet Debian chromium (scripts/setup.sh) ou "
                                                "demandez --format html");
}

// Runs `argv` with its output discarded; its exit status, or -1 when it could not start or was
// stopped after kPrintTimeout.
int RunQuietly(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + kPrintTimeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string ChromiumPath() {
  const char* given = std::getenv("RELAIS_CHROMIUM");
  return given && *given ? given : "/usr/bin/chromium";
}

Status HtmlToPdf(const std::string& html, const std::string& pdf_path) {
  const std::string chromium = ChromiumPath();
  if (access(chromium.c_str(), X_OK) != 0) return Unavailable("Chromium est introuvable (" + chromium + ")");
  std::string pattern = (std::filesystem::temp_directory_path() / "relais-report-XXXXXX").string();
  if (!mkdtemp(pattern.data())) return Unavailable("dossier temporaire impossible à créer");
  const std::filesystem::path dir = pattern;
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  const std::string page = (dir / "rapport.html").string();
  {
    std::ofstream out(page, std::ios::binary);
    out << html;
    if (!out) return Unavailable("la page n'a pas pu être écrite dans " + dir.string());
  }
  const std::string printed = (dir / "rapport.pdf").string();
  // Chromium's sandbox refuses to run as root (the page is ours, written just above); /dev/shm
  // is small in containers.
  const int status = RunQuietly({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                 "--no-pdf-header-footer", "--user-data-dir=" + (dir / "profil").string(),
                                 "--print-to-pdf=" + printed, "file://" + page});
  std::error_code ec;
  if (status != 0 || !std::filesystem::exists(printed, ec) || std::filesystem::file_size(printed, ec) == 0)
    return Unavailable("Chromium n'a pas imprimé le rapport (code " + std::to_string(status) + ")");
  std::filesystem::copy_file(printed, pdf_path, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return MakeError(ErrorCode::kIo, "PDF : impossible d'écrire " + pdf_path + " : " + ec.message());
  chmod(pdf_path.c_str(), 0600);
  return OkStatus();
}

}  // namespace relais::stats
