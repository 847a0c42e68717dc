// relais case add|edit|show|list|search|close
#include <CLI/CLI.hpp>

#include "client/cases.h"
#include "client/cli/commands.h"
#include "client/cli/field_options.h"
#include "client/cli/output.h"
#include "client/cli/record_cmd.h"

namespace relais::cli {

namespace {

const std::vector<std::string_view> kListColumns = {"id",     "last_name", "first_name", "commune",
                                                    "status", "territory", "opened_on",  "closed_on"};
const std::vector<std::string_view> kFollowupColumns = {"date", "kind", "author", "text"};

constexpr char kDefaultTerritoryKey[] = "default_territory";

bool Has(const client::FieldValues& values, std::string_view field) {
  for (const auto& [name, value] : values) {
    if (name == field) return true;
  }
  return false;
}

Status AddCase(Context& ctx, const FieldOptions& options) {
  auto values = options.Values();
  if (!values) return values.error();
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  if (!Has(*values, "opened_on")) values->emplace_back("opened_on", client::LocalToday(*ctx.clock));
  if (!Has(*values, "territory")) {
    auto territory = (*replica)->GetState(kDefaultTerritoryKey);
    if (!territory) return territory.error();
    if (*territory) values->emplace_back("territory", **territory);
  }
  return AddRecord(ctx, schema::CasesTable(), *values);
}

Status ShowCase(Context& ctx, const std::string& id) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto record = FindRecord(**records, schema::CasesTable(), id);
  if (!record) return record.error();
  RecordDetails details;
  auto pending = (*records)->PendingFor(schema::CasesTable(), id);
  if (!pending) return pending.error();
  details.pending = *pending;
  details.child_table = &schema::FollowupsTable();
  details.child_key = "followups";
  details.child_columns = kFollowupColumns;
  auto followups = client::ListFollowups(**records, id);
  if (!followups) return followups.error();
  for (const schema::Record& f : *followups) {
    auto p = (*records)->PendingFor(schema::FollowupsTable(), f.id);
    if (!p) return p.error();
    details.child_pending.push_back(p->pending > 0);
  }
  details.children = std::move(*followups);
  PrintRecordDetails(ctx, schema::CasesTable(), *record, details);
  return OkStatus();
}

Status CloseCase(Context& ctx, const std::string& id, const std::string& reason, const std::string& date) {
  auto records = ctx.Records();
  if (!records) return records.error();
  RELAIS_TRY(FindRecord(**records, schema::CasesTable(), id));
  auto closed = client::CloseCase(**records, id, reason.empty() ? schema::Value() : schema::Value(reason),
                                  date.empty() ? schema::Value() : schema::Value(date));
  if (!closed) return closed.error();
  PrintRecord(ctx, schema::CasesTable(), *closed);
  return OkStatus();
}

}  // namespace

void RegisterCaseCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("case", "Dossiers usagers : créer, modifier, consulter, chercher, clore");
  group->require_subcommand(1);
  const schema::Table& cases = schema::CasesTable();

  CLI::App* add = group->add_subcommand("add", "Crée un dossier (ouvert aujourd'hui sauf --opened-on)");
  auto add_fields = std::make_shared<FieldOptions>(*add, cases, std::vector<std::string_view>{"closed_on", "close_reason"}, false);
  add->callback([&ctx, add_fields] { ctx.Finish(AddCase(ctx, *add_fields)); });

  AddEditCommand(*group, ctx, cases, "Modifie les champs donnés d'un dossier");

  CLI::App* show = group->add_subcommand("show", "Affiche un dossier et son suivi (du plus récent au plus ancien)");
  auto show_id = std::make_shared<std::string>();
  show->add_option("id", *show_id, "Identifiant du dossier")->required();
  show->callback([&ctx, show_id] { ctx.Finish(ShowCase(ctx, *show_id)); });

  CLI::App* list = group->add_subcommand("list", "Liste les dossiers, par nom");
  struct ListOptions {
    std::string territory, status;
    bool open = false;
    size_t limit = 50;
  };
  auto list_opts = std::make_shared<ListOptions>();
  list->add_option("--territory", list_opts->territory, "Seulement ce territoire");
  list->add_option("--status", list_opts->status, "Seulement ce statut");
  list->add_flag("--open", list_opts->open, "Seulement les dossiers ouverts");
  list->add_option("--limit", list_opts->limit, "Nombre maximum de lignes (0 : toutes ; défaut 50)");
  list->callback([&ctx, list_opts] {
    client::ListFilter filter;
    if (!list_opts->territory.empty()) filter.equals.emplace_back("territory", list_opts->territory);
    if (!list_opts->status.empty()) filter.equals.emplace_back("status", list_opts->status);
    filter.open_only = list_opts->open;
    filter.limit = list_opts->limit;
    ctx.Finish(ListRecords(ctx, schema::CasesTable(), filter, kListColumns));
  });

  AddSearchCommand(*group, ctx, cases,
                   "Cherche par nom, prénom, commune, CP, téléphone, courriel (sans accents ni majuscules, début de mot)",
                   kListColumns);

  CLI::App* close = group->add_subcommand("close", "Clôt un dossier (aujourd'hui sauf --date)");
  struct CloseOptions {
    std::string id, reason, date;
  };
  auto close_opts = std::make_shared<CloseOptions>();
  close->add_option("id", close_opts->id, "Identifiant du dossier")->required();
  close->add_option("--reason", close_opts->reason, "Motif de clôture");
  close->add_option("--date", close_opts->date, "Date de clôture (AAAA-MM-JJ)");
  close->callback([&ctx, close_opts] { ctx.Finish(CloseCase(ctx, close_opts->id, close_opts->reason, close_opts->date)); });
}

}  // namespace relais::cli
