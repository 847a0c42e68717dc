#pragma once

#include <string>
#include <string_view>

namespace relais {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// The length of the well-formed UTF-8 sequence of more than one byte at `at` in `text` (2 to 4), or
// 0 when the bytes there are not one. IsValidUtf8 is this, sequence after sequence.
size_t Utf8SequenceAt(std::string_view text, size_t at);

// Lower-cases and strips the accents of Latin letters (é→e, Ç→c, Œ→oe, ß→ss), so that names
// written with or without accents compare equal: "Élodie Lefèvre" → "elodie lefevre". Combining
// marks (U+0300–U+036F, the accents of decomposed text) are dropped, so that a name in either
// Unicode form folds the same. Other characters pass through unchanged. Input must be valid UTF-8.
std::string FoldForMatch(std::string_view utf8);

// Puts valid UTF-8 `text` in Unicode Normalization Form C (precomposed: "e" + U+0301 becomes "é"),
// the one form Relais stores, compares and sends (docs/PROTOCOL.md, "Normalisation"). Returns
// whether it changed the text. Text whose code points all lie below U+0300 (ASCII, and French
// written with precomposed accents) is already NFC and is only scanned; other text goes through
// libunistring's u8_normalize. Text that is not valid UTF-8 is left as it is (validation refuses it).
bool ToNfcInPlace(std::string& text);

// Lower-cases the ASCII letters of `text` in place (header names, UUIDs, file extensions); other
// bytes are left as they are.
void LowerAsciiInPlace(std::string& text);

// Number of code points (for column widths in tables). Input must be valid UTF-8.
size_t Utf8Length(std::string_view utf8);

// The sixteen lower-case hex digits, by value: ids, digests, clock stamps and JSON escapes.
inline constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace relais
