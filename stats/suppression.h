// Small-count protection of a published table of counts with its totals (docs/STATISTICS.md,
// "Small counts"). Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace relais::stats {

enum class Mark {
  kShown,      // published as it is
  kPrimary,    // a count below the threshold (1 to threshold - 1, or a zero hidden as a complement):
               // published as "< threshold"
  kSecondary,  // a count of threshold or more hidden so that no small one can be worked out: "s"
};

// A table of counts with its margins, as one (rows + 1) × (cols + 1) grid: entry (i, cols) is row
// i's total, (rows, j) column j's total, (rows, cols) the grand total; every total is the sum of its
// line (the engine makes them so).
struct Grid {
  int rows = 0;
  int cols = 0;
  std::vector<int64_t> values;  // (rows + 1) * (cols + 1), row-major
  std::vector<Mark> marks;      // the same shape
  // Entries a reader already knows from another table of the same counts (the annual report's
  // linked tables: stats/report.h): Protect never hides them as complements. Empty: none.
  std::vector<bool> known;

  Grid(int r, int c) : rows(r), cols(c), values(size_t(r + 1) * size_t(c + 1), 0), marks(values.size(), Mark::kShown) {}
  int64_t& at(int i, int j) { return values[size_t(i) * size_t(cols + 1) + size_t(j)]; }
  int64_t at(int i, int j) const { return values[size_t(i) * size_t(cols + 1) + size_t(j)]; }
  Mark& mark(int i, int j) { return marks[size_t(i) * size_t(cols + 1) + size_t(j)]; }
  Mark mark(int i, int j) const { return marks[size_t(i) * size_t(cols + 1) + size_t(j)]; }
  bool is_known(int i, int j) const { return !known.empty() && known[size_t(i) * size_t(cols + 1) + size_t(j)]; }
  // Fills the totals from the cells.
  void Total();
};

// Marks the grid: every entry (cells and totals) from 1 to threshold - 1 kPrimary; then, as few
// and as small other entries as the method finds (a zero becomes kPrimary, a larger count
// kSecondary), until no hidden entry is determined by what stays published (Determined below).
// Entries already hidden stay so; known ones are never picked. threshold >= 2. With known
// entries, the method may find nothing left to hide: the caller checks (Safe below).
void Protect(Grid& grid, int64_t threshold);

// Whether a reader who knows the published entries, that a kPrimary entry lies in
// [0, threshold - 1] and that a kSecondary one is at least threshold, can work out the hidden
// entry (i, j): true when every table of
// non-negative integers consistent with that knowledge gives it the same value. Exact: it looks
// for a cycle of ±1 changes along hidden entries that keeps every line's sum (docs/STATISTICS.md).
bool Determined(const Grid& grid, int64_t threshold, int i, int j);

// No hidden entry of the grid is Determined.
bool Safe(const Grid& grid, int64_t threshold);

}  // namespace relais::stats
