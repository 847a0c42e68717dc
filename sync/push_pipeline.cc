#include "sync/push_pipeline.h"

#include <nlohmann/json.hpp>

#include "base/gzip.h"
#include "sync/answer_match.h"
#include "sync/codec.h"
#include "sync/push_runs.h"

namespace relais::sync {

namespace {

// The change a 422 (or 409 change_id_reused) answer names (its error's `change`), or empty.
std::string ChangeIdOf(const std::string& error_body) {
  auto doc = nlohmann::json::parse(error_body, nullptr, false);
  if (doc.is_object() && doc["error"].is_object() && doc["error"]["change"].is_string()) {
    return doc["error"]["change"].get<std::string>();
  }
  return {};
}

bool IsChangeIdReused(const std::string& error_body) {
  auto doc = nlohmann::json::parse(error_body, nullptr, false);
  return doc.is_object() && doc["error"].is_object() && doc["error"]["code"] == kChangeIdReusedCode;
}

}  // namespace

void CountAnswer(const PushResponse& response, SyncSummary& summary) {
  for (const ChangeResult& r : response.results) {
    ++summary.pushed;
    switch (r.status) {
      case ChangeStatus::kApplied:
        ++summary.applied;
        break;
      case ChangeStatus::kMerged:
        ++summary.merged;
        break;
      case ChangeStatus::kReview:
        ++summary.review;
        break;
      case ChangeStatus::kRejected:
        ++summary.rejected;
        summary.rejections.push_back({r.change_id, r.reason});
        break;
    }
  }
}

PushPipeline::PushPipeline(ReplicaPort& replica, Transport& transport, Retrier& retrier, const SyncOptions& options,
                           const CentreTerms& terms, int64_t push_total, SyncSummary& summary)
    : replica_(replica),
      transport_(transport),
      retrier_(retrier),
      options_(options),
      terms_(terms),
      push_total_(push_total),
      summary_(summary),
      // Two batches at the centre at once only on a fast link, to a centre that lists
      // kFeaturePushAfter, over a transport of two connections.
      in_flight_at_most_(terms.after && !terms.slow_link && transport.Concurrent() ? 2 : 1),
      ramp_(options.push_batch, terms.slow_link) {}

SyncStatus PushPipeline::Run() {
  RELAIS_TRY(ResendUnacknowledged());
  return PushOutbox();
}

SyncStatus PushPipeline::ResendUnacknowledged() {
  while (true) {
    auto left = replica_.UnacknowledgedBatch();
    if (!left) return ReplicaFailed(left.error());
    if (!*left) return SyncOk();
    auto answered = Answer(**left, Send(Pack(**left), std::string()));
    if (!answered) return answered.error();
  }
}

// The centre applies a batch while the replica records the answer to the one before. With two in
// flight, the second names the first (?after=), and the centre decodes it while it applies the
// first, then applies it as soon as the first is committed: the centre never waits for the replica
// between two batches, nor for a batch to be decoded. A sync that stops in between leaves at most
// three formed batches, resent in order by ResendUnacknowledged, one at a time.
SyncStatus PushPipeline::PushOutbox() {
  RELAIS_TRY(Form());
  if (next_) Launch();
  while (!flights_.empty()) {
    SyncStatus formed = Form();
    if (formed.ok() && next_ && flights_.size() < in_flight_at_most_) {
      Launch();
      formed = Form();
    }
    if (!formed.ok()) {
      Land();
      return formed.error();
    }
    Flight head = std::move(flights_.front());
    flights_.pop_front();
    SyncResult<HttpReply> reply = head.reply.get();
    if (reply.ok() && reply->status == 409 && !head.before.empty()) {
      // The centre did not know the batch before as committed when this one came (it restarted, or
      // the one before failed). That one is answered by now: this one goes again on its own.
      reply = Send(head.packed, std::string());
    }
    if (next_ && reply.ok() && reply->status == 200 && flights_.size() < in_flight_at_most_) Launch();
    auto answered = Answer(*head.request, std::move(reply));
    if (!answered) {
      Land();
      return answered.error();
    }
    if (*answered) {
      // A refused change (422) sent every formed batch back to pending, those sent after it too:
      // they named it, so the centre refused them (409) and applied nothing. They are formed anew,
      // in the outbox's order.
      Land();
      next_.reset();
      drained_ = false;
      RELAIS_TRY(Form());
      if (next_) Launch();
    }
  }
  return SyncOk();
}

// A batch's text, after which the batch keeps only what its answer needs: the ids of its changes
// (AcknowledgeBatch), not their values. Up to three formed batches are held at once; without their
// values they cost a few hundred bytes a change instead of a few kilobytes. The centre hashes the
// batch's row form whichever form it was sent in, so a batch first sent as rows may be resent as
// runs and is still the same batch.
// The text is compressed on a thread of its own, so that the next batch is packed while the one
// before is at the centre and goes as soon as it may, and freed once compressed: the packed batch
// is kept until its answer (to be sent again after a 409), and with it the task that made it.
std::shared_future<std::string> PushPipeline::Pack(PushRequest& request) {
  std::string text = terms_.runs ? EncodePushRequestRuns(request) : EncodePushRequest(request);
  for (Change& c : request.changes) {
    c.fields.clear();
    c.fields.shrink_to_fit();
  }
  return std::async(std::launch::async,
                    [text = std::move(text), level = terms_.gzip_level]() mutable {
                      std::string packed = GzipCompress(text, level);
                      std::string().swap(text);
                      return packed;
                    })
      .share();
}

SyncResult<HttpReply> PushPipeline::Send(const std::shared_future<std::string>& packed, const std::string& before) {
  const std::string& body = packed.get();
  const std::string path = before.empty() ? std::string("/v1/push") : "/v1/push?after=" + before;
  return retrier_.Run([&] { return transport_.PostGzip(path, body); }, Exchange::kPush);
}

SyncResult<bool> PushPipeline::Answer(const PushRequest& request, SyncResult<HttpReply> reply) {
  if (!reply) return reply.error();
  // A change refused whole: a value that fails the schema (422), or a change id this device used
  // for another change already (409 change_id_reused). It stays on the device, rejected.
  if (reply->status == 422 || (reply->status == 409 && IsChangeIdReused(reply->body))) {
    std::string change_id = ChangeIdOf(reply->body);
    if (change_id.empty()) return Refused(*reply, Exchange::kPush);
    Error e = DecodeError(reply->body, ErrorCode::kValidation);
    RELAIS_TRY_REPLICA(replica_.RejectChange(request.batch_key, change_id, e.message));
    ++summary_.rejected;
    summary_.rejections.push_back({change_id, e.message});
    return true;
  }
  if (reply->status != 200) return Refused(*reply, Exchange::kPush);
  auto response = DecodePushResponse(reply->body);
  if (!response) return UnreadableAnswer(response.error(), Exchange::kPush);
  if (!AnswerFitsBatch(request, *response)) {
    return MakeSyncError(SyncFailure::kAnswerNotForBatch, ErrorCode::kProtocol,
                         "answer for batch " + response->batch_key + " with " +
                             std::to_string(response->results.size()) + " results, to batch " + request.batch_key +
                             " of " + std::to_string(request.changes.size()) + " changes",
                         Exchange::kPush, reply->status);
  }
  RELAIS_TRY_REPLICA(replica_.AcknowledgeBatch(request, *response));
  ++summary_.batches;
  CountAnswer(*response, summary_);
  for (size_t i = 0; i < response->results.size(); ++i) {
    const ChangeResult& r = response->results[i];
    const Change& change = request.changes[i];
    if (r.lost_fields.empty() || r.change_id != change.change_id) continue;
    for (const std::string& field : r.lost_fields)
      summary_.lost_edits.push_back({change.table, change.record_id, field});
  }
  options_.Report("push", summary_.pushed, push_total_);
  return false;
}

SyncStatus PushPipeline::Form() {
  if (next_ || drained_) return SyncOk();
  auto formed = replica_.FormBatch(ramp_.Next());
  if (!formed) return ReplicaFailed(formed.error());
  if (!*formed) {
    drained_ = true;
    return SyncOk();
  }
  next_ = std::make_unique<PushRequest>(std::move(**formed));
  next_packed_ = Pack(*next_);
  return SyncOk();
}

void PushPipeline::Launch() {
  Flight f;
  if (!flights_.empty()) f.before = flights_.back().request->batch_key;
  f.request = std::move(next_);
  f.packed = std::move(next_packed_);
  f.reply =
      std::async(std::launch::async, [this, packed = f.packed, before = f.before] { return Send(packed, before); });
  flights_.push_back(std::move(f));
}

void PushPipeline::Land() {
  for (Flight& f : flights_) {
    if (f.reply.valid()) f.reply.wait();
  }
  flights_.clear();
}

}  // namespace relais::sync
