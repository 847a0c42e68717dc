// Small-count protection (stats/suppression.h, docs/STATISTICS.md "Small counts"): what a reader of
// a published table can work out of a hidden count, computed here independently of the engine's own
// check, by linear programming over everything the table publishes.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "stats/suppression.h"

using relais::stats::Determined;
using relais::stats::Grid;
using relais::stats::Mark;
using relais::stats::Protect;

namespace {

constexpr double kEps = 1e-7;
constexpr double kUnbounded = std::numeric_limits<double>::infinity();

// maximize c·y subject to A y = b, y >= 0, by the two-phase simplex method with Bland's rule (it
// never cycles). nullopt when infeasible; +infinity when unbounded.
std::optional<double> Maximize(std::vector<std::vector<double>> a, std::vector<double> b, const std::vector<double>& c) {
  const size_t m = a.size(), n = c.size();
  for (size_t i = 0; i < m; ++i) {
    if (b[i] < 0) {
      for (double& v : a[i]) v = -v;
      b[i] = -b[i];
    }
  }
  // Columns: y (n), artificials (m), right-hand side.
  const size_t cols = n + m + 1, rhs = n + m;
  std::vector<std::vector<double>> t(m, std::vector<double>(cols, 0.0));
  std::vector<size_t> basis(m);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) t[i][j] = a[i][j];
    t[i][n + i] = 1;
    t[i][rhs] = b[i];
    basis[i] = n + i;
  }
  auto pivot = [&](size_t r, size_t col) {
    const double p = t[r][col];
    for (double& v : t[r]) v /= p;
    for (size_t i = 0; i < m; ++i) {
      if (i == r || std::abs(t[i][col]) < 1e-12) continue;
      const double f = t[i][col];
      for (size_t j = 0; j < cols; ++j) t[i][j] -= f * t[r][j];
    }
    basis[r] = col;
  };
  // Runs the simplex for objective `obj` over the columns below `allowed`; false when unbounded.
  auto run = [&](const std::vector<double>& obj, size_t allowed) {
    while (true) {
      size_t enter = cols;
      for (size_t j = 0; j < allowed && enter == cols; ++j) {
        double z = -obj[j];
        for (size_t i = 0; i < m; ++i) z += obj[basis[i]] * t[i][j];
        if (z < -kEps) enter = j;
      }
      if (enter == cols) return true;
      size_t leave = m;
      double best = 0;
      for (size_t i = 0; i < m; ++i) {
        if (t[i][enter] <= kEps) continue;
        const double ratio = t[i][rhs] / t[i][enter];
        if (leave == m || ratio < best - kEps || (std::abs(ratio - best) <= kEps && basis[i] < basis[leave])) {
          leave = i;
          best = ratio;
        }
      }
      if (leave == m) return false;
      pivot(leave, enter);
    }
  };
  std::vector<double> phase1(n + m, 0.0);
  for (size_t i = 0; i < m; ++i) phase1[n + i] = -1;
  run(phase1, n + m);
  double infeasibility = 0;
  for (size_t i = 0; i < m; ++i) {
    if (basis[i] >= n) infeasibility += t[i][rhs];
  }
  if (infeasibility > 1e-6) return std::nullopt;
  for (size_t i = 0; i < m; ++i) {
    if (basis[i] < n) continue;
    for (size_t j = 0; j < n; ++j) {
      if (std::abs(t[i][j]) > kEps) {
        pivot(i, j);
        break;
      }
    }
  }
  std::vector<double> phase2(n + m, 0.0);
  for (size_t j = 0; j < n; ++j) phase2[j] = c[j];
  if (!run(phase2, n)) return kUnbounded;
  double value = 0;
  for (size_t i = 0; i < m; ++i) value += phase2[basis[i]] * t[i][rhs];
  return value;
}

struct Interval {
  double min, max;
};

