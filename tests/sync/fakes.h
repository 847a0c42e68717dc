// In-memory stand-ins for the engine's two ports (sync/ports.h), for the tests of one phase at a
// time: a replica that keeps what the engine asked of it, and a centre answered by a function.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/gzip.h"
#include "sync/codec.h"
#include "sync/engine.h"

namespace relais::sync::testing {

// An outbox of `pending` changes formed into batches "b1", "b2"… in order, and a scope digest. It
// keeps every call the engine made.
class FakeReplica final : public ReplicaPort {
 public:
  Result<std::optional<PushRequest>> UnacknowledgedBatch() override {
    if (unacknowledged.empty()) return std::optional<PushRequest>();
    return std::optional<PushRequest>(unacknowledged.front());
  }
  Result<std::optional<PushRequest>> FormBatch(size_t max_changes) override {
    if (pending.empty()) return std::optional<PushRequest>();
    PushRequest batch{"b" + std::to_string(++batches_formed_), {}};
    while (!pending.empty() && batch.changes.size() < max_changes) {
      batch.changes.push_back(pending.front());
      pending.pop_front();
    }
    formed.push_back(batch);
    return std::optional<PushRequest>(batch);
  }
  Status AcknowledgeBatch(const PushRequest& request, const PushResponse&) override {
    acknowledged.push_back(request.batch_key);
    if (!unacknowledged.empty() && unacknowledged.front().batch_key == request.batch_key) unacknowledged.pop_front();
    for (auto it = formed.begin(); it != formed.end(); ++it) {
      if (it->batch_key == request.batch_key) {
        formed.erase(it);
        break;
      }
    }
    return OkStatus();
  }
  // As the replica does: the change rejected, every formed batch's other changes back to pending,
  // in order, before what was pending.
  Status RejectChange(const std::string& batch_key, const std::string& change_id, const std::string& reason) override {
    rejected.push_back({batch_key, change_id, reason});
    std::deque<Change> back;
    for (const PushRequest& b : formed) {
      for (const Change& c : b.changes) {
        if (c.change_id != change_id) back.push_back(c);
      }
    }
    formed.clear();
    pending.insert(pending.begin(), back.begin(), back.end());
    return OkStatus();
  }
  Result<int64_t> PullCursor() override { return cursor; }
  Status ApplyPage(const PullPage& page) override {
    applied.push_back(page.since);
    cursor = page.next;
    return OkStatus();
  }
  Result<int64_t> PendingCount() override {
    size_t n = pending.size();
    for (const PushRequest& b : unacknowledged) n += b.changes.size();
    return static_cast<int64_t>(n);
  }
  Result<ScopeDigest> LocalDigest() override {
    ++digests_read;
    return swapped ? digest_after_copy : digest;
  }
  Status BeginFreshCopy() override {
    staged.clear();
    return OkStatus();
  }
  Status StageFreshPage(const PullPage& page) override {
    staged.push_back(page.since);
    return OkStatus();
  }
  Status SwapInFreshCopy(int64_t next) override {
    swapped = true;
    cursor = next;
    return OkStatus();
  }
  Result<int64_t> ObserveCentralClock(int64_t) override { return int64_t{0}; }

  struct Rejected {
    std::string batch_key, change_id, reason;
  };
  std::deque<PushRequest> unacknowledged;
  std::deque<Change> pending;
  std::vector<PushRequest> formed;  // formed and not acknowledged
  std::vector<std::string> acknowledged;
  std::vector<Rejected> rejected;
  int64_t cursor = 0;
  std::vector<int64_t> applied, staged;  // the `since` of each page applied, or staged for a fresh copy
  ScopeDigest digest, digest_after_copy;
  bool swapped = false;
  int digests_read = 0;

 private:
  int batches_formed_ = 0;
};

// A centre whose every answer `answer` gives, from the method ("GET", "POST") and path (and, for a
// push, the decompressed body). It keeps what was asked, in order. Thread-safe.
class FakeCentre final : public Transport {
 public:
  using Answer =
      std::function<Result<HttpReply>(const std::string& method, const std::string& path, const std::string& body)>;
  explicit FakeCentre(Answer answer) : answer_(std::move(answer)) {}
  Result<HttpReply> Post(const std::string& path, const std::string& body) override { return Ask("POST", path, body); }
  Result<HttpReply> PostGzip(const std::string& path, const std::string& gzip_body) override {
    auto body = GzipDecompress(gzip_body, kMaxBodyBytes);
    if (!body) return body.error();
    return Ask("POST", path, *body);
  }
  Result<HttpReply> Get(const std::string& path) override { return Ask("GET", path, ""); }
  uint64_t bytes_sent() const override { return 0; }
  uint64_t bytes_received() const override { return 0; }
  uint64_t requests() const override { return 0; }

  std::vector<std::string> Asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }

 private:
  Result<HttpReply> Ask(const std::string& method, const std::string& path, const std::string& body) {
    {
      std::lock_guard lock(mu_);
      asked_.push_back(method + " " + path);
    }
    return answer_(method, path, body);
  }
  Answer answer_;
  std::mutex mu_;
  std::vector<std::string> asked_;
};

// An answer that applies every change of a pushed batch.
inline HttpReply ApplyAll(const std::string& body) {
  auto request = DecodePushRequest(body);
  if (!request) return HttpReply{400, EncodeError(request.error()), {}};
  PushResponse response{request->batch_key, {}};
  for (const Change& c : request->changes)
    response.results.push_back({c.change_id, ChangeStatus::kApplied, 1, {}, {}, {}});
  return HttpReply{200, EncodePushResponse(response), {}};
}

// A contact create with id n, as an outbox holds it.
inline Change AContactCreate(int n) {
  Change c;
  std::string tail = std::to_string(n);
  c.change_id = "0190a1b2-0000-7000-8000-" + std::string(12 - tail.size(), '0') + tail;
  c.table = "contacts";
  c.record_id = "0190a1b2-0000-7000-9000-" + std::string(12 - tail.size(), '0') + tail;
  c.op = Op::kCreate;
  c.hlc = "1700000000000-000000-deva";
  c.fields = {{"organisation", "Mission locale", {}}};
  return c;
}

}  // namespace relais::sync::testing
