// What the benches that time whole `relais` commands share: stopping on a failure, percentiles of
// wall times, counts read from the command line. Header-only (each bench is one program).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace relais::bench {

// Prints "PROGRAM: what" on stderr and exits 1.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, what.c_str());
  std::exit(1);
}

template <class T>
T Must(Result<T> r, const char* what) {
  if (!r) Fail(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

// The value at fraction `p` (0.5: the median) of the sorted times.
inline double Percentile(std::vector<double> ms, double p) {
  std::sort(ms.begin(), ms.end());
  return ms[static_cast<size_t>(p * static_cast<double>(ms.size() - 1))];
}

// A count given on the command line: a whole number up to ten million, else the bench stops.
inline int Count(const char* text) {
  char* end = nullptr;
  const long n = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || n < 0 || n > 10000000) Fail(std::string("not a count: ") + text);
  return static_cast<int>(n);
}

}  // namespace relais::bench
