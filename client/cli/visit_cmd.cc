// relais visit add|amend|list — the register of visits (main courante): docs/CLI.md, "Register of visits".
#include <CLI/CLI.hpp>

#include "client/cli/clock_notes.h"
#include "client/cli/commands.h"
#include "client/cli/output.h"
#include "client/replica_port.h"
#include "client/territories.h"
#include "client/visits.h"

namespace relais::cli {

namespace {

const std::vector<std::string_view> kListColumns = {"id",      "date", "time",    "reception_point",
                                                    "channel", "mode", "reasons", "case_id"};

// The anonymous typology: given for a visit without a case, taken from the case otherwise.
constexpr const char* kTypology[] = {"status", "sector", "age_band", "commune", "postcode", "service_level"};

// The options of `visit add` and `visit amend`, by field; a value given empty clears (amend).
struct VisitOptions {
  std::string case_id, channel, mode, orientation, date, time, reception_point, territory, note, author, minutes;
  std::vector<std::string> reasons;
  std::string typology[std::size(kTypology)];
  std::vector<CLI::Option*> typology_options;
  CLI::Option* case_option = nullptr;

  client::FieldValues Values(const CLI::App& command) const {
    client::FieldValues values;
    auto given = [&command, &values](const char* flag, const char* field, const std::string& value) {
      if (command.count(flag) > 0) values.emplace_back(field, value.empty() ? schema::Value() : schema::Value(value));
    };
    given("--case", "case_id", case_id);
    given("--channel", "channel", channel);
    given("--mode", "mode", mode);
    given("--orientation", "orientation", orientation);
    given("--date", "date", date);
    given("--time", "time", time);
    given("--reception-point", "reception_point", reception_point);
    given("--territory", "territory", territory);
    given("--note", "note", note);
    given("--author", "author", author);
    given("--minutes", "minutes", minutes);
    if (!reasons.empty()) {
      std::string joined;
      for (const std::string& r : reasons) joined += (joined.empty() ? "" : ",") + r;
      values.emplace_back("reasons", joined);
    }
    for (size_t i = 0; i < std::size(kTypology); ++i) {
      if (typology_options[i]->count() > 0)
        values.emplace_back(kTypology[i], typology[i].empty() ? schema::Value() : schema::Value(typology[i]));
    }
    return values;
  }
};

std::string Choices(std::string_view field) {
  std::string list;
  for (std::string_view c : schema::VisitsTable().FindField(field)->choices)
    list += (list.empty() ? "" : ", ") + std::string(c);
  return list;
}

void AddOptions(CLI::App& command, VisitOptions& o) {
  o.case_option = command.add_option("--case", o.case_id, "Dossier de la personne reçue (sinon : visite anonyme)");
  command.add_option("--channel", o.channel, "Canal (" + Choices("channel") + ")");
  command.add_option("--mode", o.mode, "Mode (" + Choices("mode") + ")");
  command.add_option("--reason", o.reasons, "Motif, répétable (" + Choices("reasons") + ")");
  command.add_option("--orientation", o.orientation, "Partenaire vers qui la personne est orientée (id de contact)");
  command.add_option("--date", o.date, "Date (AAAA-MM-JJ, défaut aujourd'hui)");
  command.add_option("--time", o.time, "Heure (HH:MM)");
  command.add_option("--reception-point", o.reception_point, "Point d'accueil");
  command.add_option("--territory", o.territory, "Territoire (défaut : celui du point d'accueil, sinon de l'appareil)");
  command.add_option("--note", o.note, "Note");
  command.add_option("--author", o.author, "Conseiller qui a reçu la personne (pour le temps par mission)");
  command.add_option("--minutes", o.minutes, "Durée de la visite en minutes (pour le temps par mission)");
  const schema::Table& visits = schema::VisitsTable();
  for (size_t i = 0; i < std::size(kTypology); ++i) {
    const schema::Field& f = *visits.FindField(kTypology[i]);
    std::string flag = "--" + std::string(f.name);
    for (char& c : flag) c = c == '_' ? '-' : c;
    std::string help = std::string(f.label) + ", visite anonyme";
    if (!f.choices.empty()) help += " (" + Choices(f.name) + ")";
    o.typology_options.push_back(command.add_option(flag, o.typology[i], help));
  }
}

const schema::Value* Find(const client::FieldValues& values, std::string_view field) {
  for (const auto& [name, value] : values) {
    if (name == field) return &value;
  }
  return nullptr;
}

// The visit's territory: given; else the one that declares its reception point; else the case's;
// else the device's default (set at `relais init`). Then checked as `case add` checks a case's.
Status PlaceVisit(client::Replica& replica, client::Records& records, client::FieldValues& values) {
  const schema::Table& visits = schema::VisitsTable();
  const schema::Value* point = Find(values, "reception_point");
  schema::Value territory;
  if (const schema::Value* given = Find(values, "territory")) {
    territory = schema::Normalize(*visits.FindField("territory"), *given);
  }
  if (!territory && point && *point) {
    auto declared = client::DeclaredTerritories(replica);
    if (!declared) return declared.error();
    const schema::Value normalized = schema::Normalize(*visits.FindField("reception_point"), *point);
    for (const client::DeclaredTerritory& t : declared->value_or(std::vector<client::DeclaredTerritory>{})) {
      for (const std::string& p : t.reception_points) {
        if (p == normalized) territory = t.code;
      }
    }
  }
  if (!territory) {
    if (const schema::Value* case_id = Find(values, "case_id"); case_id && *case_id) {
      auto held =
          records.Get(schema::CasesTable(), schema::Normalize(*visits.FindField("case_id"), *case_id).value_or(""));
      if (!held) return held.error();
      if (*held) territory = (**held).values[static_cast<size_t>(schema::CasesTable().FieldIndex("territory"))];
    }
  }
  if (!territory) {
    auto fallback = replica.GetState(client::kStateDefaultTerritory);
    if (!fallback) return fallback.error();
    territory = *fallback;
  }
  if (!territory) {
    return MakeError(ErrorCode::kUsage,
                     "visit add : territoire inconnu ; donnez --territory ou --reception-point (relais territories)");
  }
  RELAIS_TRY(client::CheckDeclaredTerritory(replica, territory));
  RELAIS_TRY(client::CheckDeclaredReceptionPoint(replica, point ? *point : schema::Value(), territory));
  if (!Find(values, "territory")) values.emplace_back("territory", territory);
  return OkStatus();
}

Status AddVisit(Context& ctx, const CLI::App& command, const VisitOptions& o) {
  client::FieldValues values = o.Values(command);
  if (Find(values, "case_id")) {
    for (const char* field : kTypology) {
      if (Find(values, field)) {
        std::string flag = std::string("--") + field;
        for (char& c : flag) c = c == '_' ? '-' : c;
        return MakeError(ErrorCode::kUsage, "visit add : " + flag +
                                                " est la typologie d'une visite anonyme ; une visite liée à un dossier "
                                                "prend celle du dossier (corrigez le dossier avec relais case edit)");
      }
    }
  }
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto records = ctx.Records();
  if (!records) return records.error();
  RELAIS_TRY(PlaceVisit(**replica, **records, values));
  auto created = client::AddVisit(**records, values);
  if (!created) return created.error();
  PrintRecord(ctx, schema::VisitsTable(), *created);
  const schema::Value& date = created->values[static_cast<size_t>(schema::VisitsTable().FieldIndex("date"))];
  if (date) {
    RELAIS_TRY(
        WarnAboutDate(**replica, "date", *date, o.date.empty(),
                      "une visite ne se modifie pas : corrigez-la avec relais visit amend ID --date AAAA-MM-JJ"));
  }
  return OkStatus();
}

Status AmendVisit(Context& ctx, const CLI::App& command, const std::string& id, const VisitOptions& o) {
  client::FieldValues changes = o.Values(command);
  if (changes.empty()) {
    return MakeError(ErrorCode::kUsage,
                     "visit amend : donnez au moins un champ à corriger (relais visit amend --help)");
  }
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto records = ctx.Records();
  if (!records) return records.error();
  const schema::Value* point = Find(changes, "reception_point");
  const schema::Value* territory = Find(changes, "territory");
  if (point || territory) {
    auto original = (*records)->Get(schema::VisitsTable(), id);
    if (!original) return original.error();
    if (*original) {
      const schema::Table& visits = schema::VisitsTable();
      const schema::Value t =
          territory ? *territory : (**original).values[static_cast<size_t>(visits.FieldIndex("territory"))];
      RELAIS_TRY(client::CheckDeclaredTerritory(**replica, t));
      RELAIS_TRY(client::CheckDeclaredReceptionPoint(
          **replica, point ? *point : (**original).values[static_cast<size_t>(visits.FieldIndex("reception_point"))],
          t));
    }
  }
  auto created = client::AmendVisit(**records, id, changes);
  if (!created) return created.error();
  PrintRecord(ctx, schema::VisitsTable(), *created);
  return OkStatus();
}

struct ListOptions {
  std::string date, from, to, reception_point;
  bool all = false;
};

Status ListVisits(Context& ctx, const ListOptions& o) {
  auto records = ctx.Records();
  if (!records) return records.error();
  if (!o.date.empty() && (!o.from.empty() || !o.to.empty())) {
    return MakeError(ErrorCode::kUsage, "visit list : --date ou --from/--to, pas les deux");
  }
  client::VisitFilter filter;
  const std::string today = client::LocalToday(*ctx.clock);
  filter.from = !o.date.empty() ? o.date : !o.from.empty() ? o.from : o.to.empty() ? today : "1900-01-01";
  filter.to = !o.date.empty() ? o.date : !o.to.empty() ? o.to : o.from.empty() ? today : "2100-12-31";
  filter.reception_point = o.reception_point;
  filter.with_amended = o.all;
  auto found = client::ListVisits(**records, filter);
  if (!found) return found.error();
  PrintRecords(ctx, schema::VisitsTable(), *found, kListColumns);
  return OkStatus();
}

}  // namespace

void RegisterVisitCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("visit", "Registre des visites (main courante) : une ligne par visite ou appel");
  group->require_subcommand(1);

