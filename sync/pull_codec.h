// Pull pages on the wire (docs/PROTOCOL.md, "GET /v1/pull"): the centre's encoder and the device's
// decoder. Pure: no storage, no transport.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "sync/protocol.h"

namespace relais::sync {

// How a page's records are laid out in each table: `rows`, one array per record (every centre
// answers so unless asked otherwise), or `values`, one array per column (asked for with
// `layout=columns`: the same cells, grouped so that gzip finds a column's repetitions close
// together — about a fifth fewer bytes at the same level).
enum class PullLayout { kRows, kColumns };

// Writes the page as a JSON DOM would dump it (members in byte-wise order). Never fails.
std::string EncodePullPage(const PullPage& page, PullLayout layout = PullLayout::kRows);

// Reads a page of either layout, without building a DOM. Checks what a hostile or broken centre
// could get wrong — size, UTF-8, nesting, protocol version, shape and types, unknown tables and
// fields, ids, column lengths — and returns kProtocol (kUsage or kTooLarge for the text itself)
// with a message naming what is wrong; nothing partial on failure.
Result<PullPage> DecodePullPage(std::string_view json);

}  // namespace relais::sync
