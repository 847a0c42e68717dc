#include "client/cli/field_options.h"

#include <CLI/CLI.hpp>

namespace relais::cli {

FieldOptions::FieldOptions(CLI::App& command, const schema::Table& table, std::vector<std::string_view> skip,
                           bool clearable)
    : table_(table) {
  for (const schema::Field& f : table.fields) {
    bool skipped = f.central_only;  // written by the centre only (a merge's redirect): no option
    for (std::string_view s : skip) skipped |= s == f.name;
    if (skipped) continue;
    auto entry = std::make_unique<Entry>();
    entry->field = std::string(f.name);
    std::string flag = "--" + entry->field;
    for (char& c : flag) c = c == '_' ? '-' : c;
    std::string help(f.label);
    if (!f.choices.empty()) {
      help += " (";
      for (size_t i = 0; i < f.choices.size(); ++i) help += (i ? ", " : "") + std::string(f.choices[i]);
      help += ")";
    } else if (f.type == schema::FieldType::kDate) {
      help += " (AAAA-MM-JJ)";
    }
    if (f.required) help += " [obligatoire]";
    entry->option = command.add_option(flag, entry->value, help);
    entries_.push_back(std::move(entry));
  }
  if (clearable) command.add_option("--clear", clear_, "Vide ce champ (répétable), ex. --clear phone");
}

Result<client::FieldValues> FieldOptions::Values() const {
  client::FieldValues values;
  for (const auto& e : entries_) {
    if (e->option->count() == 0) continue;
    values.emplace_back(e->field, e->value.empty() ? schema::Value() : schema::Value(e->value));
  }
  for (std::string name : clear_) {
    for (char& c : name) c = c == '-' ? '_' : c;
    if (table_.FieldIndex(name) < 0) {
      return MakeError(ErrorCode::kUsage, "--clear : " + name + " n'est pas un champ de " + std::string(table_.name));
    }
    for (const auto& [given, value] : values) {
      if (given == name) return MakeError(ErrorCode::kUsage, "--clear " + name + " : ce champ reçoit aussi une valeur");
    }
    values.emplace_back(name, std::nullopt);
  }
  return values;
}

}  // namespace relais::cli
