#include "sync/hlc.h"

#include <cstdio>

#include "base/text.h"

namespace relais::sync {

std::string Hlc::ToString() const {
  constexpr int64_t kMsLimit = 10'000'000'000'000;  // 13 digits
  if (ms < 0 || ms >= kMsLimit || counter > 0xffffff) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%013lld-%06x-", static_cast<long long>(ms), counter);
    return buf + node;
  }
  // Every create a push batch takes is stamped: written in place, without snprintf's parsing.
  std::string text(21 + node.size(), '-');
  int64_t m = ms;
  for (int i = 12; i >= 0; --i, m /= 10) text[static_cast<size_t>(i)] = static_cast<char>('0' + m % 10);
  for (int i = 0; i < 6; ++i) text[14 + static_cast<size_t>(i)] = kHexDigits[(counter >> (4 * (5 - i))) & 0xf];
  text.replace(21, node.size(), node);
  return text;
}

Result<Hlc> Hlc::Parse(std::string_view t) {
  auto bad = [&] {
    return MakeError(ErrorCode::kProtocol,
                     "hlc: " + std::string(t.substr(0, 64)) + " is not a clock stamp (MMMMMMMMMMMMM-CCCCCC-node)");
  };
  if (t.size() < 22 || t.size() > 100 || t[13] != '-' || t[20] != '-') return bad();
  Hlc h;
  for (size_t i = 0; i < 13; ++i) {
    if (t[i] < '0' || t[i] > '9') return bad();
    h.ms = h.ms * 10 + (t[i] - '0');
  }
  for (size_t i = 14; i < 20; ++i) {
    char c = t[i];
    uint32_t d;
    if (c >= '0' && c <= '9')
      d = static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<uint32_t>(c - 'a' + 10);
    else
      return bad();
    h.counter = h.counter * 16 + d;
  }
  h.node = std::string(t.substr(21));
  for (char c : h.node) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
      return bad();
  }
  return h;
}

Hlc HlcClock::Tick() {
  int64_t now = clock_.NowMs();
  if (now > last_.ms) {
    last_.ms = now;
    last_.counter = 0;
  } else {
    ++last_.counter;  // the wall clock stood still or went back: order by the counter
  }
  return last_;
}

void HlcClock::Observe(const Hlc& seen) {
  if (seen.ms > last_.ms || (seen.ms == last_.ms && seen.counter > last_.counter)) {
    last_.ms = seen.ms;
    last_.counter = seen.counter;
  }
}

}  // namespace relais::sync
