// relais contact add|edit|show|list|search — the shared partner directory.
#include <CLI/CLI.hpp>

#include "client/cli/commands.h"
#include "client/cli/field_options.h"
#include "client/cli/output.h"
#include "client/cli/record_cmd.h"

namespace relais::cli {

namespace {

const std::vector<std::string_view> kColumns = {"id",   "organisation", "last_name", "first_name",
                                                "role", "phone",        "commune"};

Status ShowContact(Context& ctx, const std::string& id) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto record = FindRecord(**records, schema::ContactsTable(), id);
  if (!record) return record.error();
  RecordDetails details;
  auto pending = (*records)->PendingFor(schema::ContactsTable(), id);
  if (!pending) return pending.error();
  details.pending = *pending;
  PrintRecordDetails(ctx, schema::ContactsTable(), *record, details);
  return OkStatus();
}

}  // namespace

void RegisterContactCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("contact", "Annuaire des partenaires : organismes et correspondants");
  group->require_subcommand(1);
  const schema::Table& contacts = schema::ContactsTable();

  CLI::App* add = group->add_subcommand("add", "Ajoute un contact (--organisation obligatoire)");
  auto add_fields = std::make_shared<FieldOptions>(*add, contacts, std::vector<std::string_view>{}, false);
  add->callback([&ctx, add_fields] {
    auto values = add_fields->Values();
    ctx.Finish(values ? AddRecord(ctx, schema::ContactsTable(), *values) : Status(values.error()));
  });

  AddEditCommand(*group, ctx, contacts, "Modifie les champs donnés d'un contact");

  CLI::App* show = group->add_subcommand("show", "Affiche un contact");
  auto show_id = std::make_shared<std::string>();
  show->add_option("id", *show_id, "Identifiant du contact")->required();
  show->callback([&ctx, show_id] { ctx.Finish(ShowContact(ctx, *show_id)); });

  CLI::App* list = group->add_subcommand("list", "Liste les contacts, par organisme");
  struct ListOptions {
    std::string kind, commune;
    size_t limit = 50;
  };
  auto list_opts = std::make_shared<ListOptions>();
  list->add_option("--kind", list_opts->kind, "Seulement ce type d'organisme");
  list->add_option("--commune", list_opts->commune, "Seulement cette commune");
  list->add_option("--limit", list_opts->limit, "Nombre maximum de lignes (0 : toutes ; défaut 50)")
      ->check(CLI::Range(0, 1000000));
  list->callback([&ctx, list_opts] {
    client::ListFilter filter;
    if (!list_opts->kind.empty()) filter.equals.emplace_back("kind", list_opts->kind);
    if (!list_opts->commune.empty()) filter.equals.emplace_back("commune", list_opts->commune);
    filter.limit = list_opts->limit;
    ctx.Finish(ListRecords(ctx, schema::ContactsTable(), filter, kColumns));
  });

  AddSearchCommand(*group, ctx, contacts, "Cherche par organisme, nom, fonction, commune, courriel", kColumns);
}

}  // namespace relais::cli
