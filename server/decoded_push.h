// A push request as the centre takes it in: the request, what its decoder established about each
// change, and the batch's hash. The store trusts these facts (it does not check a validated create
// twice; it may leave a record taken as sent out of that device's pulls), so only the decoder makes
// a push that vouches for them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sync/codec.h"
#include "sync/protocol.h"

namespace relais::server {

// Immutable once made; safe to read from several threads.
class DecodedPush {
 public:
  // Decodes a push body as sync::DecodePushRequest does (its errors are that function's), and
  // takes the batch's hash (sync::PushRequestHash).
  static Result<DecodedPush> Decode(std::string_view body);

  // A request built in code rather than read from a device, vouching for nothing: the store checks
  // every create's values and treats every change as normalised (its record goes back to the
  // device). For seeding and tests.
  static DecodedPush Unchecked(sync::PushRequest request);

  const sync::PushRequest& request() const { return request_; }
  const std::string& batch_key() const { return request_.batch_key; }
  const std::vector<sync::Change>& changes() const { return request_.changes; }
  // The facts of changes()[i].
  const sync::ChangeFacts& facts(size_t i) const { return facts_[i]; }
  // sync::PushRequestHash of the request: what the store keeps to know the batch again.
  const std::string& hash() const { return hash_; }
  // The digest of changes()[i] (sync::ChangeDigest): what the store keeps to know the change again.
  std::string_view digest(size_t i) const { return {digests_[i].data(), digests_[i].size()}; }

 private:
  DecodedPush(sync::PushRequest request, std::vector<sync::ChangeFacts> facts);

  sync::PushRequest request_;
  std::vector<sync::ChangeFacts> facts_;     // parallel to request_.changes
  std::vector<sync::ChangeDigest> digests_;  // parallel to request_.changes
  std::string hash_;
};

}  // namespace relais::server
