#include "sync/protocol.h"

namespace relais::sync {

const char* ToString(ChangeStatus s) {
  switch (s) {
    case ChangeStatus::kApplied:
      return "applied";
    case ChangeStatus::kMerged:
      return "merged";
    case ChangeStatus::kReview:
      return "review";
    case ChangeStatus::kRejected:
      return "rejected";
  }
  return "?";
}

const char* ToString(Op op) { return op == Op::kCreate ? "create" : "update"; }

}  // namespace relais::sync
