#include "stats/suppression.h"

#include <deque>
#include <limits>

namespace relais::stats {

void Grid::Total() {
  for (int i = 0; i <= rows; ++i) at(i, cols) = 0;
  for (int j = 0; j <= cols; ++j) at(rows, j) = 0;
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) {
      at(i, cols) += at(i, j);
      at(rows, j) += at(i, j);
      at(rows, cols) += at(i, j);
    }
  }
}

namespace {

// Each line of the grid (a row with its total, a column with its total, the totals' row and
// column) sums to zero once the totals are negated: entry (i, j) of the signed grid is
// Sign(i, j) × its count. A change of the hidden counts that keeps every published figure is
// then a set of signed changes whose every line sums to zero: a circulation in the bipartite graph
// of lines (row i, column j) whose edges are the hidden entries.
int Sign(const Grid& g, int i, int j) { return ((i < g.rows) == (j < g.cols)) ? 1 : -1; }

// The counts a reader allows a hidden entry: [lo, hi].
struct Bounds {
  int64_t lo, hi;
};
Bounds BoundsOf(const Grid& g, int64_t threshold, int i, int j) {
  if (g.mark(i, j) == Mark::kPrimary) return {0, threshold - 1};
  return {threshold, std::numeric_limits<int64_t>::max()};
}

// Whether the signed entry (i, j) can change by `delta` (+1 or -1) within the reader's bounds.
bool CanMove(const Grid& g, int64_t threshold, int i, int j, int delta) {
  if (g.mark(i, j) == Mark::kShown) return false;
  const Bounds b = BoundsOf(g, threshold, i, j);
  const int64_t next = g.at(i, j) + int64_t{Sign(g, i, j)} * delta;
  return next >= b.lo && next <= b.hi;
}

// A path in the graph of lines from `from` to `to` (nodes: rows 0..rows, then columns), where a
// row → column step raises the signed entry by one and a column → row step lowers it, never using
// the entry (skip_i, skip_j).
bool PathExists(const Grid& g, int64_t threshold, int from, int to, int skip_i, int skip_j) {
  const int row_nodes = g.rows + 1;
  const int nodes = row_nodes + g.cols + 1;
  std::vector<bool> seen(size_t(nodes), false);
  std::deque<int> queue{from};
  seen[size_t(from)] = true;
  while (!queue.empty()) {
    const int node = queue.front();
    queue.pop_front();
    if (node == to) return true;
    if (node < row_nodes) {
      for (int j = 0; j <= g.cols; ++j) {
        const int next = row_nodes + j;
        if (seen[size_t(next)] || (node == skip_i && j == skip_j) || !CanMove(g, threshold, node, j, +1)) continue;
        seen[size_t(next)] = true;
        queue.push_back(next);
      }
    } else {
      const int j = node - row_nodes;
      for (int i = 0; i <= g.rows; ++i) {
        if (seen[size_t(i)] || (i == skip_i && j == skip_j) || !CanMove(g, threshold, i, j, -1)) continue;
        seen[size_t(i)] = true;
        queue.push_back(i);
      }
    }
  }
  return false;
}

// The published entry of line `i` (row) or column `j` (whichever is not -1) to hide next: first one
// whose other line already hides something (hiding it then leaves no new line with a single hidden
// entry, which would call for one more), then the smallest count — a zero first (hidden as "< t", it
// gives the line room at no cost to the reader), a cell before a total at equal counts. -1, -1 when
// there is none.
std::pair<int, int> Complement(const Grid& g, int i, int j) {
  std::pair<int, int> best{-1, -1};
  std::pair<bool, int64_t> best_cost{true, std::numeric_limits<int64_t>::max()};
  auto hidden_in = [&g](bool row, int line) {
    int n = 0;
    for (int k = 0; k <= (row ? g.cols : g.rows); ++k) n += (row ? g.mark(line, k) : g.mark(k, line)) != Mark::kShown;
    return n;
  };
  auto consider = [&](int a, int b, bool cross_is_row) {
    if (g.mark(a, b) != Mark::kShown || g.is_known(a, b)) return;
    const bool total = a == g.rows || b == g.cols;
    const std::pair<bool, int64_t> cost{hidden_in(cross_is_row, cross_is_row ? a : b) == 0,
                                        g.at(a, b) * (total ? 2 : 1) + (total ? 1 : 0)};
    if (cost < best_cost) {
      best_cost = cost;
      best = {a, b};
    }
  };
  if (i >= 0) {
    for (int b = 0; b <= g.cols; ++b) consider(i, b, false);
  } else {
    for (int a = 0; a <= g.rows; ++a) consider(a, j, true);
  }
  return best;
}

// Hides a published entry as a complement: a zero reads "< t" like a small count, a count of t or
// more reads "s".
void Hide(Grid& g, int64_t threshold, int i, int j) {
  g.mark(i, j) = g.at(i, j) < threshold ? Mark::kPrimary : Mark::kSecondary;
}

}  // namespace

