// The checks every wire message of sync/codec.h passes, shared by the decoders that live in files
// of their own (sync/pull_codec.cc). Internal to the sync module.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace relais::sync {

// Before parsing: size (kTooLarge), valid UTF-8 (kUsage), nesting at most 16 levels (kUsage), at
// most kMaxJsonValues values (kTooLarge). A text that passes may still not be JSON.
Status CheckMessageText(std::string_view text);

// The `protocol` member: `version` is null when it is missing or not a whole number. kProtocol,
// naming the version this build speaks, unless it is kProtocolVersion.
Status CheckMessageProtocol(const int64_t* version);

}  // namespace relais::sync