// The smallest and largest value of hidden entry (hi, hj) over the tables a reader cannot tell
// from the published one: every shown entry as published, every line summing to its total, a
// "< t" entry in [0, t - 1], an "s" entry at least t.
// The constraints of a two-way table with its margins are totally unimodular, so the linear
// programme's optimum is reached at integers: these are the bounds over integer tables.
Interval ReaderBounds(const Grid& g, int64_t threshold, int hi, int hj) {
  // Variables: y_k = x_k - lower_k for each hidden entry k, then a slack for each upper bound.
  std::vector<std::pair<int, int>> hidden;
  for (int i = 0; i <= g.rows; ++i) {
    for (int j = 0; j <= g.cols; ++j) {
      if (g.mark(i, j) != Mark::kShown) hidden.emplace_back(i, j);
    }
  }
  auto lower = [&](size_t k) -> double {
    return g.mark(hidden[k].first, hidden[k].second) == Mark::kPrimary ? 0.0 : static_cast<double>(threshold);
  };
  std::vector<size_t> primaries;
  for (size_t k = 0; k < hidden.size(); ++k) {
    if (g.mark(hidden[k].first, hidden[k].second) == Mark::kPrimary) primaries.push_back(k);
  }
  const size_t n = hidden.size() + primaries.size();
  std::vector<std::vector<double>> a;
  std::vector<double> b;
  auto value = [&](int i, int j) -> std::optional<size_t> {
    for (size_t k = 0; k < hidden.size(); ++k) {
      if (hidden[k] == std::pair(i, j)) return k;
    }
    return std::nullopt;
  };
  // Row i: its cells minus its total is zero (the totals' row likewise); column j the same.
  auto line = [&](const std::vector<std::pair<std::pair<int, int>, double>>& terms) {
    std::vector<double> row(n, 0.0);
    double rhs = 0;
    for (const auto& [entry, sign] : terms) {
      if (auto k = value(entry.first, entry.second)) {
        row[*k] += sign;
        rhs -= sign * lower(*k);
      } else {
        rhs -= sign * static_cast<double>(g.at(entry.first, entry.second));
      }
    }
    a.push_back(row);
    b.push_back(rhs);
  };
  for (int i = 0; i <= g.rows; ++i) {
    std::vector<std::pair<std::pair<int, int>, double>> terms;
    terms.reserve(size_t(g.cols) + 1);
    for (int j = 0; j < g.cols; ++j) terms.push_back({{i, j}, 1.0});
    terms.push_back({{i, g.cols}, -1.0});
    line(terms);
  }
  for (int j = 0; j <= g.cols; ++j) {
    std::vector<std::pair<std::pair<int, int>, double>> terms;
    terms.reserve(size_t(g.rows) + 1);
    for (int i = 0; i < g.rows; ++i) terms.push_back({{i, j}, 1.0});
    terms.push_back({{g.rows, j}, -1.0});
    line(terms);
  }
  for (size_t p = 0; p < primaries.size(); ++p) {
    std::vector<double> row(n, 0.0);
    row[primaries[p]] = 1;
    row[hidden.size() + p] = 1;
    a.push_back(row);
    b.push_back(static_cast<double>(threshold - 1));
  }
  const size_t target = *value(hi, hj);
  std::vector<double> c(n, 0.0);
  c[target] = 1;
  const auto max = Maximize(a, b, c);
  c[target] = -1;
  const auto min = Maximize(a, b, c);
  REQUIRE(max.has_value());  // the published table itself satisfies every constraint
  REQUIRE(min.has_value());
  return {lower(target) - *min, *max == kUnbounded ? kUnbounded : lower(target) + *max};
}

Grid RandomTable(std::mt19937& random) {
  std::uniform_int_distribution<int> size(1, 5);
  Grid g(size(random), size(random));
  std::uniform_int_distribution<int> kind(0, 9), small(0, 6), large(0, 80);
  for (int i = 0; i < g.rows; ++i) {
    for (int j = 0; j < g.cols; ++j) {
      const int k = kind(random);
      g.at(i, j) = k < 3 ? 0 : k < 7 ? small(random) : large(random);
    }
  }
  g.Total();
  return g;
}

