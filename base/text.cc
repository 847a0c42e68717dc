#include "base/text.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <uninorm.h>

namespace relais {

size_t Utf8SequenceAt(std::string_view s, size_t i) {
  // Table 3-7 of Unicode: the second byte's range excludes overlongs, surrogates and what lies
  // above U+10FFFF.
  const size_t n = s.size();
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i + k < n && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned char b = byte(0);
  if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
  if (b == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (b == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (b == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xF1 && b <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    // ASCII eight bytes at a time: an import checks its whole file, then every value it stores.
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if (word & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceAt(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// Folding of U+00C0..U+017F (Latin-1 Supplement letters and Latin Extended-A), indexed from 0xC0.
// Each entry is the ASCII replacement; empty means "keep as is".
static const char* const kFold[] = {
    // C0-CF: À Á Â Ã Ä Å Æ Ç È É Ê Ë Ì Í Î Ï
    "a",
    "a",
    "a",
    "a",
    "a",
    "a",
    "ae",
    "c",
    "e",
    "e",
    "e",
    "e",
    "i",
    "i",
    "i",
    "i",
    // D0-DF: Ð Ñ Ò Ó Ô Õ Ö × Ø Ù Ú Û Ü Ý Þ ß
    "d",
    "n",
    "o",
    "o",
    "o",
    "o",
    "o",
    "",
    "o",
    "u",
    "u",
    "u",
    "u",
    "y",
    "th",
    "ss",
    // E0-EF
    "a",
    "a",
    "a",
    "a",
    "a",
    "a",
    "ae",
    "c",
    "e",
    "e",
    "e",
    "e",
    "i",
    "i",
    "i",
    "i",
    // F0-FF: ð ñ ò ó ô õ ö ÷ ø ù ú û ü ý þ ÿ
    "d",
    "n",
    "o",
    "o",
    "o",
    "o",
    "o",
    "",
    "o",
    "u",
    "u",
    "u",
    "u",
    "y",
    "th",
    "y",
    // 100-17F: Latin Extended-A, in pairs upper/lower
    "a",
    "a",
    "a",
    "a",
    "a",
    "a",
    "c",
    "c",
    "c",
    "c",
    "c",
    "c",
    "c",
    "c",
    "d",
    "d",
    "d",
    "d",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "g",
    "g",
    "g",
    "g",
    "g",
    "g",
    "g",
    "g",
    "h",
    "h",
    "h",
    "h",
    "i",
    "i",
    "i",
    "i",
    "i",
    "i",
    "i",
    "i",
    "i",
    "i",
    "ij",
    "ij",
    "j",
    "j",
    "k",
    "k",
    "k",
    "l",
    "l",
    "l",
    "l",
    "l",
    "l",
    "l",
    "l",
    "l",
    "l",
    "n",
    "n",
    "n",
    "n",
    "n",
    "n",
    "n",
    "n",
    "n",
    "o",
    "o",
    "o",
    "o",
    "o",
    "o",
    "oe",
    "oe",
    "r",
    "r",
    "r",
    "r",
    "r",
    "r",
    "s",
    "s",
    "s",
    "s",
    "s",
    "s",
    "s",
    "s",
    "t",
    "t",
    "t",
    "t",
    "t",
    "t",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    "w",
    "w",
    "y",
    "y",
    "y",
    "z",
    "z",
    "z",
    "z",
    "z",
    "z",
    "s",
};

std::string FoldForMatch(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0 && i + 1 < s.size()) {
      uint32_t cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
      if (cp >= 0x300 && cp <= 0x36f) {  // a combining mark: the accent of a decomposed letter
        i += 2;
        continue;
      }
      if (cp >= 0xc0 && cp <= 0x17f && kFold[cp - 0xc0][0] != '\0') {
        out += kFold[cp - 0xc0];
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
    ++i;
  }
  return out;
}

bool ToNfcInPlace(std::string& text) {
  // Every code point below U+0300 is NFC and composes with nothing before it (the combining marks
  // start at U+0300): its UTF-8 bytes are all below 0xCC.
  if (std::all_of(text.begin(), text.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0xCC; })) {
    return false;
  }
  if (!IsValidUtf8(text)) return false;
  size_t length = 0;
  std::unique_ptr<uint8_t, decltype(&std::free)> nfc(
      u8_normalize(UNINORM_NFC, reinterpret_cast<const uint8_t*>(text.data()), text.size(), nullptr, &length),
      &std::free);
  if (!nfc) return false;  // out of memory: the text stays as typed
  const std::string_view out(reinterpret_cast<const char*>(nfc.get()), length);
  if (out == text) return false;
  text.assign(out);
  return true;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char ch : s) {
    if ((static_cast<unsigned char>(ch) & 0xc0) != 0x80) ++n;
  }
  return n;
}

void LowerAsciiInPlace(std::string& text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

}  // namespace relais
