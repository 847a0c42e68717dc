#pragma once

#include <cstdint>
#include <string>

namespace relais {

// The wall clock, injectable so that tests can skew it. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;  // milliseconds since the Unix epoch
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
  static const SystemClock& Instance();
};

// A clock that a test sets by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_; }
  void Set(int64_t now_ms) { now_ms_ = now_ms; }
  void Advance(int64_t ms) { now_ms_ += ms; }

 private:
  int64_t now_ms_;
};

// "YYYY-MM-DD" (UTC) of a time in ms; "YYYY-MM-DDTHH:MM:SSZ" for IsoTimestamp.
std::string IsoDate(int64_t unix_ms);
std::string IsoTimestamp(int64_t unix_ms);

}  // namespace relais
