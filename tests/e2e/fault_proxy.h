// A fault-injecting HTTP proxy on loopback, between `relais` and `relais-central`, for tests. Each
// new client connection takes the next fault of a schedule (then kNone once it is used up): refuse,
// cut the request or the answer midway, answer 502/503 without asking the server, or deliver the
// request to the server twice. Requests are read whole (headers and Content-Length body) before a
// fault applies, so faults land on HTTP message boundaries or exactly inside them.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace relais::e2e {

enum class Fault {
  kNone,          // forward faithfully
  kRefuse,        // close the connection at once
  kCutRequest,    // forward half the request to the server, then close both sides
  kCutResponse,   // forward the request, return half the answer, then close
  kAnswer502,     // answer 502 without asking the server
  kAnswer503,     // answer 503 without asking the server
  kDeliverTwice,  // send the request to the server twice, return the second answer
  kTruncateBody,  // return the answer's headers whole and its body cut short, then close
  kStall,         // take the request and answer nothing for 5 s (past the client's stall timeout)
};

class FaultProxy {
 public:
  FaultProxy(int upstream_port, std::vector<Fault> schedule) : upstream_port_(upstream_port) {
    for (Fault f : schedule) schedule_.push_back(f);
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener_, 16) != 0) {
      throw std::runtime_error("proxy cannot listen");
    }
    socklen_t len = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~FaultProxy() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    acceptor_.join();
    for (auto& t : workers_) t.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int faults_injected() const { return injected_; }
  // Bytes of the requests read from clients and of the answers written to them, whole HTTP
  // messages (headers and bodies) as they went over the sockets.
  uint64_t bytes_from_clients() const { return from_clients_; }
  uint64_t bytes_to_clients() const { return to_clients_; }

 private:
  Fault Next() {
    std::lock_guard<std::mutex> lock(mu_);
    if (schedule_.empty()) return Fault::kNone;
    Fault f = schedule_.front();
    schedule_.pop_front();
    if (f != Fault::kNone) ++injected_;
    return f;
  }

  void AcceptLoop() {
    while (!stopping_) {
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) break;
      Fault fault = Next();
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, client, fault] { Serve(client, fault); });
    }
  }

  int ConnectUpstream() const {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  // Reads one HTTP message (headers, then Content-Length bytes). Empty when the peer closed.
  static std::string ReadMessage(int fd, std::string& buffer) {
    while (buffer.find("\r\n\r\n") == std::string::npos) {
      if (!Fill(fd, buffer)) return {};
    }
    size_t head = buffer.find("\r\n\r\n") + 4;
    size_t length = 0;
    std::string lower = buffer.substr(0, head);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto at = lower.find("content-length:"); at != std::string::npos) length = std::stoul(lower.substr(at + 15));
    while (buffer.size() < head + length) {
      if (!Fill(fd, buffer)) return {};
    }
    std::string message = buffer.substr(0, head + length);
    buffer.erase(0, head + length);
    return message;
  }

  static bool Fill(int fd, std::string& buffer) {
    char chunk[16384];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }

  static void WriteAll(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  // Forwards one request and returns the server's answer (empty on failure).
  std::string Exchange(const std::string& request, int& upstream, std::string& upstream_buffer) const {
    if (upstream < 0) upstream = ConnectUpstream();
    if (upstream < 0) return {};
    WriteAll(upstream, request);
    return ReadMessage(upstream, upstream_buffer);
  }

  void Serve(int client, Fault fault) {
    std::string client_buffer, upstream_buffer;
    int upstream = -1;
    if (fault == Fault::kRefuse) {
      close(client);
      return;
    }
    while (true) {
      std::string request = ReadMessage(client, client_buffer);
      if (request.empty()) break;
      from_clients_ += request.size();
      if (fault == Fault::kAnswer502 || fault == Fault::kAnswer503) {
        std::string status = fault == Fault::kAnswer502 ? "502 Bad Gateway" : "503 Service Unavailable";
        WriteAll(client, "HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        break;
      }
      if (fault == Fault::kStall) {
        for (int i = 0; i < 50 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        break;
      }
      if (fault == Fault::kCutRequest) {
        upstream = ConnectUpstream();
        if (upstream >= 0) WriteAll(upstream, request.substr(0, request.size() / 2));
        break;
      }
      if (fault == Fault::kDeliverTwice) {
        int first = -1;
        std::string first_buffer;
        Exchange(request, first, first_buffer);
        if (first >= 0) close(first);
      }
      std::string answer = Exchange(request, upstream, upstream_buffer);
      if (answer.empty()) break;
      if (fault == Fault::kCutResponse) {
        WriteAll(client, answer.substr(0, answer.size() / 2));
        break;
      }
      if (fault == Fault::kTruncateBody) {
        const size_t head = answer.find("\r\n\r\n") + 4;
        WriteAll(client, answer.substr(0, head + (answer.size() - head) / 2));
        break;
      }
      WriteAll(client, answer);
      to_clients_ += answer.size();
      fault = Fault::kNone;  // the rest of this connection is faithful
    }
    if (upstream >= 0) close(upstream);
    close(client);
  }

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::deque<Fault> schedule_;
  int injected_ = 0;
  std::atomic<uint64_t> from_clients_{0}, to_clients_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace relais::e2e
