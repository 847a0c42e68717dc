#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace relais {

// gzip (RFC 1952) compression of a whole buffer, at zlib's `level` (1 fast .. 9 small).
std::string GzipCompress(std::string_view data, int level = 6);

// The same stream format, compressed in two halves at once (the second on a thread of its own),
// as pigz does: the first half ends on a byte boundary, the second is deflated with the last 32 KiB
// of the first as its dictionary, so that it is about as small as one pass. For large bodies sent
// while the client waits (pull pages): half the wall time when a second core is free. Buffers under
// 256 KiB are compressed in one pass.
std::string GzipCompressInTwo(std::string_view data, int level);

// Inflates a gzip or zlib buffer. Fails with kTooLarge as soon as the output would exceed
// `max_output` bytes (a compression bomb costs at most that much memory), and with kProtocol when
// the input is not a complete, valid stream. On failure nothing is returned.
Result<std::string> GzipDecompress(std::string_view data, size_t max_output);

}  // namespace relais
