// Create runs: consecutive creates of one table written column-major in a push request
// (docs/PROTOCOL.md, "Create runs"), and the features list by which a centre says it reads them.
// A run is only a shorter spelling: it decodes into the very changes its rows would, so the batch
// hash (of EncodePushRequest's canonical row form) does not depend on how a batch was sent.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sync/protocol.h"

namespace relais::sync {

// The name a centre lists in `features` (GET /v1/whoami and /v1/health) when it reads create runs.
inline constexpr std::string_view kFeaturePushRuns = "push-runs";

// The name a centre lists when its pulls take `echo=0` and leave out the records the device holds
// as they are (docs/PROTOCOL.md, "Echo").
inline constexpr std::string_view kFeaturePullNoEcho = "pull-no-echo";

// The name a centre lists when a push may name the batch sent before it (POST /v1/push?after=KEY)
// and be sent before that one is answered (docs/PROTOCOL.md, "Two batches in flight").
inline constexpr std::string_view kFeaturePushAfter = "push-after";

// The name a centre lists when it keeps what a device reports in the header Relais-Pending
// (kHeaderPending), for central staff.
inline constexpr std::string_view kFeaturePendingReport = "pending-report";

// The name a centre lists when a pull's removals say where a record went (`to`: the declared
// territory a case moved to, its follow-ups with it; docs/PROTOCOL.md, "GET /v1/pull").
inline constexpr std::string_view kFeatureRemovedTo = "removed-to";

// The name a centre lists when it erases people at their request: a pull's removal may carry
// `erased` (the device erases the record and everything about it) and a change about an erased
// record is refused with code `erased` (docs/PROTOCOL.md, "Erasure").
inline constexpr std::string_view kFeatureErasure = "erasure";

// What this build's centre lists in `features`.
const std::vector<std::string>& CentreFeatures();

// Whether a whoami or health answer lists `feature`. False for an answer with no `features`
// member (a centre older than the list), a malformed one, or a body that is not JSON.
bool CentreHasFeature(std::string_view answer_json, std::string_view feature);

// A push request as EncodePushRequest writes it, except that every sequence of at least
// kMinRunLength consecutive creates of one table is written as one run. DecodePushRequest reads
// both texts into the same request. Never fails.
inline constexpr size_t kMinRunLength = 2;
std::string EncodePushRequestRuns(const PushRequest& request);

}  // namespace relais::sync
