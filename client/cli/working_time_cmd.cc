// relais working-time add|edit|list — each counsellor's declared working time (quotité), from which
// the annual report converts the minutes recorded on visits and follow-ups into full-time
// equivalents by mission: docs/CLI.md, "Working time"; docs/STATISTICS.md, "Staff time".
#include <CLI/CLI.hpp>

#include "client/cli/commands.h"
#include "client/cli/field_options.h"
#include "client/cli/output.h"
#include "client/cli/record_cmd.h"
#include "client/replica_port.h"
#include "client/territories.h"

namespace relais::cli {

namespace {

const std::vector<std::string_view> kColumns = {"id", "counsellor", "percent", "valid_from", "valid_until", "territory"};

const schema::Table& WorkingTimes() { return *schema::FindTable("working_times"); }

const schema::Value* Given(const client::FieldValues& values, std::string_view field) {
  for (const auto& [name, value] : values) {
    if (name == field) return &value;
  }
  return nullptr;
}

Status AddWorkingTime(Context& ctx, const FieldOptions& options) {
  auto values = options.Values();
  if (!values) return values.error();
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  if (!Given(*values, "territory")) {
    auto territory = (*replica)->GetState(client::kStateDefaultTerritory);
    if (!territory) return territory.error();
    if (*territory) values->emplace_back("territory", **territory);
  }
  if (const schema::Value* territory = Given(*values, "territory")) {
    RELAIS_TRY(client::CheckDeclaredTerritory(**replica, *territory));
  }
  const schema::Value* from = Given(*values, "valid_from");
  const schema::Value* until = Given(*values, "valid_until");
  if (from && until && *from && *until && schema::IsIsoDate(**from) && schema::IsIsoDate(**until) && **until < **from) {
    return MakeError(ErrorCode::kValidation, "valid_until: « " + **until + " » est avant le début de la période (" +
                                                 **from + ") : donnez une fin au plus tôt le jour du début");
  }
  return AddRecord(ctx, WorkingTimes(), *values);
}

}  // namespace

void RegisterWorkingTimeCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand(
      "working-time", "Temps de travail déclaré des conseillers (quotité), pour le temps par mission en ETP");
  group->require_subcommand(1);
  const schema::Table& table = WorkingTimes();

  CLI::App* add = group->add_subcommand(
      "add", "Déclare le temps de travail d'un conseiller sur une période (--counsellor, --percent, --valid-from)");
  auto add_fields = std::make_shared<FieldOptions>(*add, table, std::vector<std::string_view>{}, false);
  add->callback([&ctx, add_fields] { ctx.Finish(AddWorkingTime(ctx, *add_fields)); });

  AddEditCommand(*group, ctx, table, "Modifie la quotité ou la période d'un temps de travail déclaré");

  CLI::App* list = group->add_subcommand("list", "Liste les temps de travail déclarés");
  auto counsellor = std::make_shared<std::string>();
  list->add_option("--counsellor", *counsellor, "Seulement ce conseiller");
  list->callback([&ctx, counsellor] {
    client::ListFilter filter;
    if (!counsellor->empty()) filter.equals.emplace_back("counsellor", *counsellor);
    filter.limit = 0;
    ctx.Finish(ListRecords(ctx, WorkingTimes(), filter, kColumns));
  });
}

}  // namespace relais::cli
