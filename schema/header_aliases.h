// The other names a spreadsheet gives a field's column: `relais import` reads a partner's own table
// (« Organisme;Nom;Prénom;Tél.;Courriel;Ville ») without asking its author to rename the columns.
// Declared here, next to the fields (schema/model.cc), so that a new table declares its aliases in
// the same place; docs/CLI.md ("Import and export") lists the rule.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "schema/model.h"

namespace relais::schema {

// A column heading that names `field` of `table` besides its key and its label (Field::label).
// An empty `table` declares the alias for every table that has a field of that name (phone, email,
// commune… are written the same way in every spreadsheet).
struct HeaderAlias {
  std::string_view table;
  std::string_view field;
  std::string_view heading;
};

// Every declared alias. Within one table, no two fields share a folded heading (a test checks it).
std::span<const HeaderAlias> HeaderAliases();

// A heading as headings are compared: accents and case folded, everything but letters and digits
// dropped ("Tél." → "tel", "E-mail" → "email", "Code postal" → "codepostal", "last_name" →
// "lastname"). `heading` must be valid UTF-8.
std::string FoldHeading(std::string_view heading);

// The field of `table` that `heading` names — by its key, its label or a declared alias, compared
// folded — or nullptr when none does. Thread-safe.
const Field* FieldForHeading(const Table& table, std::string_view heading);

// The headings that name `field` of `table`: its label, then its aliases, as declared (for messages).
std::string HeadingsOf(const Table& table, const Field& field);

}  // namespace relais::schema
