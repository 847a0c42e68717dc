#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sync/protocol.h"
#include "sync/pull_codec.h"  // EncodePullPage, DecodePullPage

namespace relais::sync {

// The JSON wire messages of docs/PROTOCOL.md. Encoders never fail. Decoders check everything a
// hostile peer could get wrong (shape, types, protocol version, unknown tables and fields, values
// that fail the schema, sizes) and return kProtocol, kUsage or kValidation with a message naming
// the place: "changes[3].values.birth_date: 1990-13-45 is not a date that exists". A decoder that
// fails returns no partial message.

// Limits a server enforces; documented in docs/PROTOCOL.md.
inline constexpr size_t kMaxChangesPerPush = 10000;
inline constexpr size_t kMaxPullLimit = 10000;
inline constexpr size_t kMaxBodyBytes = 64u << 20;  // after decompression
// JSON values (objects, arrays, members, elements) in one message: a push of the largest batch
// holds at most about 45 per change (450,000), a pull page of the largest limit about 25 per record.
inline constexpr size_t kMaxJsonValues = 1'000'000;

std::string EncodePushRequest(const PushRequest& request);
Result<PushRequest> DecodePushRequest(std::string_view json);

// What the push decoder established about one change besides the change itself. Not part of the
// wire form: the centre's knowledge of how far it may trust the change (server/decoded_push.h).
struct ChangeFacts {
  // schema::Normalize altered the record id or a value as the device sent it: the device's row
  // differs from what the centre stores, and the centre must send the record back
  // (docs/PROTOCOL.md, "Echo").
  bool normalized = false;
  // A create whose values were checked against the schema, as schema::ValidateRecord does.
  bool validated = false;
};

// DecodePushRequest, also giving the facts of each change: on success `facts` holds one per change
// of the request, in its order; on failure its content is unspecified.
Result<PushRequest> DecodePushRequest(std::string_view json, std::vector<ChangeFacts>& facts);

// What a centre keeps of a batch to know it again (docs/PROTOCOL.md, `POST /v1/push`): the same
// changes give the same hash whichever form carried them (rows or runs, any member order, any
// gzip). "v2:" then SHA-256 (hex) of the decoded batch, each text length-prefixed: no JSON is
// written to hash it. Batches stored before it carry PushRequestHashV1 (the SHA-256 of
// EncodePushRequest), told by the missing prefix.
std::string PushRequestHash(const PushRequest& request);
std::string PushRequestHashV1(const PushRequest& request);
inline constexpr std::string_view kPushRequestHashPrefix = "v2:";

// What a centre keeps of a change to know it again when its id comes back (docs/PROTOCOL.md,
// "Change ids"): the first 128 bits, in hex, of the SHA-256 of the change's part of the form
// PushRequestHash reads (its id, table, record, op, base version, stamp, fields with values and
// bases). The same change gives the same digest whichever form or batch carried it.
using ChangeDigest = std::array<char, 32>;
// PushRequestHash(request), and the digest of each change of `request` into `digests` (one per
// change, in order), from the same canonical text.
std::string PushRequestHash(const PushRequest& request, std::vector<ChangeDigest>& digests);

std::string EncodePushResponse(const PushResponse& response);
Result<PushResponse> DecodePushResponse(std::string_view json);

// {"error": {"code": "validation", "message": "...", "change": "<id>"}}; `change` only when known.
std::string EncodeError(const Error& error, std::string_view change_id = {});
// The code of a 409 for a change whose id the device used before for another change
// (docs/PROTOCOL.md, "Change ids"), told apart from the `conflict` of a batch key reused.
inline constexpr const char* kChangeIdReusedCode = "change_id_reused";
// Reads an error body back into an Error (kProtocol when the body is not one).
Error DecodeError(std::string_view json, ErrorCode fallback);
const char* ErrorCodeName(ErrorCode code);

// The answer to a token whose device was revoked with a wipe order (docs/PROTOCOL.md, "Wipe
// order"): {"error": {"code": "revoked_wipe", "message": "...", "centre": {"store_id": "..."}}},
// the centre naming itself so that a device erases its replica only on its own centre's word.
std::string EncodeWipeOrder(const std::string& message, const std::string& store_id);
// The store_id a wipe order names; nullopt when `json` is not a wipe order or names none. Pure.
std::optional<std::string> DecodeWipeOrder(std::string_view json);

// Encodes one record's values as a JSON object {"field": value} (ints as numbers, nulls omitted),
// as the history and the CLI show it. DecodeRecordValues is its inverse.
std::string EncodeRecordValues(const schema::Table& table, const std::vector<schema::Value>& values);
Result<std::vector<schema::Value>> DecodeRecordValues(const schema::Table& table, std::string_view json);

}  // namespace relais::sync
