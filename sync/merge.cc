#include "sync/merge.h"

#include <algorithm>

namespace relais::sync {

MergeResult MergeUpdate(const schema::Table& table, const schema::Record& current, const FieldStamps& stamps,
                        const Change& change) {
  MergeResult result;
  result.values = current.values;
  result.stamps = stamps;
  bool concurrent = false;
  bool review = false;
  for (const FieldChange& fc : change.fields) {
    int index = table.FieldIndex(fc.field);
    if (index < 0) continue;  // the codec refuses unknown fields before a merge
    const schema::Field& field = table.fields[static_cast<size_t>(index)];
    FieldOutcome out;
    out.field = index;
    out.base = fc.base;
    out.server = current.values[static_cast<size_t>(index)];
    out.device = fc.value;
    auto stamp = stamps.find(fc.field);
    out.server_hlc = stamp == stamps.end() ? std::string() : stamp->second;

    auto take_device = [&] {
      result.values[static_cast<size_t>(index)] = fc.value;
      result.stamps[fc.field] = change.hlc;
    };
    if (out.server == out.device) {
      out.how = Resolution::kSame;
      // Both sides agree; keep the later stamp so that a later lww comparison stays right.
      if (change.hlc > out.server_hlc) result.stamps[fc.field] = change.hlc;
    } else if (out.server == out.base) {
      out.how = Resolution::kTookDevice;  // nobody else changed it since the device's base
      take_device();
    } else {
      concurrent = true;
      switch (field.rule) {
        case schema::MergeRule::kLww:
          // Stamps are fixed-width text: string order is stamp order.
          if (change.hlc > out.server_hlc) {
            out.how = Resolution::kLwwDevice;
            take_device();
          } else {
            out.how = Resolution::kLwwServer;
          }
          break;
        case schema::MergeRule::kReview:
        case schema::MergeRule::kImmutable:
          out.how = Resolution::kForReview;
          review = true;
          break;
      }
    }
    result.outcomes.push_back(std::move(out));
  }
  result.changed = result.values != current.values;
  if (review) {
    result.status = ChangeStatus::kReview;
  } else if (concurrent || change.base_version != current.version) {
    // Other changes landed since the device's base: its fields were merged with them.
    result.status = ChangeStatus::kMerged;
  } else {
    result.status = ChangeStatus::kApplied;
  }
  return result;
}

std::vector<schema::Value> RebaseLocal(const schema::Table& table, const std::vector<schema::Value>& pulled,
                                       const std::vector<schema::Value>& local,
                                       const std::vector<std::string>& pending_fields) {
  std::vector<schema::Value> out = pulled;
  for (const std::string& name : pending_fields) {
    int index = table.FieldIndex(name);
    if (index >= 0 && static_cast<size_t>(index) < local.size())
      out[static_cast<size_t>(index)] = local[static_cast<size_t>(index)];
  }
  return out;
}

}  // namespace relais::sync
