// The first phase of a sync with something to push: one cheap question to the centre (GET
// /v1/whoami) that says which forms it reads and how fast the link is, and stops a revoked token
// before megabytes go up a poor link.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "sync/engine.h"
#include "sync/retrier.h"

namespace relais::sync {

// What a sync may use of the centre and of the link. The default is what a sync assumes without
// asking (nothing to push): rows, pulls with the echo, one batch at a time, a fast link.
struct CentreTerms {
  bool runs = false;          // kFeaturePushRuns: batches go as create runs, else as rows
  bool without_echo = false;  // kFeaturePullNoEcho: pulls leave out what the replica holds as it is
  bool after = false;         // kFeaturePushAfter: a batch may name the one before it (two in flight)
  bool slow_link = false;     // whoami took kSlowLinkMs or more: full batches, packed harder
  int gzip_level = kRequestGzipLevel;
  CentreIdentity centre;  // whoami's `centre`; an empty store_id when it says none
  // whoami's `retention.device_closed_after_days`: closed cases leave the replica after this many
  // days (docs/PRIVACY.md, "Retention"); nullopt when the centre says none (or none in 1–3,650).
  std::optional<int64_t> device_retention_days;
};


// The centre identity of a JSON object {store_id, epoch, epoch_seq, seq} (whoami's `centre`, the
// answer of POST /v1/restored); an empty store_id when `json_text` is not one. Pure.
CentreIdentity CentreIdentityOf(const std::string& json_text);

// The terms of a whoami answer's body, asked and answered in `took` (retries included). Pure.
CentreTerms TermsOf(const std::string& whoami_body, std::chrono::steady_clock::duration took);

// Asks the centre (retried by `retrier`) and returns its terms; a SyncError when it cannot be
// reached or refuses (a revoked token: kRefused, kAuth).
SyncResult<CentreTerms> Negotiate(Retrier& retrier, Transport& transport);

}  // namespace relais::sync
