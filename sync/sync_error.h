// What stops a sync, as facts. The engine (sync/engine.h) says what failed and what it knows of it
// (the request, the HTTP status, the attempts, the centre's own message); the caller says it to
// people in its own words and tells them what to do (client/sync_text.h). Nothing here is a
// sentence for the counsellor.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "sync/digest.h"

namespace relais::sync {

// The request a failure is about.
enum class Exchange {
  kWhoami,  // the question before the first push (GET /v1/whoami)
  kPush,    // a push batch (POST /v1/push)
  kPull,    // a page of the pull or of a fresh copy (GET /v1/pull)
};

enum class SyncFailure {
  // No usable answer after `attempts` tries: each time the network failed or the centre answered a
  // status worth retrying (5xx, 429, 408). Of the last try: `http_status`, or 0 and `message` says
  // how the network failed.
  kUnreachable,
  // The centre answered `http_status`, which no retry changes (a 4xx): `code` is what its error
  // says (kAuth for a 401, kWipeOrdered for a 401 revoked_wipe), `message` the centre's own message.
  kRefused,
  // An answer that does not decode: `code` and `message` are the decoder's.
  kUnreadableAnswer,
  // A push answer that is not for the batch sent (another key, another number of results).
  kAnswerNotForBatch,
  // A pull page that does not follow the cursor asked for (its body, or its headers, disagree).
  kPageOffCursor,
  // A pull page that fails the device's checks (sync/pull_checks.h: validation, scope, versions):
  // `message` says, in French, what is wrong; none of the page was applied.
  kPageRefused,
  // An answer that no Relais centre gives (sync/centre_answer.h): HTML, or JSON of another shape,
  // at `http_status`; `message` says what came, in French. The address is likely wrong.
  kNotACentre,
  // The replica failed: `code` and `message` are its own.
  kReplica,
  // After a fresh copy, the replica still differs from the centre's digest (`differences`), or
  // still holds follow-ups without their case (`orphans`).
  kStillDivergent,
};

struct SyncError {
  SyncFailure failure = SyncFailure::kReplica;
  // As for every Error (base/result.h): what the CLI maps to an exit code.
  ErrorCode code = ErrorCode::kInternal;
  // The underlying fact, as the layer that found it wrote it (the centre, the transport, a decoder,
  // the replica).
  std::string message;
  Exchange exchange = Exchange::kWhoami;     // for the failures of a request
  int http_status = 0;                       // the centre's answer, 0 when there was none
  int attempts = 0;                          // kUnreachable: how many times the request was tried
  std::vector<TableDifference> differences;  // kStillDivergent
  std::vector<std::string> orphans;          // kStillDivergent: ids of follow-ups whose case is absent
  // kRefused with kWipeOrdered: the store_id the wipe order named (empty when it named none). The
  // caller erases the replica only when it is the store_id of the replica's own centre.
  std::string wipe_store_id;
};

template <class T>
using SyncResult = Result<T, SyncError>;
using SyncStatus = SyncResult<Unit>;
inline SyncStatus SyncOk() { return Unit{}; }

// A failure about `exchange`, the centre having answered `http_status` (0: no answer).
inline SyncError MakeSyncError(SyncFailure failure, ErrorCode code, std::string message, Exchange exchange,
                               int http_status) {
  SyncError e;
  e.failure = failure;
  e.code = code;
  e.message = std::move(message);
  e.exchange = exchange;
  e.http_status = http_status;
  return e;
}

// A failure of the replica (ReplicaPort), passed on as it is.
inline SyncError ReplicaFailed(Error error) {
  SyncError e;
  e.failure = SyncFailure::kReplica;
  e.code = error.code;
  e.message = std::move(error.message);
  return e;
}

// A decoder's refusal of an answer about `exchange`.
inline SyncError UnreadableAnswer(Error error, Exchange exchange) {
  return MakeSyncError(SyncFailure::kUnreadableAnswer, error.code, std::move(error.message), exchange, 200);
}

}  // namespace relais::sync

// Returns, from a function that returns a SyncResult, the error of a failed replica call
// (ReplicaPort's Status or Result) as a SyncFailure::kReplica.
#define RELAIS_TRY_REPLICA(expr)                                                                    \
  do {                                                                                              \
    auto relais_try_result_ = (expr);                                                               \
    if (!relais_try_result_.ok()) return ::relais::sync::ReplicaFailed(relais_try_result_.error()); \
  } while (0)
