#include "schema/header_aliases.h"

#include "base/text.h"

namespace relais::schema {

namespace {

// The headings French spreadsheets use, as their authors write them; accents, case, spaces and
// punctuation do not matter (FoldHeading), so « Prénom », « PRENOM » and « prénom » are one entry.
// A heading that could name two fields of one table (« Nom » for an organisation or a person) is
// declared for the one a reader of that table would mean.
constexpr HeaderAlias kAliases[] = {
    // Any table: contact details.
    {"", "last_name", "Nom de famille"},
    {"", "last_name", "Nom d'usage"},
    {"", "first_name", "Prénoms"},
    {"", "phone", "Tél."},
    {"", "phone", "Tel"},
    {"", "phone", "Téléphone fixe"},
    {"", "phone", "Téléphone portable"},
    {"", "phone", "Portable"},
    {"", "phone", "Mobile"},
    {"", "phone", "Numéro de téléphone"},
    {"", "phone", "N° de téléphone"},
    {"", "email", "Email"},
    {"", "email", "E-mail"},
    {"", "email", "Mail"},
    {"", "email", "Adresse mail"},
    {"", "email", "Adresse e-mail"},
    {"", "email", "Adresse électronique"},
    {"", "email", "Adresse de courriel"},
    {"", "commune", "Ville"},
    {"", "commune", "Localité"},
    {"", "postcode", "Code postal"},
    {"", "postcode", "Code_postal"},
    {"", "reception_point", "Lieu d'accueil"},
    {"", "reception_point", "Point d'accueil emploi"},
    {"", "reception_point", "Antenne"},
    // Cases: a reception point's list of the people it follows.
    {"cases", "birth_date", "Date de naissance"},
    {"cases", "birth_date", "Né le"},
    {"cases", "birth_date", "Née le"},
    {"cases", "birth_date", "Né(e) le"},
    {"cases", "status", "Situation"},
    {"cases", "sector", "Secteur d'activité"},
    {"cases", "service_level", "Niveau de service"},
    {"cases", "referent", "Conseiller"},
    {"cases", "referent", "Conseillère"},
    {"cases", "referent", "Conseiller référent"},
    {"cases", "opened_on", "Date d'ouverture"},
    {"cases", "opened_on", "Date d'entrée"},
    {"cases", "opened_on", "Ouverture"},
    {"cases", "closed_on", "Date de clôture"},
    {"cases", "closed_on", "Date de sortie"},
    {"cases", "close_reason", "Motif de sortie"},
    {"cases", "notes", "Commentaire"},
    {"cases", "notes", "Commentaires"},
    {"cases", "notes", "Observations"},
    {"cases", "notes", "Remarques"},
    // Contacts: a partner table (annex 4 of the conventions).
    {"contacts", "organisation", "Structure"},
    {"contacts", "organisation", "Organisation"},
    {"contacts", "organisation", "Partenaire"},
    {"contacts", "organisation", "Raison sociale"},
    {"contacts", "organisation", "Établissement"},
    {"contacts", "organisation", "Nom de la structure"},
    {"contacts", "kind", "Type de structure"},
    {"contacts", "kind", "Catégorie"},
    {"contacts", "last_name", "Nom du contact"},
    {"contacts", "first_name", "Prénom du contact"},
    {"contacts", "role", "Poste"},
    {"contacts", "role", "Rôle"},
    // Permanences: a reception point's planning of its partners' sessions.
    {"permanences", "organisation", "Partenaire"},
    {"permanences", "organisation", "Structure"},
    {"permanences", "contact", "Intervenant"},
    {"permanences", "contact", "Correspondant"},
    {"permanences", "reception_point", "Lieu"},
    {"permanences", "weekday", "Jour de la semaine"},
    {"permanences", "start_time", "Heure de début"},
    {"permanences", "start_time", "De"},
    {"permanences", "end_time", "Heure de fin"},
    {"permanences", "end_time", "À"},
    {"permanences", "every_weeks", "Fréquence"},
    {"permanences", "every_weeks", "Toutes les"},
    {"permanences", "valid_from", "Date de début"},
    {"permanences", "valid_from", "À partir du"},
    {"permanences", "valid_until", "Date de fin"},
    {"permanences", "valid_until", "Jusqu'au"},
    // Visits: a register (main courante) kept in a spreadsheet before Relais.
    {"visits", "date", "Date de la visite"},
    {"visits", "date", "Date de passage"},
    {"visits", "time", "Heure d'arrivée"},
    {"visits", "time", "Heure de passage"},
    {"visits", "channel", "Mode de contact"},
    {"visits", "channel", "Type de contact"},
    {"visits", "reasons", "Motif"},
    {"visits", "reasons", "Motif de la visite"},
    {"visits", "reasons", "Objet"},
    {"visits", "case_id", "Dossier usager"},
    {"visits", "status", "Situation"},
    {"visits", "sector", "Secteur d'activité"},
    {"visits", "age_band", "Âge"},
    {"visits", "service_level", "Niveau de service"},
    {"visits", "note", "Commentaire"},
    {"visits", "note", "Observations"},
};

bool DeclaredFor(const HeaderAlias& alias, const Table& table, const Field& field) {
  return (alias.table.empty() || alias.table == table.name) && alias.field == field.name;
}

}  // namespace

std::span<const HeaderAlias> HeaderAliases() { return kAliases; }

std::string FoldHeading(std::string_view heading) {
  std::string folded = FoldForMatch(heading);
  std::string out;
  out.reserve(folded.size());
  for (size_t i = 0; i < folded.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(folded[i]);
    if (c < 0x80) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out.push_back(static_cast<char>(c));
      continue;
    }
    // Marks a spreadsheet puts between words: a no-break space (U+00A0), the degree sign of « N° »
    // (U+00B0), a typographic apostrophe (U+2019) or a narrow no-break space (U+202F).
    std::string_view rest = std::string_view(folded).substr(i);
    if (rest.starts_with("\xC2\xA0") || rest.starts_with("\xC2\xB0")) {
      ++i;
      continue;
    }
    if (rest.starts_with("\xE2\x80\x99") || rest.starts_with("\xE2\x80\xAF")) {
      i += 2;
      continue;
    }
    out.push_back(folded[i]);
  }
  return out;
}

const Field* FieldForHeading(const Table& table, std::string_view heading) {
  const std::string folded = FoldHeading(heading);
  if (folded.empty()) return nullptr;
  for (const Field& field : table.fields) {
    if (FoldHeading(field.name) == folded || FoldHeading(field.label) == folded) return &field;
  }
  for (const HeaderAlias& alias : kAliases) {
    if (FoldHeading(alias.heading) != folded) continue;
    for (const Field& field : table.fields) {
      if (DeclaredFor(alias, table, field)) return &field;
    }
  }
  return nullptr;
}

std::string HeadingsOf(const Table& table, const Field& field) {
  std::string out(field.label);
  for (const HeaderAlias& alias : kAliases) {
    if (DeclaredFor(alias, table, field)) out += ", " + std::string(alias.heading);
  }
  return out;
}

}  // namespace relais::schema
