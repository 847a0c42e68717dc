// The centre's answer to a push batch matched to what was sent: which outbox entry each result
// acknowledges, which change of the request it answers, and which entries it does not mention.
// Pure; the replica applies the match (client/replica_port.cc, AcknowledgeBatch) and keeps "nothing
// is lost" with it: an entry is acknowledged at most once, and one the answer does not mention goes
// back to pending.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sync/protocol.h"

namespace relais::sync {

// Whether `response` answers `request`: its key, one result per change.
bool AnswerFitsBatch(const PushRequest& request, const PushResponse& response);

// Whether a change's result gives the device's row the centre's version at once, before any pull:
// an accepted create (from then on the row is no longer a pending create), or an update applied as
// sent on the version the row holds — the centre's record is then this row (its base with the
// edit), and a centre that leaves the echo out of pulls will not send it back. A merged update is
// left to the pull. A later edit of the record still in the outbox keeps its base version: the
// centre merges it over this one (docs/PROTOCOL.md, "Echo"). The row takes the version only if it
// still holds `change.base_version`. Pure.
bool TakesCentreVersion(const Change& change, const ChangeResult& result);

inline constexpr size_t kUnmatched = static_cast<size_t>(-1);

struct AnswerMatch {
  struct Answered {
    size_t result;  // index in response.results
    size_t entry;   // index in the batch's entries
    size_t change;  // index in request.changes; kUnmatched when the request holds no change of that id
  };
  std::vector<Answered> answered;  // in the answer's order
  std::vector<size_t> unanswered;  // entries the answer does not mention, in their order
};

// Matches `response` to the batch's outbox entries (their change ids, in outbox order) and to
// `request`. A result whose change id is no entry's is left out, and so is a second result for an
// entry: each entry is acknowledged once, by the first result that names it. When ids repeat, the
// first entry and the first change of an id are the ones matched.
// The entries, the request's changes and the answer are normally in one order (the replica forms a
// batch in outbox order, and the centre answers in the request's): the i-th result is looked for
// at the i-th entry and change first, and a search by id is built only when one is not there.
AnswerMatch MatchAnswer(const std::vector<std::string>& entry_ids, const PushRequest& request,
                        const PushResponse& response);

}  // namespace relais::sync
