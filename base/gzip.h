#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace relais {

// gzip (RFC 1952) compression of a whole buffer, one member, at libdeflate's `level` (1 fast ..
// 12 small; zlib's 1..9 mean about the same, for fewer bytes and less time).
std::string GzipCompress(std::string_view data, int level = 6);

// Inflates a gzip or zlib buffer. Fails with kTooLarge as soon as the output would exceed
// `max_output` bytes (a compression bomb costs at most that much memory), and with kProtocol when
// the input is not a complete, valid stream. On failure nothing is returned.
Result<std::string> GzipDecompress(std::string_view data, size_t max_output);

}  // namespace relais
