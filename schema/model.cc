#include "schema/model.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "base/text.h"

namespace relais::schema {

namespace {

constexpr std::string_view kStatuses[] = {"demandeur_emploi", "salarie",     "retraite",
                                          "etudiant",         "independant", "sans_activite"};
constexpr std::string_view kSectors[] = {"tourisme_hotellerie", "btp",       "commerce",  "agriculture",
                                         "services_personne",   "industrie", "transport", "sante_social",
                                         "administration",      "numerique"};
constexpr std::string_view kFollowupKinds[] = {"accueil",           "entretien",  "orientation",
                                               "bilan_competences", "formation",  "business_plan",
                                               "mediation",         "tripartite", "autre"};
constexpr std::string_view kVisitChannels[] = {"accueil", "telephone", "courriel", "permanence"};
constexpr std::string_view kVisitModes[] = {"flux", "rendez_vous"};
constexpr std::string_view kVisitReasons[] = {
    "emploi",    "formation", "creation_activite", "orientation", "droits_demarches",
    "numerique", "mobilite",  "logement",          "sante",       "autre"};
constexpr std::string_view kAgeBands[] = {"16-25", "26-44", "45-54", "55+"};
constexpr std::string_view kWeekdays[] = {"lundi", "mardi", "mercredi", "jeudi", "vendredi"};
constexpr std::string_view kEvery[] = {"1", "2", "4"};
constexpr std::string_view kSessionChanges[] = {"annule", "deplace"};
constexpr std::string_view kOutcomes[] = {"vu", "absent", "excuse"};
constexpr std::string_view kAmendments[] = {"correction", "retrait"};
constexpr std::string_view kCallBack[] = {"a_rappeler"};
constexpr std::string_view kYesNo[] = {"oui", "non"};
constexpr std::string_view kReferralServices[] = {
    "orientation",    "bilan_competences", "formation",      "business_plan",
    "prefaisabilite", "etude_marche",      "accompagnement", "autre"};
constexpr std::string_view kReferralStatuses[] = {"envoyee", "acceptee", "refusee", "realisee", "abandonnee"};
// The referral loop (docs/SCHEMA.md, "referrals — orientation vers un partenaire"): sent, then the
// partner accepts or refuses it; an accepted one is done or given up. A person may also give up
// before the partner answers.
constexpr Transition kReferralMoves[] = {{"", "envoyee"},          {"envoyee", "acceptee"},
                                         {"envoyee", "refusee"},   {"envoyee", "abandonnee"},
                                         {"acceptee", "realisee"}, {"acceptee", "abandonnee"}};

// The longest time one visit or follow-up entry may take, in minutes (a whole working day).
constexpr int64_t kMaxMinutes = 600;

using FT = FieldType;
using MR = MergeRule;

std::vector<Table> BuildTables() {
  std::vector<Table> tables;
  // Rules: identity, status, service level and territory change a person's rights or who follows
  // them, so a disagreement goes to central staff (kReview). Contact details are facts that the
  // most recent writer knows best (kLww). Notes are free text written by people: two versions are
  // never folded into one silently, so they go to review too. See docs/SCHEMA.md.
  tables.push_back(
      Table{"cases",
            TableKind::kMutable,
            Scope::kTerritory,
            {
                Identifying({"last_name", FT::kText, true, MR::kReview, "Nom", 100}),
                Identifying({"first_name", FT::kText, true, MR::kReview, "Prénom", 100}),
                Identifying({"birth_date", FT::kDate, false, MR::kReview, "Naissance", 10}),
                Identifying({"postcode", FT::kPostcode, false, MR::kLww, "CP", 5}),
                Identifying({"commune", FT::kText, false, MR::kLww, "Commune", 100}),
                Identifying({"phone", FT::kPhone, false, MR::kLww, "Téléphone", 20}),
                Identifying({"email", FT::kEmail, false, MR::kLww, "Courriel", 254}),
                {"status", FT::kEnum, false, MR::kReview, "Statut", 40, kStatuses},
                {"sector", FT::kEnum, false, MR::kLww, "Secteur", 40, kSectors},
                {"service_level", FT::kInt, false, MR::kReview, "Niveau", 1, {}, 1, 3},
                {"reception_point", FT::kText, false, MR::kLww, "Point d'accueil", 100},
                {"territory", FT::kText, false, MR::kReview, "Territoire", 100},
                {"referent", FT::kText, false, MR::kLww, "Référent", 100},
                {"opened_on", FT::kDate, true, MR::kLww, "Ouvert le", 10},
                {"closed_on", FT::kDate, false, MR::kLww, "Clos le", 10},
                Identifying({"close_reason", FT::kText, false, MR::kLww, "Motif de clôture", 200}),
                Identifying({"notes", FT::kLongText, false, MR::kReview, "Notes", 10000}),
                // Set by central staff when this case was a duplicate merged into another: devices follow
                // the redirect (docs/SCHEMA.md, "Duplicates").
                {"merged_into", FT::kId, false, MR::kImmutable, "Fusionné dans", 36, {}, 0, 0, true},
                // The person's consent to the processing of their data and, apart, to its sharing
                // with partners (a referral needs it): each a statement made at a date to a
                // counsellor. The latest statement is the one that holds (kLww); the one it
                // replaced stays in the history. docs/SCHEMA.md, "Consent".
                {"consent_processing", FT::kEnum, false, MR::kLww, "Consentement au traitement", 3, kYesNo},
                {"consent_processing_on", FT::kDate, false, MR::kLww, "Traitement : recueilli le", 10},
                {"consent_processing_by", FT::kText, false, MR::kLww, "Traitement : recueilli par", 100},
                {"consent_sharing", FT::kEnum, false, MR::kLww, "Consentement au partage", 3, kYesNo},
                {"consent_sharing_on", FT::kDate, false, MR::kLww, "Partage : recueilli le", 10},
                {"consent_sharing_by", FT::kText, false, MR::kLww, "Partage : recueilli par", 100},
            }});
  tables.push_back(Table{"followups",
                         TableKind::kAppendOnly,
                         Scope::kParentCase,
                         {
                             {"case_id", FT::kId, true, MR::kImmutable, "Dossier", 36},
                             {"kind", FT::kEnum, true, MR::kImmutable, "Type", 40, kFollowupKinds},
                             {"date", FT::kDate, true, MR::kImmutable, "Date", 10},
                             Identifying({"text", FT::kLongText, true, MR::kImmutable, "Texte", 20000}),
                             {"author", FT::kText, false, MR::kImmutable, "Auteur", 100},
                             // Who took part in a tripartite meeting (reception point + partner + person),
                             // "Nom (organisme)" joined by "; ".
                             Identifying({"participants",
                                          FT::kText,
                                          false,
                                          MR::kImmutable,
                                          "Participants",
                                          1000,
                                          {},
                                          0,
                                          0,
                                          false,
                                          {},
                                          {"kind", "tripartite"}}),
                             // The date of the next action this entry calls for (call back, check a step):
                             // the agenda shows it as due until a later entry on the case follows it up.
                             {"next_date", FT::kDate, false, MR::kImmutable, "Prochaine action", 10},
                             // Rectification (docs/SCHEMA.md, "Rectification of follow-ups"): an entry
                             // that corrects or withdraws the one `amends` names, which then no longer
                             // shows (it stays in the store for staff).
                             {"amends", FT::kId, false, MR::kImmutable, "Rectifie l'entrée", 36},
                             {"amendment", FT::kEnum, false, MR::kImmutable, "Rectification", 20, kAmendments},
                             Identifying({"reason", FT::kText, false, MR::kImmutable, "Motif de la rectification", 200}),
                             // The time the entry took, for the staff time by mission (docs/STATISTICS.md).
                             {"minutes", FT::kInt, false, MR::kImmutable, "Durée (min)", 3, {}, 1, kMaxMinutes},
                         }});
  tables.push_back(Table{"contacts",
                         TableKind::kMutable,
                         Scope::kShared,
                         {
                             {"organisation", FT::kText, true, MR::kLww, "Organisme", 200},
                             {"kind", FT::kText, false, MR::kLww, "Type", 100},
                             Identifying({"last_name", FT::kText, false, MR::kLww, "Nom", 100}),
                             Identifying({"first_name", FT::kText, false, MR::kLww, "Prénom", 100}),
                             {"role", FT::kText, false, MR::kLww, "Fonction", 100},
                             Identifying({"phone", FT::kPhone, false, MR::kLww, "Téléphone", 20}),
                             Identifying({"email", FT::kEmail, false, MR::kLww, "Courriel", 254}),
                             {"commune", FT::kText, false, MR::kLww, "Commune", 100},
                         }});
  // The register of visits (main courante): one visit or call at a reception point, often of a
  // person with no case. Scoped by the reception point's territory, not by a case: an anonymous
  // visit has none, and a linked one stays where it was received. Append-only like follow-ups: a
  // mistake is corrected by a new entry whose `amends` names the entry it replaces (docs/SCHEMA.md,
  // "visits — registre des visites, main courante"). The typology (status … service_level) is the case's at the time of a linked visit,
  // copied when it is written, so the counts of a period do not move when the case changes later.
  tables.push_back(Table{"visits",
                         TableKind::kAppendOnly,
                         Scope::kTerritory,
                         {
                             {"territory", FT::kText, true, MR::kImmutable, "Territoire", 100},
                             {"reception_point", FT::kText, false, MR::kImmutable, "Point d'accueil", 100},
                             {"date", FT::kDate, true, MR::kImmutable, "Date", 10},
                             {"time", FT::kTime, false, MR::kImmutable, "Heure", 5},
                             {"channel", FT::kEnum, true, MR::kImmutable, "Canal", 40, kVisitChannels},
                             {"mode", FT::kEnum, true, MR::kImmutable, "Mode", 40, kVisitModes},
                             {"reasons", FT::kCodeList, true, MR::kImmutable, "Motifs", 200, kVisitReasons},
                             {"case_id", FT::kId, false, MR::kImmutable, "Dossier", 36},
                             {"orientation", FT::kId, false, MR::kImmutable, "Orienté vers", 36},
                             {"status", FT::kEnum, false, MR::kImmutable, "Statut", 40, kStatuses},
                             {"sector", FT::kEnum, false, MR::kImmutable, "Secteur", 40, kSectors},
                             {"age_band", FT::kEnum, false, MR::kImmutable, "Tranche d'âge", 10, kAgeBands},
                             {"commune", FT::kText, false, MR::kImmutable, "Commune", 100},
                             {"postcode", FT::kPostcode, false, MR::kImmutable, "CP", 5},
                             {"service_level", FT::kInt, false, MR::kImmutable, "Niveau", 1, {}, 1, 3},
                             Identifying({"note", FT::kLongText, false, MR::kImmutable, "Note", 2000}),
                             {"amends", FT::kId, false, MR::kImmutable, "Corrige", 36},
                             // Who received the visit, and the time it took: the staff time by mission.
                             {"author", FT::kText, false, MR::kImmutable, "Conseiller", 100},
                             {"minutes", FT::kInt, false, MR::kImmutable, "Durée (min)", 3, {}, 1, kMaxMinutes},
                         }});
  // A partner's recurring presence at a reception point. When and where it is held decide which
  // bookings stand: two offline edits of the schedule go to central staff (kReview); who holds it
  // is the record itself (a new partner is a new permanence); the contact person is a fact the
  // latest writer knows best. The territory is the scope, fixed at creation so that the sessions'
  // bookings and disruptions never part from their permanence. docs/SCHEMA.md says why.
  tables.push_back(Table{"permanences",
                         TableKind::kMutable,
                         Scope::kTerritory,
                         {
                             {"organisation", FT::kId, true, MR::kImmutable, "Organisme", 36},
                             {"contact", FT::kId, false, MR::kLww, "Contact", 36},
                             {"reception_point", FT::kText, true, MR::kReview, "Point d'accueil", 100},
                             {"weekday", FT::kEnum, true, MR::kReview, "Jour", 10, kWeekdays},
                             {"start_time", FT::kTime, true, MR::kReview, "Début", 5},
                             {"end_time", FT::kTime, true, MR::kReview, "Fin", 5},
                             {"every_weeks", FT::kEnum, true, MR::kReview, "Toutes les (semaines)", 1, kEvery},
                             {"valid_from", FT::kDate, true, MR::kReview, "Du", 10},
                             {"valid_until", FT::kDate, false, MR::kReview, "Au", 10},
                             {"territory", FT::kText, true, MR::kImmutable, "Territoire", 100},
                         }});
  // One session of a permanence cancelled or moved: appended, never edited, so two devices that
  // disrupt a session offline both keep theirs, and the session's fate is computed from all of them.
  tables.push_back(Table{"permanence_changes",
                         TableKind::kAppendOnly,
                         Scope::kTerritory,
                         {
                             {"permanence_id", FT::kId, true, MR::kImmutable, "Permanence", 36},
                             {"date", FT::kDate, true, MR::kImmutable, "Séance du", 10},
                             {"kind", FT::kEnum, true, MR::kImmutable, "Changement", 10, kSessionChanges},
                             {"to_date", FT::kDate, false, MR::kImmutable, "Reportée au", 10},
                             {"to_start", FT::kTime, false, MR::kImmutable, "À", 5},
                             {"reason", FT::kText, false, MR::kImmutable, "Motif", 200},
                             {"territory", FT::kText, true, MR::kImmutable, "Territoire", 100},
                         }});
  // A person booked at a permanence session or at a place. Where and when are what was agreed with
  // the person last (kLww); the outcome is a fact that two people cannot both have seen differently
  // (kReview); the call-back mark is set by whoever learns the session changed (kLww).
  tables.push_back(Table{"appointments",
                         TableKind::kMutable,
                         Scope::kTerritory,
                         {
                             {"case_id", FT::kId, true, MR::kImmutable, "Dossier", 36},
                             {"permanence_id", FT::kId, false, MR::kImmutable, "Permanence", 36},
                             {"date", FT::kDate, true, MR::kLww, "Date", 10},
                             {"start_time", FT::kTime, true, MR::kLww, "Heure", 5},
                             Identifying({"place", FT::kText, false, MR::kLww, "Lieu", 200}),
                             {"outcome", FT::kEnum, false, MR::kReview, "Issue", 10, kOutcomes},
                             {"call_back", FT::kEnum, false, MR::kLww, "À rappeler", 10, kCallBack},
                             {"territory", FT::kText, true, MR::kImmutable, "Territoire", 100},
                         }});
  // A case referred to a partner for a service (orientation vers un partenaire). It follows its case
  // (scope kParentCase). The status moves only along the declared transitions; two people answering
  // differently offline cannot both be right, so it goes to central review, as do the texts people
  // write (reason, feedback, note). Due date and contact are facts the latest writer knows best.
  tables.push_back(Table{
      "referrals",
      TableKind::kMutable,
      Scope::kParentCase,
      {
          {"case_id", FT::kId, true, MR::kImmutable, "Dossier", 36},
          {"organisation", FT::kId, true, MR::kImmutable, "Organisme", 36},
          {"contact", FT::kId, false, MR::kLww, "Contact", 36},
          {"service", FT::kEnum, true, MR::kImmutable, "Prestation", 40, kReferralServices},
          {"status", FT::kEnum, true, MR::kReview, "État", 20, kReferralStatuses, 0, 0, false, kReferralMoves},
          Identifying({"reason", FT::kText, false, MR::kReview, "Motif du refus", 500, {}, 0, 0, false, {}, {"status", "refusee"}}),
          Identifying({"feedback", FT::kLongText, false, MR::kReview, "Retour du partenaire", 5000}),
          {"due_on", FT::kDate, false, MR::kLww, "Échéance", 10},
          Identifying({"note", FT::kLongText, false, MR::kReview, "Note", 2000}),
          {"sent_on", FT::kDate, true, MR::kImmutable, "Envoyée le", 10},
      },
      "consent_sharing"});
  // A counsellor's declared working time over a period, as a share of full time (quotité): what the
  // annual report converts the recorded minutes into full-time equivalents with (docs/STATISTICS.md,
  // "Staff time"). The counsellor is named as visits and follow-ups name their author. Scoped by
  // the territory where the counsellor works; the latest statement of the share or the period holds.
  tables.push_back(Table{"working_times",
                         TableKind::kMutable,
                         Scope::kTerritory,
                         {
                             {"counsellor", FT::kText, true, MR::kImmutable, "Conseiller", 100},
                             {"percent", FT::kInt, true, MR::kLww, "Quotité (%)", 3, {}, 1, 100},
                             {"valid_from", FT::kDate, true, MR::kLww, "Du", 10},
                             {"valid_until", FT::kDate, false, MR::kLww, "Au", 10},
                             {"territory", FT::kText, true, MR::kImmutable, "Territoire", 100},
                         }});
  return tables;
}

Error Invalid(const Field& f, const std::string& value, std::string_view rule) {
  return MakeError(ErrorCode::kValidation, std::string(f.name) + ": « " + value + " » " + std::string(rule));
}

// The bytes std::isspace accepts in the "C" locale, without a call per byte.
bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

bool IsEmail(std::string_view s) {
  auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) return false;
  std::string_view domain = s.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 2 > domain.size()) return false;
  for (char c : s) {
    if (IsAsciiSpace(c) || c == ',' || c == ';' || c == '<' || c == '>') return false;
  }
  return domain.find("..") == std::string_view::npos;
}

}  // namespace

