#include "server/decoded_push.h"

#include <utility>

namespace relais::server {

DecodedPush::DecodedPush(sync::PushRequest request, std::vector<sync::ChangeFacts> facts)
    : request_(std::move(request)), facts_(std::move(facts)), hash_(sync::PushRequestHash(request_, digests_)) {}

Result<DecodedPush> DecodedPush::Decode(std::string_view body) {
  std::vector<sync::ChangeFacts> facts;
  auto request = sync::DecodePushRequest(body, facts);
  if (!request) return request.error();
  return DecodedPush(std::move(*request), std::move(facts));
}

DecodedPush DecodedPush::Unchecked(sync::PushRequest request) {
  std::vector<sync::ChangeFacts> facts(request.changes.size(), sync::ChangeFacts{true, false});
  return DecodedPush(std::move(request), std::move(facts));
}

}  // namespace relais::server
