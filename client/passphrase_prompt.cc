#include "client/passphrase_prompt.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <memory>

#include <sodium.h>

namespace relais::client {

namespace {

// One line read from the terminal with echo off. kLocked when there is no terminal.
Result<std::string> ReadHidden(const std::string& question) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return MakeError(ErrorCode::kLocked, "pas de terminal pour demander la phrase de passe");
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) return MakeError(ErrorCode::kLocked, "pas de terminal pour demander la phrase de passe");
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  const std::string prompt = question + " : ";
  if (::write(fd, prompt.data(), prompt.size()) < 0) return MakeError(ErrorCode::kIo, "terminal illisible");
  ::tcsetattr(fd, TCSAFLUSH, &quiet);
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  ::tcsetattr(fd, TCSAFLUSH, &saved);
  return line;
}

}  // namespace

Result<std::string> PromptPassphrase(const std::string& question, bool confirm) {
  auto first = ReadHidden(question);
  if (!first || !confirm) return first;
  auto second = ReadHidden("Répétez-la");
  if (!second) return second;
  std::string a = *first;
  bool same = *second == a;
  sodium_memzero(second->data(), second->size());
  if (!same) return MakeError(ErrorCode::kValidation, "les deux phrases de passe diffèrent. Rien n'a été modifié.");
  return a;
}

}  // namespace relais::client
