#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace relais::client {

// The encodings `relais import` reads. A French spreadsheet saves "CSV" in Windows-1252 unless told
// "CSV UTF-8"; everything Relais writes is UTF-8.
enum class TextEncoding { kUtf8, kWindows1252 };

// "utf-8" | "windows-1252": the name of the option and of `--json`.
std::string_view EncodingName(TextEncoding encoding);

// Puts the bytes of a file in UTF-8 without a byte-order mark. On success `text` views the UTF-8
// text: the input itself when it was UTF-8 (a BOM skipped; nothing copied), else `storage`, which
// the caller keeps while it reads `text`. Returns the encoding read.
//
// Without `forced`: UTF-8 when a BOM says so or when every byte sequence is UTF-8; else
// Windows-1252 when the text holds no UTF-8 sequence of more than one byte (a file in one encoding,
// not two) and no byte that Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
// On failure (kValidation) `text` is unchanged and the message names the line (1-based), the byte
// within it (1-based) and its value, and says how to save the file: "ligne 3, octet 7 (0x81) : …".
// A UTF-16 file (its BOM) is refused with the same advice.
Result<TextEncoding> DecodeToUtf8(std::string_view& text, std::string& storage, std::optional<TextEncoding> forced);

}  // namespace relais::client
