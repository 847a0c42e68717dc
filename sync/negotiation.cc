#include "sync/negotiation.h"

#include <nlohmann/json.hpp>

#include "sync/centre_answer.h"
#include "sync/push_runs.h"

namespace relais::sync {

namespace {

CentreIdentity IdentityOf(const nlohmann::json& c) {
  CentreIdentity out;
  if (!c.is_object()) return out;
  auto text = c.find("store_id");
  if (text == c.end() || !text->is_string()) return out;
  for (const char* name : {"epoch", "epoch_seq", "seq"}) {
    auto n = c.find(name);
    if (n == c.end() || !n->is_number_integer()) return out;
  }
  out.store_id = text->get<std::string>();
  out.epoch = c["epoch"].get<int64_t>();
  out.epoch_seq = c["epoch_seq"].get<int64_t>();
  out.seq = c["seq"].get<int64_t>();
  return out;
}

}  // namespace

CentreIdentity CentreIdentityOf(const std::string& json_text) {
  return IdentityOf(nlohmann::json::parse(json_text, nullptr, false));
}

CentreTerms TermsOf(const std::string& whoami_body, std::chrono::steady_clock::duration took) {
  CentreTerms terms;
  terms.slow_link = took >= std::chrono::milliseconds(kSlowLinkMs);
  if (terms.slow_link) terms.gzip_level = kSlowLinkGzipLevel;
  terms.runs = CentreHasFeature(whoami_body, kFeaturePushRuns);
  terms.without_echo = CentreHasFeature(whoami_body, kFeaturePullNoEcho);
  terms.after = CentreHasFeature(whoami_body, kFeaturePushAfter);
  const nlohmann::json who = nlohmann::json::parse(whoami_body, nullptr, false);
  if (who.is_object() && who.contains("centre")) terms.centre = IdentityOf(who["centre"]);
  if (who.is_object() && who.contains("retention") && who["retention"].is_object()) {
    const nlohmann::json& days = who["retention"]["device_closed_after_days"];
    // A limit out of the centre's own bounds (server/retention.h) is no limit: nothing is purged.
    if (days.is_number_integer() && days.get<int64_t>() >= 1 && days.get<int64_t>() <= kMaxDeviceRetentionDays)
      terms.device_retention_days = days.get<int64_t>();
  }
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
