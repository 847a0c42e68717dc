#include "stats/engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "schema/display.h"

namespace relais::stats {

namespace {

int Digits(const std::string& s, size_t at, size_t n) { return std::stoi(s.substr(at, n)); }

std::chrono::sys_days DayOf(const std::string& date) {
  return std::chrono::sys_days{std::chrono::year{Digits(date, 0, 4)} / Digits(date, 5, 2) / Digits(date, 8, 2)};
}

// The ISO 8601 week of a date: "2026-S41" (S for semaine), its year the year of its Thursday.
std::string IsoWeek(const std::string& date) {
  using namespace std::chrono;
  const sys_days day = DayOf(date);
  const sys_days thursday = day + days{3 - static_cast<int>(weekday{day}.iso_encoding() - 1)};
  const year y = year_month_day{thursday}.year();
  const auto week = (thursday - sys_days{y / January / 1}).count() / 7 + 1;
  char out[32];
  std::snprintf(out, sizeof out, "%04d-S%02d", static_cast<int>(y), static_cast<int>(week));
  return out;
}

constexpr const char* kMonths[] = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                                   "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};

constexpr const char* kUnknown = "non renseigné";

std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

std::string RowDimensionsOf(const Measure& m) {
  std::vector<std::string_view> names;
  for (const Dimension& d : Dimensions()) {
    if (d.row && m.Find(d.name)) names.push_back(d.name);
  }
  return Join(names);
}

std::string ColumnDimensionsOf(const Measure& m) {
  std::vector<std::string_view> names;
  for (const Dimension& d : Dimensions()) {
    if (d.column && m.Find(d.name)) names.push_back(d.name);
  }
  return Join(names);
}

Error Usage(const std::string& message) { return MakeError(ErrorCode::kUsage, "stats : " + message); }

const schema::Field* FieldOf(const Dimension& d) {
  if (d.field_table.empty()) return nullptr;
  const schema::Table* t = schema::FindTable(d.field_table);
  return t ? t->FindField(d.field) : nullptr;
}

// The French words of a folded key.
std::string LabelOf(const Dimension& d, const std::string& key, bool null) {
  if (null) return kUnknown;
  if (d.fold == Fold::kMonth) return std::string(kMonths[Digits(key, 5, 2) - 1]) + " " + key.substr(0, 4);
  const schema::Field* f = FieldOf(d);
  if (f && f->type == schema::FieldType::kCodeList) {
    // One code of the list: its words as an enumeration's.
    schema::Field one = *f;
    one.type = schema::FieldType::kEnum;
    return schema::DisplayValue(&one, key);
  }
  return schema::DisplayValue(f, key);
}

// A folded key: the value, or none for null (sorted last).
struct Key {
  bool null = false;
  std::string text;
  auto operator<=>(const Key&) const = default;
};

std::vector<Key> FoldValue(const Dimension& d, const schema::Value& raw) {
  if (!raw) return {Key{true, {}}};
  switch (d.fold) {
    case Fold::kValue:
      return {Key{false, *raw}};
    case Fold::kMonth:
      return {Key{false, raw->substr(0, 7)}};
    case Fold::kWeek:
      return {Key{false, IsoWeek(*raw)}};
    case Fold::kCodeList: {
      std::vector<Key> keys;
      for (size_t at = 0; at <= raw->size();) {
        const size_t comma = std::min(raw->find(',', at), raw->size());
        keys.push_back(Key{false, raw->substr(at, comma - at)});
        at = comma + 1;
      }
      return keys;
    }
  }
  return {};
}

// The order of a dimension's keys: its declared choices first, in their order; then other values
// in byte order (months and weeks sort as text); null last.
int Rank(const Dimension& d, const Key& key) {
  if (key.null) return 1 << 20;
  if (const schema::Field* f = FieldOf(d)) {
    for (size_t i = 0; i < f->choices.size(); ++i) {
      if (f->choices[i] == key.text) return static_cast<int>(i);
    }
  }
  return 1 << 10;
}

struct KeyOrder {
  const Dimension* d;
  bool operator()(const Key& a, const Key& b) const {
    const int ra = Rank(*d, a), rb = Rank(*d, b);
    return ra != rb ? ra < rb : a < b;
  }
};

}  // namespace

std::pair<std::string, std::string> LastMonth(const std::string& today) {
  int y = Digits(today, 0, 4), m = Digits(today, 5, 2) - 1;
  if (m == 0) {
    m = 12;
    --y;
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  char from[32], to[32];
  std::snprintf(from, sizeof from, "%04d-%02d-01", y, m);
  std::snprintf(to, sizeof to, "%04d-%02d-%02d", y, m, kDays[m - 1] + (m == 2 && leap ? 1 : 0));
  return {from, to};
}

Status CheckQuery(const Query& q) {
  const Measure* m = FindMeasure(q.measure);
  if (!m) {
    std::vector<std::string_view> names;
    for (const Measure& each : Measures()) names.push_back(each.name);
    return Usage("mesure inconnue « " + q.measure + " » (mesures possibles : " + Join(names) + ")");
  }
  for (const std::string* date : {&q.from, &q.to}) {
    if (!schema::IsIsoDate(*date)) return Usage("« " + *date + " » n'est pas une date qui existe (attendu : AAAA-MM-JJ)");
  }
  if (q.from > q.to) return Usage("la période finit (" + q.to + ") avant de commencer (" + q.from + ")");
  if (q.by.empty() || q.by.size() > 2) return Usage("--by prend une ou deux dimensions (possibles pour " + q.measure + " : " + RowDimensionsOf(*m) + ")");
  if (q.by.size() == 2 && q.by[0] == q.by[1]) return Usage("--by nomme deux fois « " + q.by[0] + " »");
  for (const std::string& name : q.by) {
    const Dimension* d = FindDimension(name);
    if (!d || !d->row || !m->Find(name)) {
      return Usage("on ne peut pas compter « " + q.measure + " » par « " + name + " » (--by possibles pour " +
                   q.measure + " : " + RowDimensionsOf(*m) + ")");
    }
  }
  if (!q.breakdown.empty()) {
    const Dimension* d = FindDimension(q.breakdown);
    if (!d || !d->column || !m->Find(q.breakdown)) {
      return Usage("« " + q.measure + " » ne se ventile pas selon « " + q.breakdown + " » (--breakdown possibles pour " +
                   q.measure + " : " + ColumnDimensionsOf(*m) + ")");
    }
  }
  if (q.min_count < kLowestMinCount) {
    return Usage("--min-count " + std::to_string(q.min_count) + " : le seuil ne descend pas sous " +
                 std::to_string(kLowestMinCount) + " (--internal pour un tableau d'usage interne)");
  }
  return OkStatus();
}

std::pair<std::string, std::vector<std::string>> QuerySql(const Query& q) {
  const Measure& m = *FindMeasure(q.measure);
  std::vector<std::string> names = q.by;
  if (!q.breakdown.empty()) names.push_back(q.breakdown);
  std::string select, group;
  for (size_t i = 0; i < names.size(); ++i) {
    // A month is cut in SQL (fewer groups to return); a week needs the calendar, folded after.
    const std::string sql(m.Find(names[i])->sql);
    select += (FindDimension(names[i])->fold == Fold::kMonth ? "substr(" + sql + ", 1, 7)" : sql) + ", ";
    group += (i ? ", " : "") + std::to_string(i + 1);
  }
  if (!m.distinct.empty()) {
    select += std::string(m.distinct) + ", ";
    group += ", " + std::to_string(names.size() + 1);
  }
  std::string where = std::string(m.date) + " >= ?1 AND " + std::string(m.date) + " <= ?2";
  if (!m.where.empty()) where += " AND " + std::string(m.where);
  if (!m.distinct.empty()) where += " AND " + std::string(m.distinct) + " IS NOT NULL";
  std::vector<std::string> params{q.from, q.to};
  if (q.territory) {
    where += " AND " + std::string(m.territory) + " = ?3";
    params.push_back(*q.territory);
  }
  return {"SELECT " + select + "count(*) FROM " + std::string(m.from) + " WHERE " + where + " GROUP BY " + group,
          params};
}

int QueryColumns(const Query& q) {
  const Measure* m = FindMeasure(q.measure);
  return static_cast<int>(q.by.size()) + (q.breakdown.empty() ? 0 : 1) + (m && !m->distinct.empty() ? 1 : 0) + 1;
}

Result<StatsTable> Compute(const Query& q, Database& db) {
  RELAIS_TRY(CheckQuery(q));
  StatsTable t;
  t.query = q;
  t.measure = FindMeasure(q.measure);
  for (const std::string& name : q.by) t.by.push_back(FindDimension(name));
  if (!q.breakdown.empty()) t.breakdown = FindDimension(q.breakdown);
  const size_t dims = t.by.size();
  const bool distinct = !t.measure->distinct.empty();

  // The rows of the GROUP BY, folded: a row key (one per --by), a column key, a count (or the
  // people of the cell).
  using RowKey = std::vector<Key>;
  std::map<std::pair<RowKey, Key>, int64_t> counts;
  std::map<std::pair<RowKey, Key>, std::set<std::string>> people;
  std::vector<std::set<Key, KeyOrder>> seen_by;
  for (const Dimension* d : t.by) seen_by.emplace_back(KeyOrder{d});
  std::set<Key, KeyOrder> seen_columns(KeyOrder{t.breakdown ? t.breakdown : t.by[0]});
  std::set<RowKey> seen_rows;
  const auto [sql, params] = QuerySql(q);
  std::string failure;
  RELAIS_TRY(db.Read(sql, params, QueryColumns(q), [&](const std::vector<schema::Value>& row) {
    RowKey key;
    for (size_t i = 0; i < dims; ++i) {
      const std::vector<Key> folded = FoldValue(*t.by[i], row[i]);
      key.push_back(folded.front());
      seen_by[i].insert(folded.front());
    }
    seen_rows.insert(key);
    std::vector<Key> columns = t.breakdown ? FoldValue(*t.breakdown, row[dims]) : std::vector<Key>{Key{false, "total"}};
    const size_t next = dims + (t.breakdown ? 1 : 0);
    const int64_t n = row[next + (distinct ? 1 : 0)] ? std::stoll(*row[next + (distinct ? 1 : 0)]) : 0;
    for (const Key& column : columns) {
      seen_columns.insert(column);
      if (distinct) {
        people[{key, column}].insert(row[next].value_or(""));
      } else {
        counts[{key, column}] += n;
      }
    }
  }));
  for (auto& [cell, who] : people) counts[cell] = static_cast<int64_t>(who.size());

  // Rows: every pair seen, in each dimension's order; a single month or week dimension lists every
  // month or week of the period, empty ones too.
  if (dims == 1 && (t.by[0]->fold == Fold::kMonth || t.by[0]->fold == Fold::kWeek)) {
    for (std::chrono::sys_days day = DayOf(q.from), last = DayOf(q.to); day <= last; day += std::chrono::days{1}) {
      const std::chrono::year_month_day ymd{day};
      char date[40];
      std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                    static_cast<unsigned>(ymd.day()));
      const Key k = FoldValue(*t.by[0], std::string(date)).front();
      seen_by[0].insert(k);
      seen_rows.insert(RowKey{k});
    }
  }
  std::vector<RowKey> rows(seen_rows.begin(), seen_rows.end());
  std::sort(rows.begin(), rows.end(), [&](const RowKey& a, const RowKey& b) {
    for (size_t i = 0; i < dims; ++i) {
      KeyOrder order{t.by[i]};
      if (order(a[i], b[i])) return true;
      if (order(b[i], a[i])) return false;
    }
    return false;
  });
  // Columns: every declared value of the breakdown, counted or not (the typology reads whole), then
  // the others seen.
  std::vector<Key> columns;
  if (t.breakdown) {
    if (const schema::Field* f = FieldOf(*t.breakdown)) {
      for (std::string_view c : f->choices) seen_columns.insert(Key{false, std::string(c)});
    }
    columns.assign(seen_columns.begin(), seen_columns.end());
  } else {
    columns.push_back(Key{false, "total"});
  }

  t.grid = Grid(static_cast<int>(rows.size()), static_cast<int>(columns.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string> keys, labels;
    for (size_t k = 0; k < dims; ++k) {
      keys.push_back(rows[i][k].text);
      labels.push_back(LabelOf(*t.by[k], rows[i][k].text, rows[i][k].null));
    }
    t.row_keys.push_back(std::move(keys));
    t.row_labels.push_back(std::move(labels));
    for (size_t j = 0; j < columns.size(); ++j) {
      auto found = counts.find({rows[i], columns[j]});
      t.grid.at(static_cast<int>(i), static_cast<int>(j)) = found == counts.end() ? 0 : found->second;
    }
  }
  for (const Key& c : columns) {
    t.column_keys.push_back(c.text);
    t.column_labels.push_back(t.breakdown ? LabelOf(*t.breakdown, c.text, c.null) : std::string(t.measure->label));
  }
  t.grid.Total();
  if (!q.internal) Protect(t.grid, q.min_count);

  for (std::string_view note : t.measure->notes) t.notes.emplace_back(note);
  if (t.breakdown && t.breakdown->fold == Fold::kCodeList) {
    t.notes.push_back("Une visite compte une fois pour chacun de ses motifs : les totaux comptent des motifs, pas des "
                      "visites.");
  }
  return t;
}

}  // namespace relais::stats