std::string Show(const Grid& g) {
  std::string out;
  for (int i = 0; i <= g.rows; ++i) {
    for (int j = 0; j <= g.cols; ++j) {
      const Mark m = g.mark(i, j);
      out += std::to_string(g.at(i, j)) + (m == Mark::kPrimary ? "p" : m == Mark::kSecondary ? "s" : "") + "\t";
    }
    out += "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("no hidden count of a protected random table can be worked out from what it publishes", "[stats][suppression]") {
  const int64_t threshold = GENERATE(3, 5, 10);
  std::mt19937 random(static_cast<unsigned>(20261207 + threshold));
  int hidden_seen = 0;
  for (int n = 0; n < 300; ++n) {
    Grid g = RandomTable(random);
    Protect(g, threshold);
    INFO("threshold " << threshold << ", table " << n << ":\n" << Show(g));
    for (int i = 0; i <= g.rows; ++i) {
      for (int j = 0; j <= g.cols; ++j) {
        const int64_t v = g.at(i, j);
        // Every small count is hidden, and only counts below t read "< t".
        if (v >= 1 && v < threshold) CHECK(g.mark(i, j) == Mark::kPrimary);
        if (g.mark(i, j) == Mark::kPrimary) CHECK(v < threshold);
        if (g.mark(i, j) == Mark::kShown) continue;
        if (g.mark(i, j) == Mark::kSecondary) CHECK(v >= threshold);
        ++hidden_seen;
        const Interval bounds = ReaderBounds(g, threshold, i, j);
        INFO("entry (" << i << ", " << j << ") = " << v << ": reader's bounds [" << bounds.min << ", " << bounds.max << "]");
        CHECK(bounds.min <= static_cast<double>(v) + kEps);
        CHECK(bounds.max >= static_cast<double>(v) - kEps);
        CHECK(bounds.max - bounds.min >= 1 - kEps);
      }
    }
  }
  CHECK(hidden_seen > 100);
}

TEST_CASE("a table protected knowing totals published elsewhere never hides them, and is safe when it says so",
          "[stats][suppression]") {
  const int64_t threshold = GENERATE(3, 5);
  std::mt19937 random(static_cast<unsigned>(20261208 + threshold));
  int safe = 0, withheld = 0;
  for (int n = 0; n < 300; ++n) {
    Grid g = RandomTable(random);
    // The grand total and the row totals a reader knows from another table (the annual report's
    // key figures, its table by month), unless small: those are hidden there too.
    g.known.assign(g.values.size(), false);
    for (int i = 0; i <= g.rows; ++i) {
      const int64_t v = g.at(i, g.cols);
      if (v == 0 || v >= threshold) g.known[size_t(i) * size_t(g.cols + 1) + size_t(g.cols)] = true;
    }
    Protect(g, threshold);
    INFO("threshold " << threshold << ", table " << n << ":\n" << Show(g));
    for (int i = 0; i <= g.rows; ++i) {
      for (int j = 0; j <= g.cols; ++j) {
        if (g.is_known(i, j)) CHECK(g.mark(i, j) == Mark::kShown);
      }
    }
    if (!Safe(g, threshold)) {
      ++withheld;
      continue;
    }
    ++safe;
    for (int i = 0; i <= g.rows; ++i) {
      for (int j = 0; j <= g.cols; ++j) {
        if (g.mark(i, j) == Mark::kShown) continue;
        const Interval bounds = ReaderBounds(g, threshold, i, j);
        INFO("entry (" << i << ", " << j << ") = " << g.at(i, j) << ": reader's bounds [" << bounds.min << ", "
                       << bounds.max << "]");
        CHECK(bounds.max - bounds.min >= 1 - kEps);
      }
    }
  }
  CHECK(safe > 100);
  INFO("withheld: " << withheld);
  CHECK(withheld < safe);
}

TEST_CASE("the engine's check of a hidden count agrees with the reader's linear bounds", "[stats][suppression]") {
  // Random markings, not only the ones Protect makes: Determined must be exact both ways.
  const int64_t threshold = 5;
  std::mt19937 random(7);
  std::uniform_int_distribution<int> coin(0, 2);
  int determined = 0, free = 0;
  for (int n = 0; n < 400; ++n) {
    Grid g = RandomTable(random);
    for (size_t k = 0; k < g.values.size(); ++k) {
      if (g.values[k] >= 1 && g.values[k] < threshold) g.marks[k] = Mark::kPrimary;
      else if (g.values[k] >= threshold && coin(random) == 0) g.marks[k] = Mark::kSecondary;
    }
    INFO("table " << n << ":\n" << Show(g));
    for (int i = 0; i <= g.rows; ++i) {
      for (int j = 0; j <= g.cols; ++j) {
        if (g.mark(i, j) == Mark::kShown) continue;
        const Interval bounds = ReaderBounds(g, threshold, i, j);
        INFO("entry (" << i << ", " << j << "): [" << bounds.min << ", " << bounds.max << "]");
        const bool pinned = bounds.max - bounds.min < 0.5;
        CHECK(Determined(g, threshold, i, j) == pinned);
        (pinned ? determined : free)++;
      }
    }
  }
  CHECK(determined > 20);
  CHECK(free > 20);
}

TEST_CASE("a small count in a two-way table hides the other corners of a rectangle", "[stats][suppression]") {
  Grid g(2, 2);
  g.at(0, 0) = 3;
  g.at(0, 1) = 10;
  g.at(1, 0) = 8;
  g.at(1, 1) = 12;
  g.Total();
  Protect(g, 5);
  CHECK(g.mark(0, 0) == Mark::kPrimary);
  CHECK(g.mark(0, 1) == Mark::kSecondary);
  CHECK(g.mark(1, 0) == Mark::kSecondary);
  CHECK(g.mark(1, 1) == Mark::kSecondary);
  for (int k : {0, 1, 2}) {
    CHECK(g.mark(k, 2) == Mark::kShown);  // the row totals
    CHECK(g.mark(2, k) == Mark::kShown);  // the column totals and the grand total
  }
  // The reader knows 0 <= x00 <= 4, and every value from 0 to 4 fits the totals (13, 20; 11, 22).
  const Interval bounds = ReaderBounds(g, 5, 0, 0);
  CHECK(bounds.min == 0);
  CHECK(bounds.max == 4);
}

TEST_CASE("a small count in a one-way table hides a second count and the totals that would tell", "[stats][suppression]") {
  Grid g(3, 1);
  g.at(0, 0) = 12;
  g.at(1, 0) = 2;
  g.at(2, 0) = 30;
  g.Total();
  Protect(g, 5);
  CHECK(g.mark(1, 0) == Mark::kPrimary);
  CHECK(g.mark(0, 0) == Mark::kSecondary);  // the smallest other count of the column
  CHECK(g.mark(2, 0) == Mark::kShown);
  CHECK(g.mark(3, 1) == Mark::kShown);  // the grand total: 44 = 12 + 2 + 30, both hidden
  CHECK_FALSE(Determined(g, 5, 1, 0));
}

TEST_CASE("a zero next to a lone small count is the complement that costs the reader nothing", "[stats][suppression]") {
  Grid g(2, 3);
  const int64_t values[2][3] = {{3, 0, 50}, {20, 30, 40}};
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) g.at(i, j) = values[i][j];
  }
  g.Total();
  Protect(g, 5);
  CHECK(g.mark(0, 0) == Mark::kPrimary);
  CHECK(g.mark(0, 1) == Mark::kPrimary);  // the zero reads "< 5": the row's 3 could be 0 to 3
  CHECK(g.mark(0, 2) == Mark::kShown);
  CHECK(g.mark(0, 3) == Mark::kShown);
  for (int i = 0; i <= 2; ++i) {
    for (int j = 0; j <= 3; ++j) {
      if (g.mark(i, j) != Mark::kShown) CHECK_FALSE(Determined(g, 5, i, j));
    }
  }
}

TEST_CASE("a table without small counts is published whole, zeros included", "[stats][suppression]") {
  Grid g(2, 3);
  const int64_t values[2][3] = {{0, 25, 7}, {5, 0, 40}};
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) g.at(i, j) = values[i][j];
  }
  g.Total();
  Protect(g, 5);
  for (Mark m : g.marks) CHECK(m == Mark::kShown);
}

TEST_CASE("a count of 1 that is also its row's total is hidden with it, and complements protect both", "[stats][suppression]") {
  Grid g(3, 2);
  const int64_t values[3][2] = {{1, 0}, {20, 9}, {14, 30}};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) g.at(i, j) = values[i][j];
  }
  g.Total();
  Protect(g, 5);
  CHECK(g.mark(0, 0) == Mark::kPrimary);
  CHECK(g.mark(0, 2) == Mark::kPrimary);  // row 0's total is 1 too
  for (int i = 0; i <= 3; ++i) {
    for (int j = 0; j <= 2; ++j) {
      if (g.mark(i, j) != Mark::kShown) CHECK_FALSE(Determined(g, 5, i, j));
    }
  }
}
