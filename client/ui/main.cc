// relais-ui — the counsellor's pages over the local replica, served on loopback (docs/UI.md).
// Started by `relais ui`, which finds the replica and passes it with --db; a program of its own so
// that the web server's libraries are loaded by it alone, not by every `relais` command.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "base/clock.h"
#include "base/hardening.h"
#include "client/passphrase_prompt.h"
#include "client/replica.h"
#include "client/replica_key.h"
#include "client/ui/server.h"

extern char** environ;

namespace {

relais::ui::Server* g_server = nullptr;
std::string g_opening_dir;  // the private folder of the opening page, removed when the program ends

void StopOnSignal(int) {
  if (g_server) g_server->Stop();
}

// Opens `url` in the person's browser without showing the secret to the other users of the machine
// (a command line is public, in /proc): a page that redirects to it, in a folder only its owner can
// read, is what xdg-open is given.
void OpenBrowser(const std::string& url) {
  char dir[] = "/tmp/relais-ui-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return;
  g_opening_dir = dir;
  const std::string page = std::string(dir) + "/ouvrir.html";
  {
    const int fd = ::open(page.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return;
    const std::string html = "<!DOCTYPE html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url=" +
                             url + "\"><title>Relais</title><a href=\"" + url + "\">Ouvrir Relais</a>";
    (void)!::write(fd, html.data(), html.size());
    ::close(fd);
  }
  const std::string target = "file://" + page;
  char* argv[] = {const_cast<char*>("xdg-open"), const_cast<char*>(target.c_str()), nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "xdg-open", nullptr, nullptr, argv, environ) != 0) {
    std::cerr << "Aucun navigateur n'a pu être ouvert : ouvrez vous-même l'adresse ci-dessus.\n";
  }
}

int Run(int argc, char** argv) {
  CLI::App app{"relais-ui — les pages de Relais sur ce poste (lancé par « relais ui »)"};
  std::string db, listen = "127.0.0.1:8731";
  bool no_browser = false;
  app.add_option("--db", db, "Fichier de la base locale")->required();
  app.add_option("--listen", listen, "Adresse d'écoute, sur ce poste seulement (défaut 127.0.0.1:8731)");
  app.add_flag("--no-browser", no_browser, "Ne pas ouvrir le navigateur (l'adresse est affichée)");
  CLI11_PARSE(app, argc, argv);
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size() ||
      listen.find_first_not_of("0123456789", colon + 1) != std::string::npos || listen.size() - colon > 6) {
    std::cerr << "erreur : --listen " << listen << " : attendu HÔTE:PORT, par exemple 127.0.0.1:8731\n";
    return 2;
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const int port = std::stoi(listen.substr(colon + 1));

  relais::client::Passphrases passphrases;
  if (const char* env = std::getenv("RELAIS_PASSPHRASE"); env != nullptr && *env != '\0') passphrases.environment = env;
  if (::isatty(STDIN_FILENO) != 0) passphrases.prompt = relais::client::PromptPassphrase;
  if (auto ready = relais::client::PrepareReplicaKey(db, passphrases); !ready) {
    std::cerr << "erreur : " << ready.error().message << "\n";
    return ready.error().code == relais::ErrorCode::kLocked ? 5 : 1;
  }
  auto replica = relais::client::Replica::Open(db, relais::SystemClock::Instance());
  if (!replica) {
    std::cerr << "erreur : " << replica.error().message << "\n";
    return 1;
  }
  relais::client::Records records(*replica);
  relais::ui::Server server(records, relais::SystemClock::Instance());
  auto bound = server.Bind(host, port);
  if (!bound) {
    std::cerr << "erreur : " << bound.error().message << "\n";
    return bound.error().code == relais::ErrorCode::kUsage ? 2 : 1;
  }
  g_server = &server;
  std::signal(SIGINT, StopOnSignal);
  std::signal(SIGTERM, StopOnSignal);
  std::signal(SIGPIPE, SIG_IGN);  // a browser that closes its connection early ends a write, not the program
  std::cout << "Relais est ouvert sur ce poste : " << server.OpeningUrl() << "\n"
            << "Cette adresse est personnelle : ne la partagez pas. Ctrl+C pour fermer." << std::endl;
  if (!no_browser) OpenBrowser(server.OpeningUrl());
  server.Run();
  if (!g_opening_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(g_opening_dir, ignored);  // the page holds the opening key
  }
  std::cout << "Relais fermé." << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  relais::HardenProcess();
  return Run(argc, argv);
}
