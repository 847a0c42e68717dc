// relais referral add|update|list — a case referred to a partner (orientation vers un partenaire),
// the partner's answer and its return (client/referrals.h).
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/access_log.h"
#include "client/cli/commands.h"
#include "client/cli/output.h"
#include "client/cli/referral_text.h"
#include "client/referrals.h"

namespace relais::cli {

namespace {

using nlohmann::ordered_json;

std::string Choices(std::string_view field) {
  std::string list;
  for (std::string_view c : schema::ReferralsTable().FindField(field)->choices)
    list += (list.empty() ? "" : ", ") + std::string(c);
  return list;
}

Status AddReferral(Context& ctx, const client::ReferralInput& input) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto created = client::AddReferral(**records, input);
  if (!created) return created.error();
  PrintRecord(ctx, schema::ReferralsTable(), *created);
  return OkStatus();
}

Status UpdateReferral(Context& ctx, const std::string& id, const client::ReferralUpdate& update) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto edited = client::UpdateReferral(**records, id, update);
  if (!edited) return edited.error();
  PrintRecord(ctx, schema::ReferralsTable(), edited->record);
  if (!edited->changed) PrintNote(ctx, "(rien n'a changé : l'orientation avait déjà ces valeurs)");
  return OkStatus();
}

Status ListReferrals(Context& ctx, const client::ReferralFilter& filter) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto found = client::ListReferrals(**records, filter);
  if (!found) return found.error();
  if (!filter.case_id.empty()) {
    auto replica = ctx.Replica();
    if (!replica) return replica.error();
    RELAIS_TRY(client::NoteCaseRead(**replica, "orientations", filter.case_id));
  }
  if (ctx.json) {
    ordered_json out = ordered_json::array();
    for (const client::ReferralView& v : *found) out.push_back(ReferralJson(v));
    std::cout << out.dump(2) << "\n";
    return OkStatus();
  }
  if (found->empty()) {
    std::cout << "Aucune orientation.\n";
    return OkStatus();
  }
  std::cout << ReferralTable(*found, true);
  std::cout << found->size() << " orientation(s)\n";
  return OkStatus();
}

}  // namespace

void RegisterReferralCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand(
      "referral", "Orientations vers un partenaire : envoi (avec le consentement au partage), réponse, retour");
  group->require_subcommand(1);

  CLI::App* add = group->add_subcommand(
      "add", "Oriente un dossier vers un partenaire (refusé sans le consentement de la personne au partage)");
  auto in = std::make_shared<client::ReferralInput>();
  add->add_option("case_id", in->case_id, "Identifiant du dossier")->required();
  add->add_option("--to", in->organisation, "Identifiant de l'organisme partenaire (annuaire)")->required();
  add->add_option("--contact", in->contact, "Identifiant du correspondant chez le partenaire (annuaire)");
  add->add_option("--service", in->service, "Prestation (" + Choices("service") + ")")->required();
  add->add_option("--due", in->due_on, "Échéance du retour du partenaire (AAAA-MM-JJ)");
  add->add_option("--note", in->note, "Note");
  add->callback([&ctx, in] { ctx.Finish(AddReferral(ctx, *in)); });

  CLI::App* update = group->add_subcommand(
      "update",
      "Note la réponse ou le retour du partenaire (envoyee → acceptee | refusee ; acceptee → realisee | "
      "abandonnee)");
  auto id = std::make_shared<std::string>();
  auto up = std::make_shared<client::ReferralUpdate>();
  update->add_option("id", *id, "Identifiant de l'orientation")->required();
  update->add_option("--status", up->status, "Nouvel état (" + Choices("status") + ")");
  update->add_option("--reason", up->reason, "Motif du refus (obligatoire avec --status refusee)");
  update->add_option("--feedback", up->feedback, "Retour du partenaire");
  update->callback([&ctx, id, up] { ctx.Finish(UpdateReferral(ctx, *id, *up)); });

  CLI::App* list = group->add_subcommand("list", "Liste les orientations, par échéance");
  auto filter = std::make_shared<client::ReferralFilter>();
  list->add_option("--case", filter->case_id, "Seulement ce dossier");
  list->add_option("--status", filter->status, "Seulement cet état (" + Choices("status") + ")");
  list->add_flag("--overdue", filter->overdue_only,
                 "Seulement celles en retard (échéance passée, ni réalisée, ni abandonnée, ni refusée)");
  list->callback([&ctx, filter] { ctx.Finish(ListReferrals(ctx, *filter)); });
}

}  // namespace relais::cli