int Table::FieldIndex(std::string_view field) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field) return static_cast<int>(i);
  }
  return -1;
}

const Field* Table::FindField(std::string_view field) const {
  int i = FieldIndex(field);
  return i < 0 ? nullptr : &fields[static_cast<size_t>(i)];
}

const std::vector<Table>& Tables() {
  static const std::vector<Table> kTables = BuildTables();
  return kTables;
}

const Table* FindTable(std::string_view name) {
  for (const Table& t : Tables()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const Table& CasesTable() { return Tables()[0]; }
const Table& FollowupsTable() { return Tables()[1]; }
const Table& ContactsTable() { return Tables()[2]; }
const Table& VisitsTable() {
  static const Table& kVisits = *FindTable("visits");
  return kVisits;
}
const Table& ReferralsTable() {
  static const Table& kReferrals = *FindTable("referrals");
  return kReferrals;
}

namespace {
// The value of the decimal digits of `s`, which the caller has checked are all digits. Parsing by
// hand keeps validation free of std::stoi's temporary strings, errno and locale: an import checks
// three dates per row.
int DigitsValue(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}
}  // namespace

bool IsIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!AllDigits(s.substr(0, 4)) || !AllDigits(s.substr(5, 2)) || !AllDigits(s.substr(8, 2))) return false;
  int y = DigitsValue(s.substr(0, 4));
  int m = DigitsValue(s.substr(5, 2));
  int d = DigitsValue(s.substr(8, 2));
  if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max_day = kDays[m - 1] + ((m == 2 && leap) ? 1 : 0);
  return d <= max_day;
}

