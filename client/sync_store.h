#pragma once

#include "client/replica.h"
#include "sync/engine.h"

namespace relais::client {

// The replica as the sync engine sees it (sync::SyncStore): batches formed from the outbox, answers
// applied to it, pulled pages applied with the cursor. Every method is one transaction.
// Not thread-safe, like the Replica, which must outlive it.
class ReplicaSyncStore final : public sync::SyncStore {
 public:
  explicit ReplicaSyncStore(Replica& replica) : replica_(replica) {}

  Result<std::optional<sync::PushRequest>> UnacknowledgedBatch() override;
  Result<std::optional<sync::PushRequest>> FormBatch(size_t max_changes) override;
  Status AcknowledgeBatch(const sync::PushRequest& request, const sync::PushResponse& response) override;
  Status RejectChange(const std::string& batch_key, const std::string& change_id, const std::string& reason) override;
  Result<int64_t> PullCursor() override;
  Status ApplyPage(const sync::PullPage& page) override;
  Result<int64_t> PendingCount() override;

 private:
  Result<sync::PushRequest> LoadBatch(const std::string& batch_key);
  // Field names that pending or rejected local changes of the record touched.
  Result<std::vector<std::string>> LocalFields(const std::string& table, const std::string& id);

  Replica& replica_;
};

// sync_state keys shared by the sync commands.
inline constexpr const char* kStateServerUrl = "server_url";
inline constexpr const char* kStateToken = "token";
inline constexpr const char* kStateDeviceName = "device_name";
inline constexpr const char* kStateTerritories = "territories";
inline constexpr const char* kStateDefaultTerritory = "default_territory";
inline constexpr const char* kStatePullCursor = "pull_cursor";
inline constexpr const char* kStateLastSyncAt = "last_sync_at";
inline constexpr const char* kStateHlcLast = "hlc_last";

}  // namespace relais::client
