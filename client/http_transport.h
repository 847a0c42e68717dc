#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include <cstdint>
#include <string>

#include "sync/engine.h"

namespace relais::client {

// sync::Transport over libcurl: bodies of requests gzip-compressed, answers accepted gzip and
// inflated here with a size limit, token in `Authorization: Bearer`, protocol version in
// `Relais-Protocol`. Connect timeout 10 s; a transfer that moves no byte for 30 s, or lasts more
// than 10 minutes, fails with kNetwork. Not thread-safe: one sync at a time.
class HttpTransport final : public sync::Transport {
 public:
  HttpTransport(std::string base_url, std::string token);
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  Result<sync::HttpReply> Post(const std::string& path, const std::string& json_body) override;
  Result<sync::HttpReply> PostGzip(const std::string& path, const std::string& gzip_body) override;
  Result<sync::HttpReply> Get(const std::string& path_and_query) override;
  // Each request under way has a libcurl handle (and its kept-alive connection) of its own.
  bool Concurrent() const override { return true; }
  uint64_t bytes_sent() const override { return bytes_sent_; }
  uint64_t bytes_received() const override { return bytes_received_; }
  uint64_t requests() const override { return requests_; }

  // For tests of stalls: the transfer timeouts in seconds.
  void SetTimeouts(long connect_s, long stall_s, long total_s);
  // Trusts the CA certificates of this PEM file (a network's own CA) instead of the system's.
  // The centre's certificate and host name are verified whatever is set here.
  void SetCaFile(std::string path) { ca_file_ = std::move(path); }
  // From now on every request tells the centre that `changes` of this device's changes are not
  // accepted yet (header Relais-Pending: docs/PROTOCOL.md, "Transport"). Not sent until set.
  void ReportPending(int64_t changes) { pending_report_ = changes; }

 private:
  // `gzip_body`: the request's body, compressed; none for a GET.
  Result<sync::HttpReply> Perform(const std::string& path, const std::string* gzip_body);

  // A libcurl handle not in use, made if none is: each keeps its connection alive for the next.
  void* TakeHandle();
  void GiveBack(void* handle);

  std::string base_url_;
  std::string token_;
  std::string ca_file_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL*, not in use
  long connect_s_ = 10, stall_s_ = 30, total_s_ = 600;
  std::atomic<uint64_t> bytes_sent_{0}, bytes_received_{0}, requests_{0};
  std::atomic<int64_t> pending_report_{-1};  // -1: not reported
};

}  // namespace relais::client
