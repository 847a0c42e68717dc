#include "client/ui/guard.h"

#include <sodium.h>

#include <string_view>

namespace relais::ui {

std::string RandomToken() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

bool SameToken(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool OwnHost(const std::string& host, int port) {
  const std::string suffix = ":" + std::to_string(port);
  for (const char* name : {"127.0.0.1", "localhost", "[::1]"}) {
    if (host == std::string(name) + suffix) return true;
  }
  return false;
}

bool LoopbackPeer(const std::string& address) {
  std::string_view a = address;
  if (a.substr(0, 7) == "::ffff:") a.remove_prefix(7);
  return a == "::1" || a.substr(0, 4) == "127.";
}

bool LoopbackListen(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ';')) ++at;
    const size_t end = std::min(header.find(';', at), header.size());
    const std::string_view pair = std::string_view(header).substr(at, end - at);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    at = end;
  }
  return "";
}

}  // namespace relais::ui
