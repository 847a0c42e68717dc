#include "server/record_stamps.h"

#include <stdexcept>

#include "server/stored_json.h"

namespace relais::server {

RecordStamps RecordStamps::ForCreate(const schema::Table& table, const std::vector<schema::Value>& values,
                                     std::string_view hlc) {
  RecordStamps stamps;
  stamps.map_.reset();
  stamps.text_ = EncodeCreateStamps(table, values, hlc);
  return stamps;
}

const sync::FieldStamps& RecordStamps::map() const {
  if (!map_) {
    // The text alone is only ever one this program wrote (ForCreate): failing to read it back is a
    // bug, not bad input.
    auto decoded = DecodeStamps(*text_);
    if (!decoded) throw std::logic_error("stamps made by EncodeCreateStamps do not decode: " + decoded.error().message);
    map_ = std::move(*decoded);
  }
  return *map_;
}

const std::string& RecordStamps::text() const {
  if (!text_) text_ = EncodeStamps(*map_);
  return *text_;
}

void RecordStamps::Set(const std::string& field, std::string stamp) {
  map();
  (*map_)[field] = std::move(stamp);
  text_.reset();
}

}  // namespace relais::server
