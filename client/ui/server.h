// `relais-ui`, the program behind `relais ui` (docs/UI.md): the counsellor's pages served on
// loopback over the replica, for the person at the keyboard only (client/ui/guard.h).
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "client/records.h"

namespace relais::ui {

class Server {
 public:
  Server(client::Records& records, const Clock& clock);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds `host` (loopback only: kUsage otherwise) and `port` (0: any free one). The bound port.
  Result<int> Bind(const std::string& host, int port);
  // The address that opens a session: http://HOST:PORT/ouvrir?cle=SECRET.
  std::string OpeningUrl() const;
  // Serves until Stop() (or a signal that calls it).
  void Run();
  void Stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace relais::ui
