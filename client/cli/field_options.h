#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/records.h"
#include "schema/model.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace relais::cli {

// One --kebab-case option per field of a table (birth_date → --birth-date), described by the field's
// French label, so that adding a field to the schema adds its option. Must outlive parsing: commands
// hold it in a shared_ptr captured by their callback.
class FieldOptions {
 public:
  // Adds the options of every field of `table` except those in `skip`; with `clearable`, also a
  // repeatable `--clear FIELD` that sets a field to null.
  FieldOptions(CLI::App& command, const schema::Table& table, std::vector<std::string_view> skip, bool clearable);

  // The fields given on the command line (an empty value is null). kUsage for --clear of an unknown
  // field or of a field also given a value.
  Result<client::FieldValues> Values() const;

 private:
  struct Entry {
    std::string field;
    std::string value;
    CLI::Option* option = nullptr;
  };
  const schema::Table& table_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<std::string> clear_;
};

}  // namespace relais::cli