bool IsClockTime(std::string_view s) {
  if (s.size() != 5 || s[2] != ':' || !AllDigits(s.substr(0, 2)) || !AllDigits(s.substr(3, 2))) return false;
  return DigitsValue(s.substr(0, 2)) < 24 && DigitsValue(s.substr(3, 2)) < 60;
}

bool NormalizeInPlace(const Field& field, Value& value) {
  if (!value) return false;
  std::string& v = *value;
  const size_t before = v.size();
  bool lowered = false;
  auto lower = [&lowered](char& c) {
    const char l = AsciiLower(c);
    lowered |= l != c;
    c = l;
  };
  size_t e = v.size();
  while (e > 0 && IsAsciiSpace(v[e - 1])) --e;
  v.resize(e);
  if (field.type != FieldType::kLongText) {
    size_t b = 0;
    while (b < v.size() && IsAsciiSpace(v[b])) ++b;
    v.erase(0, b);
  }
  const bool composed = ToNfcInPlace(v);
  if (field.type == FieldType::kPhone) {
    std::erase_if(v, [](char c) { return c == ' ' || c == '.' || c == '-'; });
  } else if (field.type == FieldType::kEmail) {
    auto at = v.find('@');
    if (at != std::string::npos) {
      for (size_t i = at; i < v.size(); ++i) lower(v[i]);
    }
  } else if (field.type == FieldType::kId) {
    for (char& c : v) lower(c);
  } else if (field.type == FieldType::kCodeList) {
    std::erase_if(v, [](char c) { return IsAsciiSpace(c); });
  }
  if (v.empty()) {
    value.reset();
    return true;
  }
  return composed || lowered || v.size() != before;
}