bool Determined(const Grid& g, int64_t threshold, int i, int j) {
  const int column_node = g.rows + 1 + j;
  // Raise (i, j): the step row i → column j, then back from column j to row i by other entries.
  if (CanMove(g, threshold, i, j, +1) && PathExists(g, threshold, column_node, i, i, j)) return false;
  // Lower it: column j → row i, then from row i back to column j.
  if (CanMove(g, threshold, i, j, -1) && PathExists(g, threshold, i, column_node, i, j)) return false;
  return true;
}

void Protect(Grid& g, int64_t threshold) {
  for (size_t k = 0; k < g.values.size(); ++k) {
    if (g.values[k] >= 1 && g.values[k] < threshold) g.marks[k] = Mark::kPrimary;
  }
  auto hidden_in_row = [&g](int i) {
    int n = 0;
    for (int b = 0; b <= g.cols; ++b) n += g.mark(i, b) != Mark::kShown;
    return n;
  };
  auto hidden_in_column = [&g](int j) {
    int n = 0;
    for (int a = 0; a <= g.rows; ++a) n += g.mark(a, j) != Mark::kShown;
    return n;
  };
  for (bool changed = true; changed;) {
    changed = false;
    // A line with one hidden entry gives it away by subtraction: hide a second one there.
    for (int i = 0; i <= g.rows; ++i) {
      if (hidden_in_row(i) != 1) continue;
      auto [a, b] = Complement(g, i, -1);
      if (a < 0) continue;
      Hide(g, threshold, a, b);
      changed = true;
    }
    for (int j = 0; j <= g.cols; ++j) {
      if (hidden_in_column(j) != 1) continue;
      auto [a, b] = Complement(g, -1, j);
      if (a < 0) continue;
      Hide(g, threshold, a, b);
      changed = true;
    }
    if (changed) continue;
    // Two per line is not always enough (the bounds can pin an entry): hide one more next to
    // the first entry still determined, then check again.
    for (int i = 0; i <= g.rows && !changed; ++i) {
      for (int j = 0; j <= g.cols && !changed; ++j) {
        if (g.mark(i, j) == Mark::kShown || !Determined(g, threshold, i, j)) continue;
        auto pick = Complement(g, i, -1);
        if (pick.first < 0) pick = Complement(g, -1, j);
        if (pick.first < 0) {
          // Nothing left in its lines: hide the smallest published non-zero entry anywhere.
          int64_t best = std::numeric_limits<int64_t>::max();
          for (int a = 0; a <= g.rows; ++a) {
            for (int b = 0; b <= g.cols; ++b) {
              if (g.mark(a, b) == Mark::kShown && !g.is_known(a, b) && g.at(a, b) < best) {
                best = g.at(a, b);
                pick = {a, b};
              }
            }
          }
        }
        if (pick.first < 0) continue;
        Hide(g, threshold, pick.first, pick.second);
        changed = true;
      }
    }
  }
}

bool Safe(const Grid& g, int64_t threshold) {
  for (int i = 0; i <= g.rows; ++i) {
    for (int j = 0; j <= g.cols; ++j) {
      if (g.mark(i, j) != Mark::kShown && Determined(g, threshold, i, j)) return false;
    }
  }
  return true;
}

}  // namespace relais::stats
