#pragma once

#include <memory>
#include <streambuf>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/cli/commands.h"
#include "schema/display.h"
#include "schema/model.h"

namespace relais::cli {

// A field of the record held for central review: the centre's value (the record's) and the value
// waiting for arbitration, with their devices.
struct ReviewMark {
  std::string field;
  schema::Value server_value, device_value;
  std::string device, server_device;
  int64_t conflict = 0;
};

// Another case that may be the same person, while central staff have not decided.
struct DuplicateMark {
  std::string id;
  std::string name;  // "Nom Prénom", or empty when this replica does not hold it
  int64_t conflict = 0;
};

// What `show` adds to a record: its changes not yet accepted by the centre, and child records
// (a case's follow-up entries) with, for each, whether its creation is still pending.
struct RecordDetails {
  client::Records::PendingCounts pending;
  const schema::Table* child_table = nullptr;
  std::string child_key;  // JSON key of the children, e.g. "followups"
  std::vector<schema::Record> children;
  std::vector<bool> child_pending;
  std::vector<std::string_view> child_columns;  // fields shown in the human table
  // Conflicts (cases only; `with_conflicts` adds "under_review" and "possible_duplicate_of" to JSON).
  bool with_conflicts = false;
  std::vector<ReviewMark> under_review;
  std::vector<DuplicateMark> possible_duplicates;
  // When `show` followed a merge's redirect: the id asked for, and the line that says so.
  std::string redirected_from;
  std::string redirect_note;
  // Sections after the children (a case's referrals): in JSON, each key with its value as JSON
  // text; for people, a heading and a text printed as they are.
  std::vector<std::pair<std::string, std::string>> more_json;
  std::vector<std::pair<std::string, std::string>> more_text;
};

// One record: with --json an object {"id", "version", every field (null when empty)} on stdout;
// otherwise one "Label  value" line per non-empty field, labels aligned.
void PrintRecord(const Context& ctx, const schema::Table& table, const schema::Record& record);
// The same with the details of `show` ("pending_changes", "rejected_changes" and the children array
// in JSON, each child with "pending": true|false).
void PrintRecordDetails(const Context& ctx, const schema::Table& table, const schema::Record& record,
                        const RecordDetails& details);

// Records: with --json an array of objects; otherwise an aligned table of `columns` ("id" or field
// names) headed by the fields' French labels, then a count line.
void PrintRecords(const Context& ctx, const schema::Table& table, const std::vector<schema::Record>& records,
                  const std::vector<std::string_view>& columns);

// An aligned text table (widths in code points, so accented names line up).
std::string FormatTable(const std::vector<std::string>& headings, const std::vector<std::vector<std::string>>& rows);

// A value as people read it (schema/display.h), shared with relais-central's tables.
using schema::DisplayValue;

// A line for people on stdout, skipped with --json (the JSON document is the whole of stdout).
void PrintNote(const Context& ctx, const std::string& text);

// `text` as it may reach a terminal: what would act on the terminal instead of being read — C0
// controls but new line and tab (a carriage return only before a new line), DEL, C1 controls, the
// bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), the line and
// paragraph separators (U+2028, U+2029) and bytes that are not UTF-8 — is shown as a visible
// "<U+XXXX>" ("<0xNN>" for a stray byte). A value from a replica or a centre can hold any of them.
// Everything `relais` prints for people passes here: record values before they are laid out (so
// that columns line up), and all of stdout (TerminalGuard) and every error; --json output does not,
// its strings are escaped by the JSON library.
std::string TerminalSafe(std::string_view text);

// While alive, what is written on std::cout passes through TerminalSafe() line by line, unless
// ctx.json or ctx.exact_stdout is true when it is written (--json, export: the document or the
// file goes out exactly). Restores std::cout, flushed, when destroyed. Not thread-safe, like
// std::cout.
class TerminalGuard {
 public:
  explicit TerminalGuard(const Context& ctx);
  ~TerminalGuard();
  TerminalGuard(const TerminalGuard&) = delete;
  TerminalGuard& operator=(const TerminalGuard&) = delete;

 private:
  class Filter;
  std::unique_ptr<Filter> filter_;
  std::streambuf* original_;
};

}  // namespace relais::cli
