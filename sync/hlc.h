// sync/ — the synchronisation engine as pure logic: hybrid logical clocks, change entries, the
// per-field merge, the wire codec and the push/pull state machine. It reaches storage and the
// network only through the small interfaces of sync/engine.h: no SQLite, libcurl or cpp-httplib.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"

namespace relais::sync {

// A hybrid logical clock stamp (Kulkarni et al.): physical milliseconds, a logical counter that
// orders events within (or behind) the same millisecond, and the node that made it as the last
// tie-break. Stamps totally order every write of every device, even when wall clocks lie.
struct Hlc {
  int64_t ms = 0;
  uint32_t counter = 0;
  std::string node;

  // "MMMMMMMMMMMMM-CCCCCC-node": 13 decimal digits of ms, 6 hex digits of counter. Fixed widths make
  // the text order equal to the stamp order, so stamps compare as strings in SQL too.
  std::string ToString() const;
  static Result<Hlc> Parse(std::string_view text);

  auto operator<=>(const Hlc&) const = default;
};

// Issues stamps for one node. Invariant: every stamp returned is greater than every stamp issued
// or observed before, whatever the wall clock does. Not thread-safe.
class HlcClock {
 public:
  HlcClock(const Clock& clock, std::string node) : clock_(clock), node_(std::move(node)) { last_.node = node_; }

  Hlc Tick();
  // Folds in a stamp seen elsewhere (a pulled change, a stamp persisted before a restart): its time
  // and counter, never its node.
  void Observe(const Hlc& seen);
  // The greatest stamp issued or observed, always with this clock's node: what a device persists
  // to resume after (its text parses back with Hlc::Parse).
  const Hlc& last() const { return last_; }

 private:
  const Clock& clock_;
  std::string node_;
  Hlc last_;
};

}  // namespace relais::sync
