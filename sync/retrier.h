// Asking the centre, for every phase of a sync: a request retried while its failure may pass, and
// an answer the centre refused turned into the facts of a SyncError.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

#include "sync/engine.h"

namespace relais::sync {

// Whether an answer of this status may come out otherwise if asked again (5xx, 429, 408).
bool Retryable(int status);

// The SyncError of an answer the centre refused (`reply.status` is not 200): what its error body
// says, kAuth for a 401 (kWipeOrdered for a 401 revoked_wipe, with the store_id it names); kNotACentre
// when the body is not a Relais error (another server answered).
SyncError Refused(const HttpReply& reply, Exchange exchange);

// Runs a request until it gets an answer worth keeping, with exponential backoff between tries.
// Counts the retries in `retries`. Thread-safe: two pushes may be under way at once.
class Retrier {
 public:
  Retrier(const SyncOptions& options, int64_t& retries) : options_(options), retries_(retries) {}

  // Runs `call` (returning Result<HttpReply>) until it gets an answer whose status is not
  // Retryable, or SyncOptions::max_attempts tries are spent: then a kUnreachable SyncError about
  // `exchange`.
  template <class F>
  SyncResult<HttpReply> Run(F&& call, Exchange exchange) {
    int64_t backoff = options_.first_backoff_ms;
    SyncError unreachable = MakeSyncError(SyncFailure::kUnreachable, ErrorCode::kNetwork, {}, exchange, 0);
    unreachable.attempts = options_.max_attempts;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
      Result<HttpReply> reply = call();
      if (reply.ok() && !Retryable(reply->status)) return std::move(*reply);
      unreachable.http_status = reply.ok() ? reply->status : 0;
      unreachable.message = reply.ok() ? std::string() : reply.error().message;
      if (attempt == options_.max_attempts) break;
      {
        std::lock_guard lock(mu_);
        ++retries_;
      }
      Sleep(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff_ms);
    }
    return unreachable;
  }

 private:
  void Sleep(int64_t ms) {
    if (options_.sleep)
      options_.sleep(ms);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }

  const SyncOptions& options_;
  int64_t& retries_;
  std::mutex mu_;
};

}  // namespace relais::sync