Value Normalize(const Field& field, const Value& value) {
  Value out = value;
  NormalizeInPlace(field, out);
  return out;
}

namespace {
struct ByteClasses {
  bool control = false;    // a byte below 0x20
  bool non_ascii = false;  // a byte from 0x80: UTF-8 to check
};

// Eight bytes at a time, then the tail: most values are short ASCII text, and an import checks 15
// per row. A byte below 0x20 is one that borrows when 0x20 is taken from it, while its own high
// bit is clear (the classic "has less than" test: exact for whether any byte is below 0x20).
ByteClasses ClassifyBytes(std::string_view v) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  uint64_t control = 0, high = 0;
  size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, v.data() + i, 8);
    control |= (word - 0x20 * kOnes) & ~word;
    high |= word;
  }
  for (; i < v.size(); ++i) {
    uint64_t u = static_cast<unsigned char>(v[i]);
    control |= (u - 0x20) & ~u;
    high |= u;
  }
  return {(control & kHighs) != 0, (high & kHighs) != 0};
}
}  // namespace

Status ValidateValue(const Field& f, const Value& value) {
  if (!value) {
    if (f.required)
      return MakeError(ErrorCode::kValidation, std::string(f.name) + ": obligatoire (ne peut pas être vide)");
    return OkStatus();
  }
  const std::string& v = *value;
  ByteClasses classes = ClassifyBytes(v);
  if (classes.non_ascii && !IsValidUtf8(v)) {
    return MakeError(ErrorCode::kValidation, std::string(f.name) + ": n'est pas un texte UTF-8 valide");
  }
  // An integer says its range instead (its text is at most 18 digits, checked below).
  if (v.size() > f.max_bytes && f.type != FieldType::kInt) {
    return MakeError(ErrorCode::kValidation,
                     std::string(f.name) + ": dépasse " + std::to_string(f.max_bytes) + " octets");
  }
  if (classes.control && f.type != FieldType::kLongText) {
    return MakeError(ErrorCode::kValidation, std::string(f.name) + ": doit tenir sur une seule ligne");
  }
  if (classes.control) {
    for (char c : v) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u < 0x20 && c != '\n' && c != '\t' && c != '\r') {
        return MakeError(ErrorCode::kValidation, std::string(f.name) + ": contient un caractère de contrôle");
      }
    }
  }
  switch (f.type) {
    case FieldType::kText:
    case FieldType::kLongText:
      return OkStatus();
    case FieldType::kDate:
      if (!IsIsoDate(v)) return Invalid(f, v, "n'est pas une date qui existe (attendu : AAAA-MM-JJ)");
      return OkStatus();
    case FieldType::kTime:
      if (!IsClockTime(v)) return Invalid(f, v, "n'est pas une heure (attendu : HH:MM, de 00:00 à 23:59)");
      return OkStatus();
    case FieldType::kInt: {
      bool neg = !v.empty() && v[0] == '-';
      if (!AllDigits(neg ? std::string_view(v).substr(1) : std::string_view(v)) || v.size() > 18) {
        return Invalid(f, v, "n'est pas un nombre entier");
      }
      int64_t n = std::stoll(v);
      if (n < f.min_int || n > f.max_int) {
        return Invalid(
            f, v,
            "est hors des valeurs permises (de " + std::to_string(f.min_int) + " à " + std::to_string(f.max_int) + ")");
      }
      return OkStatus();
    }
    case FieldType::kEnum: {
      for (std::string_view c : f.choices) {
        if (c == v) return OkStatus();
      }
      std::string list;
      for (std::string_view c : f.choices) list += (list.empty() ? "" : ", ") + std::string(c);
      return Invalid(f, v, "n'est pas une valeur permise (valeurs permises : " + list + ")");
    }
    case FieldType::kPostcode: {
      if (v.size() != 5 || !AllDigits(v)) return Invalid(f, v, "n'est pas un code postal français (cinq chiffres)");
      int dept = DigitsValue(std::string_view(v).substr(0, 2));
      if (dept < 1 || dept > 98) return Invalid(f, v, "n'est pas un code postal français (département de 01 à 98)");
      return OkStatus();
    }
    case FieldType::kPhone: {
      bool national = v.size() == 10 && v[0] == '0' && v[1] != '0' && AllDigits(v);
      bool international = v.size() == 12 && v.rfind("+33", 0) == 0 && v[3] != '0' && AllDigits(v.substr(1));
      if (!national && !international) {
        return Invalid(f, v, "n'est pas un numéro de téléphone français (0X XX XX XX XX ou +33 X XX XX XX XX)");
      }
      return OkStatus();
    }
    case FieldType::kEmail:
      if (!IsEmail(v)) return Invalid(f, v, "n'est pas une adresse électronique (nom@domaine.fr)");
      return OkStatus();
    case FieldType::kCodeList: {
      std::vector<std::string_view> seen;
      for (size_t at = 0; at <= v.size();) {
        const size_t comma = std::min(v.find(',', at), v.size());
        const std::string_view code = std::string_view(v).substr(at, comma - at);
        bool known = false;
        for (std::string_view c : f.choices) known |= c == code;
        if (!known) {
          std::string list;
          for (std::string_view c : f.choices) list += (list.empty() ? "" : ", ") + std::string(c);
          return Invalid(f, std::string(code), "n'est pas une valeur permise (valeurs permises : " + list + ")");
        }
        if (std::find(seen.begin(), seen.end(), code) != seen.end())
          return Invalid(f, std::string(code), "est donné deux fois");
        seen.push_back(code);
        at = comma + 1;
      }
      return OkStatus();
    }
    case FieldType::kId:
      for (char c : v) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
          return Invalid(f, v, "n'est pas un identifiant de fiche (UUID)");
      }
      if (v.size() != 36) return Invalid(f, v, "n'est pas un identifiant de fiche (UUID)");
      return OkStatus();
  }
  return OkStatus();
}

