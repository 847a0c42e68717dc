#include "sync/json_text.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "base/text.h"

namespace relais::sync {

namespace {

// True when none of the eight bytes of `w` is a control character, '"' or '\\': each test is the
// classic "has a byte less than n" (exact for n <= 128; bytes of 0x80 and above never match).
bool PlainWord(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (kOnes * '"');
  const uint64_t backslash = w ^ (kOnes * '\\');
  const uint64_t hits = ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash);
  return (hits & kHigh) == 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  size_t plain = 0;  // start of the run of characters copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time while none needs escaping: names, e-mails and notes rarely do.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!PlainWord(w)) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHexDigits[c >> 4];
        out += kHexDigits[c & 0xF];
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

void AppendJsonInt(std::string& out, int64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;
  out.append(buf, end);
}

void AppendJsonValue(std::string& out, const schema::Field& field, const schema::Value& value) {
  if (!value) {
    out += "null";
    return;
  }
  if (field.type == schema::FieldType::kInt) {
    // As the DOM encoder did: the number std::stoll reads, or the text when it reads none.
    try {
      AppendJsonInt(out, std::stoll(*value));
      return;
    } catch (const std::exception&) {
    }
  }
  AppendJsonString(out, *value);
}

namespace {

std::vector<size_t> SortByName(const schema::Table& table) {
  std::vector<size_t> order;
  for (size_t i = 0; i < table.fields.size(); ++i) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::string_view(table.fields[a].name) < std::string_view(table.fields[b].name);
  });
  return order;
}

}  // namespace

const std::vector<size_t>& FieldsByName(const schema::Table& table) {
  // The declared tables' orders are made once; any other table (a test's) each time.
  static const std::vector<std::vector<size_t>> declared = [] {
    std::vector<std::vector<size_t>> all;
    for (const schema::Table& t : schema::Tables()) all.push_back(SortByName(t));
    return all;
  }();
  const std::vector<schema::Table>& tables = schema::Tables();
  if (&table >= tables.data() && &table < tables.data() + tables.size()) {
    return declared[static_cast<size_t>(&table - tables.data())];
  }
  thread_local std::vector<size_t> other;
  other = SortByName(table);
  return other;
}

}  // namespace relais::sync
