// stats/ — the statistics of the network (docs/STATISTICS.md): counts of a declared measure over a
// period, by one or two declared dimensions and an optional breakdown, computed in SQL over a store's
// tables (the device's replica or the central store: the same table and column names, schema/model.cc),
// with small counts protected (stats/suppression.h). Both programs link it; it depends only on schema/
// and base/, and reaches a database only through stats::Source (stats/engine.h): it never knows
// client/ or server/.
//
// This header declares what can be counted (measures) and how counts can be split (dimensions):
// adding a measure or a dimension is one declaration in stats/model.cc.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace relais::stats {

// How a dimension's raw value, as its SQL expression gives it, becomes the keys of table rows or
// columns (the folding happens after the GROUP BY, on few rows).
enum class Fold {
  kValue,     // the value itself (null: "non renseigné")
  kMonth,     // a date's month, "2026-10"
  kWeek,      // a date's ISO week, "2026-S41"
  kCodeList,  // one key per code of a code list ("emploi,mobilite"): a record counts once per code
};

// A way to split counts, named by --by (row dimensions) or --breakdown (columns).
struct Dimension {
  std::string_view name;   // the option's value: "reception_point"
  std::string_view label;  // the French heading: "Point d'accueil"
  Fold fold;
  bool row = false;        // allowed in --by
  bool column = false;     // allowed in --breakdown
  // The known values in their order (their French words come from schema::DisplayValue through
  // `field_table`.`field`); values outside come after, in byte order.
  std::string_view field_table;
  std::string_view field;
};

// Where a measure finds a dimension: the SQL expression over the measure's FROM clause.
struct DimensionSql {
  std::string_view dimension;
  std::string_view sql;
};

// What is counted.
struct Measure {
  std::string_view name;    // --measure: "visits"
  std::string_view label;   // "Visites"
  std::string_view from;    // "visits v"
  std::string_view date;    // the date the period and month/week read: "v.date"
  std::string_view territory;  // the territory --territory filters on
  std::string_view where;   // what every counted row satisfies besides the period ("" when nothing)
  // When not empty: the measure counts distinct values of this expression (people), never null.
  std::string_view distinct;
  std::vector<DimensionSql> sources;  // the dimensions the measure has, with their expressions
  std::vector<std::string_view> notes;  // said under every table of the measure (French)

  const DimensionSql* Find(std::string_view dimension) const;
};

const std::vector<Dimension>& Dimensions();
const Dimension* FindDimension(std::string_view name);
const std::vector<Measure>& Measures();
const Measure* FindMeasure(std::string_view name);

}  // namespace relais::stats