Status ValidateRecord(const Table& table, const std::vector<Value>& values) {
  if (values.size() != table.fields.size()) {
    return MakeError(ErrorCode::kInternal,
                     "une fiche de " + std::string(table.name) + " n'a pas le bon nombre de champs");
  }
  for (size_t i = 0; i < values.size(); ++i) RELAIS_TRY(ValidateValue(table.fields[i], values[i]));
  for (size_t i = 0; i < values.size(); ++i) {
    const RequiredWhen& when = table.fields[i].required_when;
    if (when.field.empty() || values[i]) continue;
    const int other = table.FieldIndex(when.field);
    if (other >= 0 && values[static_cast<size_t>(other)] == when.value) {
      return MakeError(ErrorCode::kValidation, std::string(table.fields[i].name) + ": obligatoire quand " +
                                                   std::string(when.field) + " vaut « " + std::string(when.value) +
                                                   " »");
    }
  }
  return OkStatus();
}

Status CheckCaseConsent(const Table& table, const std::vector<Value>& case_values, const std::string& case_id) {
  if (table.needs_consent.empty()) return OkStatus();
  const int index = CasesTable().FieldIndex(table.needs_consent);
  const Value& consent = index < 0 ? Value() : case_values[static_cast<size_t>(index)];
  if (consent == "oui") return OkStatus();
  const std::string field(table.needs_consent);
  return MakeError(ErrorCode::kValidation,
                   field + ": " +
                       (consent == "non" ? "la personne a refusé le partage de ses données avec les partenaires"
                                         : "le consentement de la personne au partage de ses données avec les "
                                           "partenaires n'est pas enregistré") +
                       " ; une orientation vers un partenaire le demande. Quand la personne y consent, "
                       "enregistrez-le : relais case edit " +
                       case_id + " --consent-sharing oui");
}

Status CheckTransition(const Field& field, const Value& from, const Value& to) {
  if (field.transitions.empty() || from == to) return OkStatus();
  const std::string_view before = from ? std::string_view(*from) : std::string_view();
  const std::string_view after = to ? std::string_view(*to) : std::string_view();
  std::string permitted;
  for (const Transition& t : field.transitions) {
    if (t.from != before) continue;
    if (t.to == after) return OkStatus();
    permitted += (permitted.empty() ? "" : ", ") + std::string(t.to);
  }
  std::string message = std::string(field.name) + ": ";
  message += before.empty()
                 ? "une fiche ne peut pas commencer à « " + std::string(after) + " »"
                 : "passer de « " + std::string(before) + " » à « " + std::string(after) + " » n'est pas permis";
  message += permitted.empty() ? " (plus aucun changement permis depuis « " + std::string(before) + " »)"
                               : " (permis : " + permitted + ")";
  return MakeError(ErrorCode::kValidation, message);
}

}  // namespace relais::schema
