// Who may talk to `relais ui` (docs/UI.md, "Only the person at the keyboard"): the program listens
// on loopback only; the URL it opens carries a random secret that becomes an HttpOnly, SameSite
// cookie; every request must carry that cookie and name the program's own address in `Host` (a
// DNS-rebinding page names its own); every form carries the session's CSRF token and comes from
// the program's own `Origin`. Pure functions over what a request carries, so that they can be
// tested without a socket.
#pragma once

#include <string>

namespace relais::ui {

// 32 random bytes from libsodium, as 64 hexadecimal characters.
std::string RandomToken();

// Equality of two tokens in time independent of where they differ (sodium_memcmp).
bool SameToken(const std::string& a, const std::string& b);

// Whether `host` (a Host header) names this program: 127.0.0.1, localhost or [::1], with `port`.
bool OwnHost(const std::string& host, int port);

// Whether `address` (the peer's) is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.x.x).
bool LoopbackPeer(const std::string& address);

// Whether a listening address given to --listen is a loopback one (refused otherwise).
bool LoopbackListen(const std::string& host);

// The value of cookie `name` in a Cookie header, or "".
std::string CookieValue(const std::string& header, const std::string& name);

}  // namespace relais::ui