  CLI::App* add = group->add_subcommand("add", "Note une visite ou un appel au point d'accueil, tout de suite");
  auto add_opts = std::make_shared<VisitOptions>();
  AddOptions(*add, *add_opts);
  add->callback([&ctx, add, add_opts] { ctx.Finish(AddVisit(ctx, *add, *add_opts)); });

  CLI::App* amend = group->add_subcommand(
      "amend", "Corrige une visite : une nouvelle entrée qui la remplace (l'entrée corrigée est gardée)");
  auto amend_id = std::make_shared<std::string>();
  auto amend_opts = std::make_shared<VisitOptions>();
  amend->add_option("id", *amend_id, "Identifiant de la visite à corriger")->required();
  AddOptions(*amend, *amend_opts);
  amend->callback([&ctx, amend, amend_id, amend_opts] { ctx.Finish(AmendVisit(ctx, *amend, *amend_id, *amend_opts)); });

  CLI::App* list =
      group->add_subcommand("list", "Liste les visites d'un jour (aujourd'hui par défaut) ou d'une période");
  auto list_opts = std::make_shared<ListOptions>();
  list->add_option("--date", list_opts->date, "Ce jour (AAAA-MM-JJ)");
  list->add_option("--from", list_opts->from, "Depuis ce jour inclus (AAAA-MM-JJ)");
  list->add_option("--to", list_opts->to, "Jusqu'à ce jour inclus (AAAA-MM-JJ)");
  list->add_option("--reception-point", list_opts->reception_point, "Seulement ce point d'accueil");
  list->add_flag("--all", list_opts->all, "Aussi les entrées remplacées par une correction");
  list->callback([&ctx, list_opts] { ctx.Finish(ListVisits(ctx, *list_opts)); });
}

}  // namespace relais::cli
