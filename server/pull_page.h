// How a pull page is assembled from its ordered sources (each synced table, the scope exits, the
// conflicts opened, the conflicts settled), written once for every store. A store runs the queries
// of PullQueriesFor() in one snapshot and hands their rows over as PullSources.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "server/store_layout.h"
#include "sync/protocol.h"

namespace relais::server {

enum class PullSourceKind { kRecords, kExits, kOpened, kSettled };

// The notice of `c` for `viewer`. A duplicate's other case is named (`other`, and the survivor of a
// merge in `settled_value`) only when it lies in the viewer's territories: a device learns nothing
// of the cases outside them, not even their ids (docs/PROTOCOL.md, "Duplicates").
sync::ConflictNotice NoticeOf(const Conflict& c, bool settled, int64_t seq, const Device& viewer);

// Merges `sources` in sequence order into a page of at most `limit` items after `since`, for the
// device `viewer` (NoticeOf). A source offers kind, layout (kRecords), has_row, seq, row() (a row
// reader as ReadStored takes) and Advance() -> Status. A sequence number may be shared by a record
// and the conflicts opened (or settled) with it: items of one sequence are never split across
// pages, so a page may exceed `limit` by those few. On return, page.more says whether any source still holds a row;
// when it does, page.next is the last sequence taken; when not, the caller sets page.next to the store's last sequence
// in the same snapshot. `echo_of`: a device id whose echo is left out — a record whose echo_device it is moves `next`
// like any other, but is not put in the page (docs/PROTOCOL.md, "Echo"). It counts as 1/echo_scan
// of an item of `limit`: a page passes up to echo_scan × limit sequence numbers of the device's own
// records. A store whose sources read their rows one at a time as they are taken (SQLite) passes
// kEchoScan, and each of its sources must then offer up to echo_scan × limit + 1 rows; one that
// fetches every source's rows up front (PostgreSQL) passes 1, which reads no more than the page.
inline constexpr size_t kEchoScan = 8;

template <class Source>
Result<sync::PullPage> MergePullSources(const Device& viewer, int64_t since, size_t limit, std::vector<Source>& sources,
                                        std::optional<int64_t> echo_of = std::nullopt, size_t echo_scan = 1) {
  sync::PullPage page;
  page.since = since;
  // In units of 1/echo_scan of an item: an item sent weighs echo_scan, an echo left out 1.
  const size_t budget = limit * echo_scan;
  size_t taken = 0;
  int64_t last_taken = since;
  while (true) {
    Source* next = nullptr;
    for (Source& source : sources) {
      if (source.has_row && (!next || source.seq < next->seq)) next = &source;
    }
    if (!next || (taken >= budget && next->seq != last_taken)) break;
    size_t weight = echo_scan;
    switch (next->kind) {
      case PullSourceKind::kRecords: {
        const auto& row = next->row();
        const int echo_col = next->layout->echo_device_col;
        if (echo_of && !row.IsNull(echo_col) && row.Int(echo_col) == *echo_of) {
          weight = 1;
          break;
        }
        page.records.push_back(
            sync::PulledRecord{std::string(next->layout->table->name), ReadRecord(*next->layout, next->row())});
        break;
      }
      case PullSourceKind::kExits:
        page.removed.push_back(sync::Removal{next->row().Text(1), next->row().Text(2), next->row().Int(0),
                                             next->row().IsNull(3) ? std::string() : next->row().Text(3),
                                             next->row().Int(4) != 0});
        break;
      case PullSourceKind::kOpened:
      case PullSourceKind::kSettled: {
        const bool settled = next->kind == PullSourceKind::kSettled;
        Conflict c = ReadConflict(next->row(), 1);
        // A conflict appears once per page, in the state of its latest event in the page.
        if (settled) {
          std::erase_if(page.conflicts, [&](const sync::ConflictNotice& n) { return n.id == c.id; });
        }
        page.conflicts.push_back(NoticeOf(c, settled, next->seq, viewer));
        break;
      }
    }
    last_taken = next->seq;
    taken += weight;
    RELAIS_TRY(next->Advance());
  }
  page.more = std::any_of(sources.begin(), sources.end(), [](const Source& s) { return s.has_row; });
  page.next = last_taken;
  return page;
}

}  // namespace relais::server
