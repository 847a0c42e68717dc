// Reading JSON text event by event, for the messages read by the thousand: push requests at the
// centre, pull pages on the replica. It calls a handler as nlohmann::json::sax_parse does (same
// member names, same events in the same order, numbers sorted into integer, unsigned and float the
// same way): the readers of sync/codec.cc and sync/pull_codec.cc moved to it unchanged, and a test
// drives both with one handler. It accepts and refuses the texts nlohmann accepts and refuses
// (tests/sync/json_sax_test.cc compares them on edge cases and 15,000 mutated texts): RFC 8259, a UTF-8 byte order mark
// allowed at the start, no comments, no depth limit (the stack is a vector, not the call stack).
// One difference, on purpose: nlohmann takes a NUL byte outside a string for the end of the text
// and ignores whatever follows it; here that byte is an error like any other out of place.
//
// Why not nlohmann's own: its lexer reads one character at a time through a virtual-free but
// position-tracking `get()` and copies each string character by character; that was half of the
// centre's push decoding. Here a string's unescaped stretches are copied in one go, and UTF-8 is
// checked as it goes by.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <locale.h>

#include "base/text.h"

namespace relais::sync {

namespace json_sax_internal {

// Byte classes for the string scanner: 0 plain, 1 stops the stretch (`"`, `\`, control), 2 starts a
// UTF-8 sequence of more than one byte.
struct StringBytes {
  uint8_t kind[256] = {};
  constexpr StringBytes() {
    for (int c = 0; c < 0x20; ++c) kind[c] = 1;
    kind[static_cast<uint8_t>('"')] = 1;
    kind[static_cast<uint8_t>('\\')] = 1;
    for (int c = 0x80; c < 0x100; ++c) kind[c] = 2;
  }
};
inline constexpr StringBytes kStringBytes{};

inline void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A double from a number's text, whatever the process's locale (strtod would want a comma in a
// French one).
inline double ParseDouble(const std::string& text) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(0));
  return strtod_l(text.c_str(), nullptr, c_locale);
}

template <class Handler>
class Parser {
 public:
  Parser(std::string_view text, Handler& handler)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), end_(p_ + text.size()), handler_(handler) {}

  bool Run() {
    if (end_ - p_ >= 3 && p_[0] == 0xEF && p_[1] == 0xBB && p_[2] == 0xBF) p_ += 3;
    enum class Next { kValue, kKey, kAfterValue };
    Next next = Next::kValue;
    while (true) {
      SkipSpace();
      switch (next) {
        case Next::kValue:
          if (p_ == end_) return false;
          if (*p_ == '{') {
            ++p_;
            if (!handler_.start_object(static_cast<std::size_t>(-1))) return false;
            SkipSpace();
            if (p_ != end_ && *p_ == '}') {
              ++p_;
              if (!handler_.end_object()) return false;
              next = Next::kAfterValue;
            } else {
              open_.push_back(true);
              next = Next::kKey;
            }
          } else if (*p_ == '[') {
            ++p_;
            if (!handler_.start_array(static_cast<std::size_t>(-1))) return false;
            SkipSpace();
            if (p_ != end_ && *p_ == ']') {
              ++p_;
              if (!handler_.end_array()) return false;
              next = Next::kAfterValue;
            } else {
              open_.push_back(false);
            }
          } else {
            if (!Scalar()) return false;
            next = Next::kAfterValue;
          }
          break;
        case Next::kKey:
          if (p_ == end_ || *p_ != '"' || !String() || !handler_.key(text_)) return false;
          SkipSpace();
          if (p_ == end_ || *p_ != ':') return false;
          ++p_;
          next = Next::kValue;
          break;
        case Next::kAfterValue:
          if (open_.empty()) return p_ == end_;
          if (p_ == end_) return false;
          if (*p_ == ',') {
            ++p_;
            next = open_.back() ? Next::kKey : Next::kValue;
          } else if (*p_ == (open_.back() ? '}' : ']')) {
            ++p_;
            const bool object = open_.back();
            open_.pop_back();
            if (!(object ? handler_.end_object() : handler_.end_array())) return false;
          } else {
            return false;
          }
          break;
      }
    }
  }

