// relais case add|edit|show|list|search|close
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include <CLI/CLI.hpp>

#include "client/access_log.h"
#include "client/cases.h"
#include "client/cli/clock_notes.h"
#include "client/cli/commands.h"
#include "client/cli/conflict_text.h"
#include "client/cli/field_options.h"
#include "client/cli/output.h"
#include "client/cli/record_cmd.h"
#include "client/cli/referral_text.h"
#include "client/purge.h"
#include "client/referrals.h"
#include "client/replica_port.h"
#include "client/territories.h"

namespace relais::cli {

namespace {

const std::vector<std::string_view> kListColumns = {"id",     "last_name", "first_name", "commune",
                                                    "status", "territory", "opened_on",  "closed_on"};
const std::vector<std::string_view> kFollowupColumns = {"date", "kind", "author", "participants", "text"};

constexpr char kDefaultTerritoryKey[] = "default_territory";

bool Has(const client::FieldValues& values, std::string_view field) {
  for (const auto& [name, value] : values) {
    if (name == field) return true;
  }
  return false;
}

// Who collects a consent recorded on this device: the device's name as enrolled (a counsellor's
// laptop), else the system login.
Result<std::string> Collector(Context& ctx) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto device = (*replica)->GetState(client::kStateDeviceName);
  if (!device) return device.error();
  if (*device && !(*device)->empty()) return **device;
  if (const char* user = std::getenv("USER"); user && *user) return std::string(user);
  const struct passwd* account = getpwuid(getuid());  // NOLINT(concurrency-mt-unsafe): one thread
  return std::string(account ? account->pw_name : "");
}

// The consent fields given on the command line completed with their date and collector
// (client::CompleteConsent).
Status CompleteConsent(Context& ctx, client::FieldValues& values) {
  auto collector = Collector(ctx);
  if (!collector) return collector.error();
  return client::CompleteConsent(values, client::LocalToday(*ctx.clock), *collector);
}

Status AddCase(Context& ctx, const FieldOptions& options) {
  auto values = options.Values();
  if (!values) return values.error();
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  RELAIS_TRY(CompleteConsent(ctx, *values));
  const bool opened_today = !Has(*values, "opened_on");
  if (opened_today) values->emplace_back("opened_on", client::LocalToday(*ctx.clock));
  if (!Has(*values, "territory")) {
    auto territory = (*replica)->GetState(kDefaultTerritoryKey);
    if (!territory) return territory.error();
    if (*territory) values->emplace_back("territory", **territory);
  }
  schema::Value territory, point;
  for (const auto& [field, value] : *values) {
    if (field == "territory") {
      RELAIS_TRY(client::CheckDeclaredTerritory(**replica, value));
      territory = schema::Normalize(*schema::CasesTable().FindField("territory"), value);
    }
    if (field == "reception_point") point = value;
  }
  RELAIS_TRY(client::CheckDeclaredReceptionPoint(**replica, point, territory));
  RELAIS_TRY(AddRecord(ctx, schema::CasesTable(), *values));
  for (const auto& [name, value] : *values) {
    if (name != "opened_on" || !value) continue;
    RELAIS_TRY(
        WarnAboutDate(**replica, "opened_on", *value, opened_today, "relais case edit ID --opened-on AAAA-MM-JJ"));
  }
  return OkStatus();
}

// The open conflicts of case `id` as `show` marks them: its fields held for review, and the cases
// it may duplicate (either side of a duplicate conflict).
Status AddConflicts(Context& ctx, const std::string& id, RecordDetails& details) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto records = ctx.Records();
  if (!records) return records.error();
  client::ConflictQuery query;
  query.record_id = id;
  auto notices = client::StoredConflicts(**replica, query);
  if (!notices) return notices.error();
  details.with_conflicts = true;
  for (const sync::ConflictNotice& n : *notices) {
    if (n.kind == "duplicate") {
      std::string other = n.record_id == id ? n.other_id : n.record_id;
      // (an empty id: the case it resembles lies outside this device's territories, unnamed)
      auto name = CaseName(**records, other);
      if (!name) return name.error();
      details.possible_duplicates.push_back({other, *name, n.id});
    } else if (n.record_id == id) {
      details.under_review.push_back({n.field, n.server_value, n.device_value, n.device, n.server_device, n.id});
    }
  }
  return OkStatus();
}

