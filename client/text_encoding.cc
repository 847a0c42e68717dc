#include "client/text_encoding.h"

#include <cstdint>

#include "base/text.h"

namespace relais::client {

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr char kSaveAsUtf8[] = "enregistrez le fichier au format « CSV UTF-8 » depuis le tableur";

// The code points of bytes 0x80–0x9F in Windows-1252 (0: undefined); from 0xA0 a byte is its own
// code point, as in ISO 8859-1 (the mapping published by Microsoft and by the Unicode consortium).
constexpr uint16_t kHigh1252[32] = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

uint32_t CodePoint1252(unsigned char byte) { return byte >= 0x80 && byte < 0xA0 ? kHigh1252[byte - 0x80] : byte; }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// "ligne 3, octet 7 (0x81)": where byte `at` of `text` is.
std::string Where(std::string_view text, size_t at) {
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto byte = static_cast<unsigned char>(text[at]);
  return "ligne " + std::to_string(line) + ", octet " + std::to_string(at - line_start + 1) + " (0x" + kHex[byte >> 4] +
         kHex[byte & 0xF] + ")";
}

// The first byte of `text` from `from` that does not start a UTF-8 sequence, or npos; and the first
// sequence of more than one byte that is UTF-8, or npos.
struct Utf8Scan {
  size_t first_invalid = std::string_view::npos;
  size_t first_multibyte = std::string_view::npos;
};
Utf8Scan ScanUtf8(std::string_view text, size_t from) {
  Utf8Scan scan;
  for (size_t i = from; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceAt(text, i);
    if (length == 0) {
      if (scan.first_invalid == std::string_view::npos) scan.first_invalid = i;
      ++i;
      continue;
    }
    if (scan.first_multibyte == std::string_view::npos) scan.first_multibyte = i;
    i += length;
  }
  return scan;
}

Result<TextEncoding> From1252(std::string_view& text, std::string& storage) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const uint32_t cp = CodePoint1252(byte);
    if (cp == 0 && byte != 0) {
      return MakeError(
          ErrorCode::kValidation,
          Where(text, i) + " : cet octet n'est un caractère ni en UTF-8 ni en Windows-1252 ; " + kSaveAsUtf8);
    }
    AppendUtf8(out, cp);
  }
  storage = std::move(out);
  text = storage;
  return TextEncoding::kWindows1252;
}

}  // namespace

std::string_view EncodingName(TextEncoding encoding) {
  return encoding == TextEncoding::kUtf8 ? "utf-8" : "windows-1252";
}

Result<TextEncoding> DecodeToUtf8(std::string_view& text, std::string& storage, std::optional<TextEncoding> forced) {
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF")) {
    return MakeError(
        ErrorCode::kValidation,
        std::string("ligne 1 : le fichier est en UTF-16 (« texte Unicode »), que relais ne lit pas ; ") + kSaveAsUtf8);
  }
  const bool bom = text.starts_with(kUtf8Bom);
  if (forced == TextEncoding::kWindows1252) return From1252(text, storage);
  if (IsValidUtf8(text)) {
    if (bom) text.remove_prefix(kUtf8Bom.size());
    return TextEncoding::kUtf8;
  }
  const Utf8Scan scan = ScanUtf8(text, bom ? kUtf8Bom.size() : 0);
  if (forced == TextEncoding::kUtf8) {
    return MakeError(ErrorCode::kValidation,
                     Where(text, scan.first_invalid) +
                         " : n'est pas de l'UTF-8 (--encoding utf-8) ; si le fichier vient d'un tableur, essayez "
                         "--encoding windows-1252, ou " +
                         kSaveAsUtf8);
  }
  if (bom || scan.first_multibyte != std::string_view::npos) {
    const size_t utf8_at = bom ? 0 : scan.first_multibyte;
    return MakeError(ErrorCode::kValidation,
                     Where(text, scan.first_invalid) + " : n'est pas de l'UTF-8, alors que le fichier en contient (" +
                         (bom ? std::string("sa marque d'ordre des octets, ligne 1") : Where(text, utf8_at)) +
                         ") : il mêle deux encodages ; " + kSaveAsUtf8 +
                         ", ou forcez l'encodage avec --encoding utf-8|windows-1252");
  }
  return From1252(text, storage);
}

}  // namespace relais::client
