// relais followup add|list|correct|withdraw
#include <CLI/CLI.hpp>

#include "client/access_log.h"
#include "client/cases.h"
#include "client/cli/clock_notes.h"
#include "client/cli/commands.h"
#include "client/cli/output.h"
#include "client/cli/record_cmd.h"

namespace relais::cli {

namespace {

const std::vector<std::string_view> kColumns = {"id", "date", "kind", "author", "participants", "next_date", "text"};
// With --all: which entries rectify which.
const std::vector<std::string_view> kAllColumns = {"id",     "date",         "kind",      "author", "amendment",
                                                   "amends", "participants", "next_date", "text"};

struct AddOptions {
  std::string case_id, kind, text, date, author, next, minutes;
  std::vector<std::string> participants;
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
  if (!o.participants.empty()) {
    auto joined = client::JoinParticipants(o.participants);
    if (!joined) return joined.error();
    values.emplace_back("participants", *joined);
  }
  if (!o.next.empty()) values.emplace_back("next_date", o.next);
  if (!o.minutes.empty()) values.emplace_back("minutes", o.minutes);
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

Status ListFollowups(Context& ctx, const std::string& case_id, bool all) {
  auto records = ctx.Records();
  if (!records) return records.error();
  RELAIS_TRY(FindRecord(**records, schema::CasesTable(), case_id));
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  RELAIS_TRY(client::NoteCaseRead(**replica, "suivis", case_id));
  auto found = client::ListFollowups(**records, case_id, all);
  if (!found) return found.error();
  PrintRecords(ctx, schema::FollowupsTable(), *found, all ? kAllColumns : kColumns);
  return OkStatus();
}

Status RectifyFollowup(Context& ctx, const std::string& entry_id, const client::Rectification& how) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto created = client::RectifyFollowup(**records, entry_id, how);
  if (!created) return created.error();
  PrintRecord(ctx, schema::FollowupsTable(), *created);
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
  add->add_option("--participant", o->participants,
                  "Participant, « Nom (organisme) » (répétable ; une réunion tripartite en nomme au moins deux : "
                  "le partenaire et la personne)")
      ->allow_extra_args(false);
  add->add_option("--minutes", o->minutes, "Durée de l'entretien ou de la démarche en minutes (temps par mission)");
  add->add_option("--next", o->next, "Date de la prochaine action (AAAA-MM-JJ) : l'agenda la montre à faire");
  add->callback([&ctx, o] { ctx.Finish(AddFollowup(ctx, *o)); });

  CLI::App* list = group->add_subcommand("list", "Liste le suivi d'un dossier, du plus récent au plus ancien");
  auto case_id = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  list->add_option("case_id", *case_id, "Identifiant du dossier")->required();
  list->add_flag("--all", *all, "Montre aussi les entrées corrigées ou retirées, et les rectifications");
  list->callback([&ctx, case_id, all] { ctx.Finish(ListFollowups(ctx, *case_id, *all)); });

  CLI::App* correct =
      group->add_subcommand("correct", "Corrige une entrée de suivi : une nouvelle entrée la remplace partout");
  auto c = std::make_shared<client::Rectification>();
  auto entry = std::make_shared<std::string>();
  c->amendment = "correction";
  correct->add_option("entry_id", *entry, "Identifiant de l'entrée à corriger")->required();
  correct->add_option("--text", c->text, "Texte corrigé")->required();
  correct->add_option("--reason", c->reason, "Motif de la correction");
  correct->add_option("--author", c->author, "Auteur");
  correct->callback([&ctx, entry, c] { ctx.Finish(RectifyFollowup(ctx, *entry, *c)); });

  CLI::App* withdraw =
      group->add_subcommand("withdraw", "Retire une entrée de suivi (écrite sur le mauvais dossier, par exemple)");
  auto w = std::make_shared<client::Rectification>();
  auto withdrawn = std::make_shared<std::string>();
  w->amendment = "retrait";
  withdraw->add_option("entry_id", *withdrawn, "Identifiant de l'entrée à retirer")->required();
  withdraw->add_option("--reason", w->reason, "Motif du retrait")->required();
  withdraw->add_option("--author", w->author, "Auteur");
  withdraw->callback([&ctx, withdrawn, w] { ctx.Finish(RectifyFollowup(ctx, *withdrawn, *w)); });
}

}  // namespace relais::cli