 private:
  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Literal(std::string_view word) {
    const size_t left = static_cast<size_t>(end_ - p_);
    if (left < word.size() || std::string_view(reinterpret_cast<const char*>(p_), word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  bool Scalar() {
    switch (*p_) {
      case '"':
        return String() && handler_.string(text_);
      case 't':
        return Literal("true") && handler_.boolean(true);
      case 'f':
        return Literal("false") && handler_.boolean(false);
      case 'n':
        return Literal("null") && handler_.null();
      default:
        return Number();
    }
  }

  static bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?  An integer that fits goes to number_integer
  // (negative) or number_unsigned; any other number, to number_float, and a float that is not
  // finite is refused, as nlohmann does.
  bool Number() {
    const unsigned char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !IsDigit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    }
    if (integer) {
      // Digits accumulated with an overflow check: no text copy, no errno.
      uint64_t magnitude = 0;
      bool fits = true;
      for (const unsigned char* d = start + (negative ? 1 : 0); d != p_; ++d) {
        const uint64_t digit = *d - '0';
        if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
          fits = false;
          break;
        }
        magnitude = magnitude * 10 + digit;
      }
      if (fits && !negative) return handler_.number_unsigned(magnitude);
      if (fits && magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
        return handler_.number_integer(static_cast<int64_t>(0 - magnitude));
      }
    }
    text_.assign(reinterpret_cast<const char*>(start), p_ - start);
    const double value = ParseDouble(text_);
    if (!std::isfinite(value)) return false;
    return handler_.number_float(value, text_);
  }

  // A string at p_ (on its opening quote), unescaped into text_; p_ ends past its closing quote.
  bool String() {
    ++p_;
    text_.clear();
    const unsigned char* stretch = p_;
    while (true) {
      while (p_ != end_ && json_sax_internal::kStringBytes.kind[*p_] == 0) ++p_;
      if (p_ == end_) return false;
      if (json_sax_internal::kStringBytes.kind[*p_] == 2) {
        const size_t n = Utf8SequenceAt(std::string_view(reinterpret_cast<const char*>(p_), end_ - p_), 0);
        if (n == 0) return false;
        p_ += n;
        continue;
      }
      text_.append(reinterpret_cast<const char*>(stretch), p_ - stretch);
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      if (*p_ != '\\') return false;  // a control character
      ++p_;
      if (p_ == end_) return false;
      switch (*p_++) {
        case '"':
          text_ += '"';
          break;
        case '\\':
          text_ += '\\';
          break;
        case '/':
          text_ += '/';
          break;
        case 'b':
          text_ += '\b';
          break;
        case 'f':
          text_ += '\f';
          break;
        case 'n':
          text_ += '\n';
          break;
        case 'r':
          text_ += '\r';
          break;
        case 't':
          text_ += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate alone
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!Hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          json_sax_internal::AppendUtf8(text_, cp);
          break;
        }
        default:
          return false;
      }
      stretch = p_;
    }
  }

  bool Hex4(uint32_t& cp) {
    if (end_ - p_ < 4) return false;
    for (int i = 0; i < 4; ++i) {
      const unsigned char c = *p_++;
      uint32_t v;
      if (c >= '0' && c <= '9')
        v = c - '0';
      else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
      else
        return false;
      cp = cp * 16 + v;
    }
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
  Handler& handler_;
  std::string text_;        // the string, key or float text handed to the handler (which may move it)
  std::vector<bool> open_;  // the containers open: true for an object
};

}  // namespace json_sax_internal

// Reads `text` as one JSON value, calling `handler`'s members as nlohmann::json::sax_parse would
// (null, boolean, number_integer, number_unsigned, number_float, string, start_object, key,
// end_object, start_array, end_array; sizes are passed as std::size_t(-1), unknown). Returns false
// when the text is not JSON or a member returned false; the handler's parse_error is not called.
template <class Handler>
bool ParseJsonSax(std::string_view text, Handler& handler) {
  return json_sax_internal::Parser<Handler>(text, handler).Run();
}

}  // namespace relais::sync
