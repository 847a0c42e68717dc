#include "client/cli/record_cmd.h"

#include <CLI/CLI.hpp>

#include "client/access_log.h"
#include "client/cli/conflict_text.h"
#include "client/cli/field_options.h"
#include "client/cli/output.h"
#include "client/territories.h"

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
    return MakeError(ErrorCode::kNotFound, "aucune fiche " + noun + " d'identifiant " + id +
                                               " dans cette base (trouvez l'identifiant avec : relais " + noun +
                                               " search NOM, ou relais " + noun + " list)");
  }
  return std::move(**found);
}

Result<std::optional<std::string>> SurvivorOf(client::Records& records, const schema::Table& table,
                                              const schema::Record& record) {
  int at = table.FieldIndex("merged_into");
  if (at < 0 || !record.values[static_cast<size_t>(at)]) return std::optional<std::string>();
  std::string survivor = *record.values[static_cast<size_t>(at)];
  // A survivor may itself have been merged later; a cycle would be a centre's bug: stop after a few.
  for (int hop = 0; hop < 8; ++hop) {
    auto next = records.Get(table, survivor);
    if (!next) return next.error();
    if (!*next || !(*next)->values[static_cast<size_t>(at)]) break;
    survivor = *(*next)->values[static_cast<size_t>(at)];
  }
  return std::optional<std::string>(survivor);
}

Status RefuseMerged(client::Records& records, const schema::Table& table, const schema::Record& record) {
  auto survivor = SurvivorOf(records, table, record);
  if (!survivor) return survivor.error();
  if (!*survivor) return OkStatus();
  auto name = CaseName(records, **survivor);
  if (!name) return name.error();
  // A survivor outside this device's territories is not on it: nothing to open here
  // (docs/PROTOCOL.md, "Redirects").
  if (name->empty()) {
    return MakeError(ErrorCode::kValidation, "le dossier " + record.id +
                                                 " a été fusionné par le centre dans le dossier " + **survivor +
                                                 ", qui est hors de vos territoires : rien ne s'y saisit plus sur cet "
                                                 "appareil ; pour la suite de ce suivi, adressez-vous à l'équipe "
                                                 "centrale");
  }
  return MakeError(ErrorCode::kValidation, "le dossier " + record.id +
                                               " a été fusionné par le centre dans le dossier " + **survivor + " (" +
                                               *name +
                                               ") : saisissez sur celui-ci (relais case "
                                               "show " +
                                               **survivor + ")");
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
    return MakeError(ErrorCode::kUsage, "rien à modifier : donnez au moins un --CHAMP VALEUR (ou --clear CHAMP)");
  }
  auto records = ctx.Records();
  if (!records) return records.error();
  auto found = FindRecord(**records, table, id);
  if (!found) return found.error();
  RELAIS_TRY(RefuseMerged(**records, table, *found));
  if (&table == &schema::CasesTable()) {
    // The point the edit writes, or the case's point when it moves the case, against the territory
    // the case would have: a point the case already holds is kept (docs/SERVER.md, "Territories").
    const schema::Field& territory_field = *table.FindField("territory");
    const schema::Value& held_point = found->values[static_cast<size_t>(table.FieldIndex("reception_point"))];
    schema::Value territory = found->values[static_cast<size_t>(table.FieldIndex("territory"))];
    schema::Value point = held_point;
    bool moves = false, writes_point = false;
    for (const auto& [field, value] : changes) {
      if (field == "territory") {
        RELAIS_TRY(client::CheckDeclaredTerritory((*records)->replica(), value));
        schema::Value to = schema::Normalize(territory_field, value);
        moves = to != territory;
        territory = std::move(to);
      }
      if (field == "reception_point") {
        point = schema::Normalize(*table.FindField("reception_point"), value);
        writes_point = point && point != held_point;
      }
    }
    if (moves || writes_point) RELAIS_TRY(client::CheckDeclaredReceptionPoint((*records)->replica(), point, territory));
  }
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
  if (table.name == schema::CasesTable().name) {  // the access log: how many people found, not the words
    auto replica = ctx.Replica();
    if (!replica) return replica.error();
    RELAIS_TRY(client::NoteSearch(**replica, static_cast<int64_t>(found->size())));
  }
  PrintRecords(ctx, table, *found, columns);
  return OkStatus();
}

void AddEditCommand(CLI::App& group, Context& ctx, const schema::Table& table, const std::string& description,
                    std::function<Status(Context&, client::FieldValues&)> complete) {
  CLI::App* edit = group.add_subcommand("edit", description);
  auto id = std::make_shared<std::string>();
  edit->add_option("id", *id, "Identifiant")->required();
  auto fields = std::make_shared<FieldOptions>(*edit, table, std::vector<std::string_view>{}, true);
  edit->callback([&ctx, &table, id, fields, complete] {
    auto values = fields->Values();
    if (!values) return ctx.Finish(values.error());
    if (complete) {
      if (Status completed = complete(ctx, *values); !completed) return ctx.Finish(completed);
    }
    ctx.Finish(EditRecord(ctx, table, *id, *values));
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
  search->add_option("--limit", options->limit, "Nombre maximum de résultats (défaut 50)")
      ->check(CLI::Range(0, 1000000));
  search->callback([&ctx, &table, options, columns] {
    ctx.Finish(SearchRecords(ctx, table, options->words, options->limit, columns));
  });
}

}  // namespace relais::cli
