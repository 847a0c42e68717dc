#include "stats/model.h"

namespace relais::stats {

namespace {

// A case's age band on the day it was opened (the bands of the register, schema/model.cc): whole
// years between birth_date and opened_on, in SQL both databases run; under 16 or no birth date: null.
#define RELAIS_AGE "(CAST(substr(c.opened_on, 1, 4) AS INTEGER) - CAST(substr(c.birth_date, 1, 4) AS INTEGER) - " \
                   "CASE WHEN substr(c.opened_on, 6, 5) < substr(c.birth_date, 6, 5) THEN 1 ELSE 0 END)"
constexpr std::string_view kCaseAgeBand =
    "CASE WHEN c.birth_date IS NULL OR " RELAIS_AGE " < 16 THEN NULL WHEN " RELAIS_AGE " <= 25 THEN '16-25' WHEN " RELAIS_AGE
    " <= 44 THEN '26-44' WHEN " RELAIS_AGE " <= 54 THEN '45-54' ELSE '55+' END";
#undef RELAIS_AGE

// A visit stands unless another entry amends it (the amendment stands in its place: docs/SCHEMA.md).
constexpr std::string_view kVisitStands = "NOT EXISTS (SELECT 1 FROM visits a WHERE a.amends = v.id)";
// A follow-up entry counts once: a correction stands for the entry it corrects (which counts), and
// an entry withdrawn counts not (docs/SCHEMA.md, "Rectification of follow-ups").
constexpr std::string_view kFollowupStands =
    "f.amends IS NULL AND NOT EXISTS (SELECT 1 FROM followups w WHERE w.amends = f.id AND w.amendment = 'retrait')";

constexpr std::string_view kAnonymousNote =
    "Les visites anonymes (sans dossier) comptent comme visites, pas comme personnes.";

std::vector<DimensionSql> VisitSources() {
  return {{"reception_point", "v.reception_point"}, {"territory", "v.territory"}, {"month", "v.date"},
          {"week", "v.date"},  {"status", "v.status"},   {"sector", "v.sector"},     {"age_band", "v.age_band"},
          {"commune", "v.commune"}, {"reason", "v.reasons"}, {"channel", "v.channel"}, {"mode", "v.mode"},
          {"service_level", "v.service_level"}};
}

std::vector<DimensionSql> CaseSources(std::string_view date) {
  return {{"reception_point", "c.reception_point"},
          {"territory", "c.territory"},
          {"month", date},
          {"week", date},
          {"counsellor", "c.referent"},
          {"status", "c.status"},
          {"sector", "c.sector"},
          {"age_band", kCaseAgeBand},
          {"commune", "c.commune"},
          {"service_level", "c.service_level"}};
}

std::vector<Measure> BuildMeasures() {
  std::vector<Measure> m;
  m.push_back({"visits",
               "Visites",
               "visits v",
               "v.date",
               "v.territory",
               kVisitStands,
               "",
               VisitSources(),
               {kAnonymousNote}});
  m.push_back({"people",
               "Personnes reçues",
               "visits v",
               "v.date",
               "v.territory",
               kVisitStands,
               "v.case_id",
               VisitSources(),
               {"Personnes distinctes reçues : chacune compte une fois par case du tableau, quel que soit le nombre de "
                "ses visites ; les totaux additionnent les cases.",
                "Les visites anonymes (sans dossier) ne sont pas comptées ici : voir --measure visits."}});
  m.push_back({"cases_opened", "Dossiers ouverts", "cases c", "c.opened_on", "c.territory", "c.merged_into IS NULL",
               "", CaseSources("c.opened_on"), {}});
  m.push_back({"cases_closed", "Dossiers clos", "cases c", "c.closed_on", "c.territory", "c.merged_into IS NULL", "",
               CaseSources("c.closed_on"), {}});
  // The typology of a follow-up entry or an appointment is its case's today (not at its date).
  m.push_back({"followups",
               "Entrées de suivi",
               "followups f JOIN cases c ON c.id = f.case_id",
               "f.date",
               "c.territory",
               kFollowupStands,
               "",
               {{"reception_point", "c.reception_point"},
                {"territory", "c.territory"},
                {"month", "f.date"},
                {"week", "f.date"},
                {"counsellor", "f.author"},
                {"followup_kind", "f.kind"},
                {"status", "c.status"},
                {"sector", "c.sector"},
                {"service_level", "c.service_level"}},
               {"Le statut, le secteur et le niveau sont ceux du dossier aujourd'hui.",
                "Une entrée corrigée compte une fois ; une entrée retirée ne compte pas."}});
  m.push_back({"appointments",
               "Rendez-vous",
               "appointments a LEFT JOIN permanences p ON p.id = a.permanence_id LEFT JOIN cases c ON c.id = a.case_id",
               "a.date",
               "a.territory",
               "",
               "",
               {{"reception_point", "p.reception_point"},
                {"territory", "a.territory"},
                {"month", "a.date"},
                {"week", "a.date"},
                {"outcome", "a.outcome"},
                {"status", "c.status"},
                {"sector", "c.sector"},
                {"service_level", "c.service_level"}},
               {"Le point d'accueil d'un rendez-vous est celui de sa permanence (non renseigné hors permanence)."}});
  m.push_back({"referrals",
               "Orientations vers des partenaires",
               "referrals r JOIN cases c ON c.id = r.case_id LEFT JOIN contacts o ON o.id = r.organisation",
               "r.sent_on",
               "c.territory",
               "",
               "",
               {{"reception_point", "c.reception_point"},
                {"territory", "c.territory"},
                {"month", "r.sent_on"},
                {"week", "r.sent_on"},
                {"referral_service", "r.service"},
                {"referral_outcome", "r.status"},
                {"partner", "o.organisation"},
                {"status", "c.status"},
                {"sector", "c.sector"},
                {"service_level", "c.service_level"}},
               {"Une orientation compte à sa date d'envoi ; son issue est son statut aujourd'hui.",
                "Le statut, le secteur et le niveau sont ceux du dossier aujourd'hui."}});
  return m;
}

std::vector<Dimension> BuildDimensions() {
  return {
      {"reception_point", "Point d'accueil", Fold::kValue, true, false, "", ""},
      {"territory", "Territoire", Fold::kValue, true, false, "", ""},
      {"month", "Mois", Fold::kMonth, true, false, "", ""},
      {"week", "Semaine", Fold::kWeek, true, false, "", ""},
      {"counsellor", "Conseiller", Fold::kValue, true, false, "", ""},
      {"status", "Statut", Fold::kValue, false, true, "visits", "status"},
      {"sector", "Secteur", Fold::kValue, false, true, "visits", "sector"},
      {"age_band", "Tranche d'âge", Fold::kValue, false, true, "visits", "age_band"},
      {"commune", "Commune", Fold::kValue, false, true, "", ""},
      {"reason", "Motif", Fold::kCodeList, false, true, "visits", "reasons"},
      {"channel", "Canal", Fold::kValue, false, true, "visits", "channel"},
      {"mode", "Mode", Fold::kValue, false, true, "visits", "mode"},
      {"service_level", "Niveau", Fold::kValue, false, true, "", ""},
      {"followup_kind", "Type de suivi", Fold::kValue, false, true, "followups", "kind"},
      {"outcome", "Issue du rendez-vous", Fold::kValue, false, true, "appointments", "outcome"},
      {"referral_service", "Service demandé", Fold::kValue, false, true, "referrals", "service"},
      {"referral_outcome", "Issue de l'orientation", Fold::kValue, false, true, "referrals", "status"},
      {"partner", "Partenaire", Fold::kValue, true, true, "", ""},
  };
}

}  // namespace

const DimensionSql* Measure::Find(std::string_view dimension) const {
  for (const DimensionSql& s : sources) {
    if (s.dimension == dimension) return &s;
  }
  return nullptr;
}

const std::vector<Dimension>& Dimensions() {
  static const std::vector<Dimension> kDimensions = BuildDimensions();
  return kDimensions;
}

const Dimension* FindDimension(std::string_view name) {
  for (const Dimension& d : Dimensions()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const std::vector<Measure>& Measures() {
  static const std::vector<Measure> kMeasures = BuildMeasures();
  return kMeasures;
}

const Measure* FindMeasure(std::string_view name) {
  for (const Measure& m : Measures()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace relais::stats
