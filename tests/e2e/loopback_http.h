// A small HTTP server inside an end-to-end test: cpp-httplib on a loopback port the system picks,
// serving on a thread of its own from construction to destruction. For fake centres and the
// servers that watch what a program sends.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>
#include <thread>

namespace relais::e2e {

class LoopbackHttp {
 public:
  // `answer` answers every request, whatever its method and path, on the server's threads.
  explicit LoopbackHttp(std::function<void(const httplib::Request&, httplib::Response&)> answer) {
    server_.set_pre_routing_handler([answer = std::move(answer)](const httplib::Request& req, httplib::Response& res) {
      answer(req, res);
      return httplib::Server::HandlerResponse::Handled;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The socket listens from bind_to_any_port on; stop() needs the loop to have started.
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~LoopbackHttp() {
    server_.stop();
    thread_.join();
  }
  LoopbackHttp(const LoopbackHttp&) = delete;
  LoopbackHttp& operator=(const LoopbackHttp&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace relais::e2e
