#include "client/cli/record_cmd.h"

#include <CLI/CLI.hpp>

#include "client/cli/field_options.h"
#include "client/cli/output.h"

namespace relais::cli {

namespace {

// "case" for cases, "contact" for contacts: the command group that names the table.
std::string Noun(const schema::Table& table) {
  std::string name(table.name);
  return name == "followups" ? "followup" : name.substr(0, name.size() - 1);
}

}  // namespace

Result<schema::Record> FindRecord(client::Records& records, const schema::Table& table, const std::string& id) {
  auto found = records.Get(table, id);
  if (!found) return found.error();
  if (!*found) {
    std::string noun = Noun(table);
    return MakeError(ErrorCode::kNotFound, "no " + noun + " with id " + id + " in this replica (find ids with: relais " +
                                               noun + " search NAME, or relais " + noun + " list)");
  }
  return std::move(**found);
}

Status AddRecord(Context& ctx, const schema::Table& table, const client::FieldValues& values) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto created = (*records)->Create(table, values);
  if (!created) return created.error();
  PrintRecord(ctx, table, *created);
  return OkStatus();
}

Status EditRecord(Context& ctx, const schema::Table& table, const std::string& id, const client::FieldValues& changes) {
  if (changes.empty()) {
    return MakeError(ErrorCode::kUsage, "nothing to change: give at least one --FIELD VALUE (or --clear FIELD)");
  }
  auto records = ctx.Records();
  if (!records) return records.error();
  RELAIS_TRY(FindRecord(**records, table, id));
  auto edited = (*records)->Edit(table, id, changes);
  if (!edited) return edited.error();
  if (!edited->changed) PrintNote(ctx, "Aucune modification : les valeurs données sont déjà enregistrées.");
  PrintRecord(ctx, table, edited->record);
  return OkStatus();
}

Status ListRecords(Context& ctx, const schema::Table& table, const client::ListFilter& filter,
                   const std::vector<std::string_view>& columns) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto found = (*records)->List(table, filter);
  if (!found) return found.error();
  PrintRecords(ctx, table, *found, columns);
  return OkStatus();
}

Status SearchRecords(Context& ctx, const schema::Table& table, const std::vector<std::string>& words, size_t limit,
                     const std::vector<std::string_view>& columns) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : " ") + w;
  auto records = ctx.Records();
  if (!records) return records.error();
  auto found = (*records)->Search(table, text, limit);
  if (!found) return found.error();
  PrintRecords(ctx, table, *found, columns);
  return OkStatus();
}

void AddEditCommand(CLI::App& group, Context& ctx, const schema::Table& table, const std::string& description) {
  CLI::App* edit = group.add_subcommand("edit", description);
  auto id = std::make_shared<std::string>();
  edit->add_option("id", *id, "Identifiant")->required();
  auto fields = std::make_shared<FieldOptions>(*edit, table, std::vector<std::string_view>{}, true);
  edit->callback([&ctx, &table, id, fields] {
    auto values = fields->Values();
    ctx.Finish(values ? EditRecord(ctx, table, *id, *values) : Status(values.error()));
  });
}

void AddSearchCommand(CLI::App& group, Context& ctx, const schema::Table& table, const std::string& description,
                      const std::vector<std::string_view>& columns) {
  CLI::App* search = group.add_subcommand("search", description);
  struct SearchOptions {
    std::vector<std::string> words;
    size_t limit = 50;
  };
  auto options = std::make_shared<SearchOptions>();
  search->add_option("text", options->words, "Mots cherchés")->required();
  search->add_option("--limit", options->limit, "Nombre maximum de résultats (défaut 50)");
  search->callback([&ctx, &table, options, columns] {
    ctx.Finish(SearchRecords(ctx, table, options->words, options->limit, columns));
  });
}

}  // namespace relais::cli
