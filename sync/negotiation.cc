#include "sync/negotiation.h"

#include "sync/centre_answer.h"
#include "sync/push_runs.h"

namespace relais::sync {

CentreTerms TermsOf(const std::string& whoami_body, std::chrono::steady_clock::duration took) {
  CentreTerms terms;
  terms.slow_link = took >= std::chrono::milliseconds(kSlowLinkMs);
  if (terms.slow_link) terms.gzip_level = kSlowLinkGzipLevel;
  terms.runs = CentreHasFeature(whoami_body, kFeaturePushRuns);
  terms.without_echo = CentreHasFeature(whoami_body, kFeaturePullNoEcho);
  terms.after = CentreHasFeature(whoami_body, kFeaturePushAfter);
  return terms;
}

SyncResult<CentreTerms> Negotiate(Retrier& retrier, Transport& transport) {
  const auto asked = std::chrono::steady_clock::now();
  auto who = retrier.Run([&] { return transport.Get("/v1/whoami"); }, Exchange::kWhoami);
  if (!who) return who.error();
  const auto took = std::chrono::steady_clock::now() - asked;
  if (who->status != 200) return Refused(*who, Exchange::kWhoami);
  if (auto what = NotRelaisAnswer(who->body, "device")) {
    return MakeSyncError(SyncFailure::kNotACentre, ErrorCode::kProtocol, *what, Exchange::kWhoami, who->status);
  }
  return TermsOf(who->body, took);
}

}  // namespace relais::sync
