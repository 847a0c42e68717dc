#include "sync/retrier.h"

#include "sync/centre_answer.h"
#include "sync/codec.h"

namespace relais::sync {

bool Retryable(int status) { return status >= 500 || status == 429 || status == 408; }

SyncError Refused(const HttpReply& reply, Exchange exchange) {
  const auto location = reply.headers.find("location");
  if (auto what = RedirectAnswer(reply.status, location == reply.headers.end() ? "" : location->second)) {
    return MakeSyncError(SyncFailure::kNotACentre, ErrorCode::kProtocol, *what, exchange, reply.status);
  }
  if (reply.status != 401) {
    if (auto what = NotRelaisAnswer(reply.body, "error")) {
      return MakeSyncError(SyncFailure::kNotACentre, ErrorCode::kProtocol, *what, exchange, reply.status);
    }
  }
  Error said = DecodeError(reply.body, ErrorCode::kHttp);
  ErrorCode code = said.code;
  if (reply.status == 401 && code != ErrorCode::kWipeOrdered) code = ErrorCode::kAuth;
  if (reply.status != 401 && code == ErrorCode::kWipeOrdered) code = ErrorCode::kHttp;  // only a 401 orders it
  SyncError refused = MakeSyncError(SyncFailure::kRefused, code, std::move(said.message), exchange, reply.status);
  if (code == ErrorCode::kWipeOrdered) refused.wipe_store_id = DecodeWipeOrder(reply.body).value_or("");
  return refused;
}

}  // namespace relais::sync
