// schema/ — the single source of truth of Relais' data: which tables are synced, their fields, how
// each field is validated and which rule settles concurrent edits of it. The replica, the central
// store, the wire codec and the merge all read this declaration; none of them lists fields again.
// It depends only on base/. Documented in docs/SCHEMA.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace relais::schema {

// Every field value travels as optional text: nullopt is SQL NULL / JSON null. Integers are their
// decimal text; the declared FieldType says how to bind and encode them.
using Value = std::optional<std::string>;

enum class FieldType {
  kText,      // one line, trimmed
  kLongText,  // free text, may hold new lines
  kDate,      // YYYY-MM-DD that exists
  kTime,      // HH:MM of a day, 00:00 to 23:59
  kInt,       // decimal integer within [min_int, max_int]
  kEnum,      // one of `choices`
  kPostcode,  // French postcode: five digits, département 01–98
  kPhone,     // French number: 0 + 9 digits, or +33 + 9 digits (spaces, dots, dashes dropped)
  kEmail,     // local@domain.tld
  kId,        // a UUID naming another record
  kCodeList,  // one or more of `choices`, comma-joined, each at most once ("emploi,mobilite")
};

// How concurrent edits of one field are settled (docs/SCHEMA.md says why each field has its rule).
enum class MergeRule {
  kLww,        // the later hybrid-logical-clock stamp wins; the loser is kept in the history
  kReview,     // the server keeps its value and opens a conflict for central staff
  kImmutable,  // set at creation, never changed afterwards (an edit is refused)
};

enum class TableKind {
  kMutable,     // records are created then edited
  kAppendOnly,  // records are created once and never edited: they never conflict
};

// Who may see and write a table's records.
enum class Scope {
  kTerritory,   // the record's own `territory` field
  kParentCase,  // the territory of the case named by the record's `case_id`
  kShared,      // every device (the partner directory)
};

// A declared move of a field's value (a referral's status): `from` empty is the value a record may
// be created with. A field that declares transitions takes no other move, on the device and at the
// centre (CheckTransition).
struct Transition {
  std::string_view from;
  std::string_view to;
};

// A field required only when another field of the record holds one value (a refused referral's
// reason, a tripartite meeting's participants): checked by ValidateRecord, so on both sides.
struct RequiredWhen {
  std::string_view field;
  std::string_view value;
};

struct Field {
  std::string_view name;
  FieldType type;
  bool required;
  MergeRule rule;
  std::string_view label;  // French column heading for people
  size_t max_bytes = 200;
  std::span<const std::string_view> choices = {};
  int64_t min_int = 0;
  int64_t max_int = 0;
  // Written only by the centre (e.g. a merge's redirect); a device's change to it is refused.
  bool central_only = false;
  std::span<const Transition> transitions = {};
  RequiredWhen required_when = {};
  // Identifies the person or holds free text about them (names, birth date, contact details, notes,
  // follow-up texts): what `relais-central person erase` removes from the live store, every history
  // version, conflicts and devices. The other fields are coded facts kept for statistics
  // (docs/SCHEMA.md, "Identifying fields"; docs/PRIVACY.md, "Erasure"). Declared with Identifying().
  bool identifying = false;
};

// `field`, declared identifying (Field::identifying).
constexpr Field Identifying(Field field) {
  field.identifying = true;
  return field;
}

struct Table {
  std::string_view name;
  TableKind kind;
  Scope scope;
  std::vector<Field> fields;  // data fields, in column order; `id` and `version` are implicit
  // A record of this table shares the person's data with a partner (a referral): it is created only
  // when this field of its case is « oui » (the consent to sharing), checked on the device and by
  // the centre (CheckCaseConsent). Empty: no consent needed.
  std::string_view needs_consent = {};

  // Index of `field` in `fields`, or -1.
  int FieldIndex(std::string_view field) const;
  const Field* FindField(std::string_view field) const;
};

// A record as every layer sees it: the id, the server version it is based on (0 before its first
// sync) and one Value per field of its Table, in declaration order.
struct Record {
  std::string id;
  int64_t version = 0;
  std::vector<Value> values;
};

const std::vector<Table>& Tables();
const Table* FindTable(std::string_view name);
const Table& CasesTable();
const Table& FollowupsTable();
const Table& ContactsTable();
const Table& VisitsTable();
const Table& ReferralsTable();

// Trims the value and puts it in canonical form (its text in Unicode NFC, a phone's separators
// dropped, an e-mail's domain lower-cased); an empty result becomes null. Does not validate.
Value Normalize(const Field& field, const Value& value);
// The same, in the value's own buffer (an import normalises 15 values per row without allocating).
// Returns whether it changed the value.
bool NormalizeInPlace(const Field& field, Value& value);

// OK when `value` is acceptable for `field`. The error (kValidation) names the field and the rule:
// "birth_date: « 1990-13-45 » n'est pas une date qui existe (attendu : AAAA-MM-JJ)".
Status ValidateValue(const Field& field, const Value& value);

// Validates every field of a complete record (required fields present, each value valid).
Status ValidateRecord(const Table& table, const std::vector<Value>& values);

// OK when `field` may go from `from` to `to`: it declares no transitions, the value does not change,
// or the move is declared (a create goes from null). kValidation naming the field, both values and
// the moves permitted from `from` otherwise.
Status CheckTransition(const Field& field, const Value& from, const Value& to);

// OK when a record of `table` may be created for the case whose values are `case_values` (id
// `case_id`): the table needs no consent (Table::needs_consent), or the case's consent field is
// « oui ». kValidation otherwise, naming the field, saying whether the person refused or was never
// asked, and how to record the consent.
Status CheckCaseConsent(const Table& table, const std::vector<Value>& case_values, const std::string& case_id);

// True when `text` is an ISO date (YYYY-MM-DD) that exists in the calendar.
bool IsIsoDate(std::string_view text);

// True when `text` is a time of day written HH:MM (00:00 to 23:59).
bool IsClockTime(std::string_view text);

}  // namespace relais::schema
