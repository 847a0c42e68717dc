// What a sync did or what stopped it, said to the counsellor in French with what to do next. The
// engine (sync/engine.h) gives facts; `relais sync` (client/cli/sync_cmd.cc) prints these.
#pragma once

#include <string>

#include "base/result.h"
#include "sync/engine.h"

namespace relais::client {

// The error `relais sync` reports: the failure's code (its exit code) and a sentence that says
// what failed, that nothing is lost when nothing is, and what to do.
Error SyncErrorForPeople(const sync::SyncError& error);

// The address does not lead to a Relais centre: it answered `what` (sync/centre_answer.h), with
// `http_status` (0: not said). Says what to check.
std::string NotACentreText(const std::string& what, int http_status);

// How the replica differed from the centre: "cases: 1203 ici, 1204 au centre; …", or that the
// centre is behind the replica's cursor.
std::string DivergenceText(const sync::Divergence& divergence);

}  // namespace relais::client