// A case this device no longer holds because retention purged it (client/purge.h) is said so;
// any other failure `error` as it is.
Error PurgedOr(Context& ctx, const std::string& id, Error error) {
  if (error.code != ErrorCode::kNotFound) return error;
  auto replica = ctx.Replica();
  if (!replica) return error;
  auto purged = client::WasPurged(**replica, id);
  if (!purged || !*purged) return error;
  auto days = client::DeviceRetentionDays(**replica);
  const std::string limit = days && *days ? "plus de " + std::to_string(**days) + " jours" : "longtemps";
  return MakeError(ErrorCode::kNotFound,
                   "le dossier " + id + ", clos depuis " + limit +
                       ", a été retiré de cet appareil selon la règle de conservation du réseau ; il reste au "
                       "centre : demandez-le à l'équipe centrale s'il doit être rouvert");
}

Status ShowCase(Context& ctx, const std::string& asked_id) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto record = FindRecord(**records, schema::CasesTable(), asked_id);
  if (!record) return PurgedOr(ctx, asked_id, record.error());
  RecordDetails details;
  // A case merged by the centre is a redirect: show the case that absorbed it, saying so.
  auto survivor = SurvivorOf(**records, schema::CasesTable(), *record);
  if (!survivor) return survivor.error();
  if (*survivor) {
    auto absorbing = (*records)->Get(schema::CasesTable(), **survivor);
    if (!absorbing) return absorbing.error();
    if (*absorbing) {
      auto name = CaseName(**records, **survivor);
      if (!name) return name.error();
      details.redirected_from = asked_id;
      details.redirect_note = "Ce dossier (" + asked_id + ") a été fusionné dans " + *name + " (" + **survivor +
                              ") par le centre ; voici le dossier qui le remplace.";
      record = std::move(**absorbing);
    } else {
      details.redirect_note = "Ce dossier a été fusionné dans le dossier " + **survivor +
                              ", qui n'est pas sur cet appareil (hors de vos territoires) ; pour la suite de ce "
                              "suivi, adressez-vous à l'équipe centrale.";
    }
  }
  const std::string id = record->id;
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  RELAIS_TRY(client::NoteCaseRead(**replica, "consultation", id));
  RELAIS_TRY(AddConflicts(ctx, id, details));
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
  // The case's referrals to partners, with their state and whether they are overdue.
  client::ReferralFilter of_case;
  of_case.case_id = id;
  auto referrals = client::ListReferrals(**records, of_case);
  if (!referrals) return referrals.error();
  nlohmann::ordered_json referral_json = nlohmann::ordered_json::array();
  for (const client::ReferralView& v : *referrals) referral_json.push_back(ReferralJson(v));
  details.more_json.emplace_back("referrals", referral_json.dump());
  details.more_text.emplace_back("Orientations (" + std::to_string(referrals->size()) + ")",
                                 referrals->empty() ? std::string() : ReferralTable(*referrals, false));
  PrintRecordDetails(ctx, schema::CasesTable(), *record, details);
  return OkStatus();
}

Status CloseCase(Context& ctx, const std::string& id, const std::string& reason, const std::string& date) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto found = FindRecord(**records, schema::CasesTable(), id);
  if (!found) return found.error();
  RELAIS_TRY(RefuseMerged(**records, schema::CasesTable(), *found));
  auto closed = client::CloseCase(**records, id, reason.empty() ? schema::Value() : schema::Value(reason),
                                  date.empty() ? schema::Value() : schema::Value(date));
  if (!closed) return closed.error();
  PrintRecord(ctx, schema::CasesTable(), *closed);
  const schema::Value& closed_on = closed->values[static_cast<size_t>(schema::CasesTable().FieldIndex("closed_on"))];
  if (closed_on) {
    RELAIS_TRY(WarnAboutDate((*records)->replica(), "closed_on", *closed_on, date.empty(),
                             "relais case edit " + id + " --closed-on AAAA-MM-JJ"));
  }
  return OkStatus();
}

}  // namespace

void RegisterCaseCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("case", "Dossiers usagers : créer, modifier, consulter, chercher, clore");
  group->require_subcommand(1);
  const schema::Table& cases = schema::CasesTable();

  CLI::App* add = group->add_subcommand("add", "Crée un dossier (ouvert aujourd'hui sauf --opened-on)");
  auto add_fields =
      std::make_shared<FieldOptions>(*add, cases, std::vector<std::string_view>{"closed_on", "close_reason"}, false);
  add->callback([&ctx, add_fields] { ctx.Finish(AddCase(ctx, *add_fields)); });

  AddEditCommand(*group, ctx, cases,
                 "Modifie les champs donnés d'un dossier (--consent-sharing oui|non : le consentement au partage, "
                 "daté d'aujourd'hui)",
                 CompleteConsent);

  CLI::App* show = group->add_subcommand("show", "Affiche un dossier et son suivi (du plus récent au plus ancien)");
  auto show_id = std::make_shared<std::string>();
  show->add_option("id", *show_id, "Identifiant du dossier")->required();
  show->callback([&ctx, show_id] { ctx.Finish(ShowCase(ctx, *show_id)); });

  CLI::App* list = group->add_subcommand("list", "Liste les dossiers, par nom");
  struct ListOptions {
    std::string territory, status;
    bool open = false;
    bool all = false;
    size_t limit = 50;
  };
  auto list_opts = std::make_shared<ListOptions>();
  list->add_option("--territory", list_opts->territory, "Seulement ce territoire");
  list->add_option("--status", list_opts->status, "Seulement ce statut");
  list->add_flag("--open", list_opts->open, "Seulement les dossiers ouverts");
  list->add_option("--limit", list_opts->limit, "Nombre maximum de lignes (0 : toutes ; défaut 50)")
      ->check(CLI::Range(0, 1000000));
  list->add_flag("--all", list_opts->all, "Aussi les dossiers fusionnés dans un autre par le centre");
  list->callback([&ctx, list_opts] {
    client::ListFilter filter;
    if (!list_opts->territory.empty()) filter.equals.emplace_back("territory", list_opts->territory);
    if (!list_opts->status.empty()) filter.equals.emplace_back("status", list_opts->status);
    if (!list_opts->all) filter.equals.emplace_back("merged_into", std::nullopt);
    filter.open_only = list_opts->open;
    filter.limit = list_opts->limit;
    ctx.Finish(ListRecords(ctx, schema::CasesTable(), filter, kListColumns));
  });

  CLI::App* search = group->add_subcommand(
      "search", "Cherche par nom, prénom, commune, CP, téléphone, courriel (sans accents ni majuscules, début de mot)");
  struct SearchOptions {
    std::vector<std::string> words;
    size_t limit = 50;
  };
  auto search_opts = std::make_shared<SearchOptions>();
  search->add_option("text", search_opts->words, "Mots cherchés")->required();
  search->add_option("--limit", search_opts->limit, "Nombre maximum de résultats (défaut 50)")
      ->check(CLI::Range(0, 1000000));
  search->callback([&ctx, search_opts] {
    ctx.Finish(SearchRecords(ctx, schema::CasesTable(), search_opts->words, search_opts->limit, kListColumns));
  });

  CLI::App* close = group->add_subcommand("close", "Clôt un dossier (aujourd'hui sauf --date)");
  struct CloseOptions {
    std::string id, reason, date;
  };
  auto close_opts = std::make_shared<CloseOptions>();
  close->add_option("id", close_opts->id, "Identifiant du dossier")->required();
  close->add_option("--reason", close_opts->reason, "Motif de clôture");
  close->add_option("--date", close_opts->date, "Date de clôture (AAAA-MM-JJ)");
  close->callback(
      [&ctx, close_opts] { ctx.Finish(CloseCase(ctx, close_opts->id, close_opts->reason, close_opts->date)); });
}

}  // namespace relais::cli
