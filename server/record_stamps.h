// The stamps of a stored record: the HLC of each field's last write, which the merge rules compare
// (sync/merge.h) and the store keeps as the text of a `stamps` column (server/stored_json.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/model.h"
#include "sync/merge.h"

namespace relais::server {

// One set of stamps, held as the map, as the column's text, or both: whichever a caller asks for
// is made from the other on first use and kept. A new record's stamps are made as text alone
// (ForCreate), a record read from a store or merged holds the map, and either gives the other.
// A value type; not thread-safe, not even its const members (they fill what they make).
class RecordStamps {
 public:
  // No stamp (a record of an append-only table, or one of no field).
  RecordStamps() = default;
  explicit RecordStamps(sync::FieldStamps map) : map_(std::move(map)) {}
  // The stamps of a new record of `table` holding `values`: every set field at `hlc`. Made as the
  // column's text alone (EncodeCreateStamps: a push of new records made one map per record, 9 % of
  // the centre's instructions); the map is made only if a caller asks for it.
  static RecordStamps ForCreate(const schema::Table& table, const std::vector<schema::Value>& values,
                                std::string_view hlc);

  // The stamp of each field that has one.
  const sync::FieldStamps& map() const;
  // The text of the `stamps` column (EncodeStamps of the map). The reference lives as long as the
  // stamps are not changed.
  const std::string& text() const;

  // Sets the stamp of `field`.
  void Set(const std::string& field, std::string stamp);

  friend bool operator==(const RecordStamps& a, const RecordStamps& b) { return a.map() == b.map(); }

 private:
  // At least one is set; when both are, they say the same.
  mutable std::optional<sync::FieldStamps> map_ = sync::FieldStamps{};
  mutable std::optional<std::string> text_;
};

}  // namespace relais::server
