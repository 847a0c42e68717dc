// relais followup add|list
#include <CLI/CLI.hpp>

#include "client/cases.h"
#include "client/cli/clock_notes.h"
#include "client/cli/commands.h"
#include "client/cli/output.h"
#include "client/cli/record_cmd.h"

namespace relais::cli {

namespace {

const std::vector<std::string_view> kColumns = {"id", "date", "kind", "author", "next_date", "text"};

struct AddOptions {
  std::string case_id, kind, text, date, author, next;
};

Status AddFollowup(Context& ctx, const AddOptions& o) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto found = FindRecord(**records, schema::CasesTable(), o.case_id);
  if (!found) return found.error();
  RELAIS_TRY(RefuseMerged(**records, schema::CasesTable(), *found));
  client::FieldValues values = {{"kind", o.kind}, {"text", o.text}};
  if (!o.date.empty()) values.emplace_back("date", o.date);
  if (!o.author.empty()) values.emplace_back("author", o.author);
  if (!o.next.empty()) values.emplace_back("next_date", o.next);
  auto created = client::AddFollowup(**records, o.case_id, values);
  if (!created) return created.error();
  PrintRecord(ctx, schema::FollowupsTable(), *created);
  const schema::Value& date = created->values[static_cast<size_t>(schema::FollowupsTable().FieldIndex("date"))];
  if (date) {
    RELAIS_TRY(WarnAboutDate((*records)->replica(), "date", *date, o.date.empty(),
                             "un suivi ne se modifie pas : ajoutez-en un à la bonne date avec --date AAAA-MM-JJ"));
  }
  return OkStatus();
}

Status ListFollowups(Context& ctx, const std::string& case_id) {
  auto records = ctx.Records();
  if (!records) return records.error();
  RELAIS_TRY(FindRecord(**records, schema::CasesTable(), case_id));
  auto found = client::ListFollowups(**records, case_id);
  if (!found) return found.error();
  PrintRecords(ctx, schema::FollowupsTable(), *found, kColumns);
  return OkStatus();
}

}  // namespace

void RegisterFollowupCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("followup", "Suivi d'un dossier : entrées datées, jamais modifiées");
  group->require_subcommand(1);

  std::string kinds;
  for (std::string_view k : schema::FollowupsTable().FindField("kind")->choices)
    kinds += (kinds.empty() ? "" : ", ") + std::string(k);
  CLI::App* add = group->add_subcommand("add", "Ajoute une entrée de suivi à un dossier");
  auto o = std::make_shared<AddOptions>();
  add->add_option("case_id", o->case_id, "Identifiant du dossier")->required();
  add->add_option("--kind", o->kind, "Type (" + kinds + ")")->required();
  add->add_option("--text", o->text, "Texte de l'entrée")->required();
  add->add_option("--date", o->date, "Date (AAAA-MM-JJ, défaut aujourd'hui)");
  add->add_option("--author", o->author, "Auteur");
  add->add_option("--next", o->next, "Date de la prochaine action (AAAA-MM-JJ) : l'agenda la montre à faire");
  add->callback([&ctx, o] { ctx.Finish(AddFollowup(ctx, *o)); });

  CLI::App* list = group->add_subcommand("list", "Liste le suivi d'un dossier, du plus récent au plus ancien");
  auto case_id = std::make_shared<std::string>();
  list->add_option("case_id", *case_id, "Identifiant du dossier")->required();
  list->callback([&ctx, case_id] { ctx.Finish(ListFollowups(ctx, *case_id)); });
}

}  // namespace relais::cli
