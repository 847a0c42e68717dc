#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/records.h"
#include "client/text_encoding.h"

namespace relais::client {

enum class FileFormat { kCsv, kJsonl };

// What the importer changed in a cell to make it valid, one per cell: a phone number or a postcode
// whose leading 0 a spreadsheet dropped (612345678 read as 0612345678, 5100 as 05100).
struct ImportWarning {
  size_t line = 0;
  std::string field;
  std::string message;  // French: "ligne 3 : phone: « 612345678 » lu comme 0612345678 (…)"
};

struct ImportSummary {
  const schema::Table* table = nullptr;
  FileFormat format = FileFormat::kCsv;
  size_t records = 0;
  // CSV: how the file was read, and which headings were not the field's key (« Organisme » →
  // organisation), in the header's order.
  char separator = ',';
  TextEncoding encoding = TextEncoding::kUtf8;
  std::vector<std::pair<std::string, std::string>> renamed_columns;
  std::vector<ImportWarning> warnings;
};

// How to read a file; every member may stay empty, then the importer guesses from the file.
struct ImportOptions {
  std::optional<std::string> kind;  // a table of ImportableTables()
  // CSV only (a JSONL file with one of them is refused, kUsage).
  std::optional<char> separator;  // one of kCsvSeparators (client/csv.h)
  std::optional<TextEncoding> encoding;
  // "Heading=field" (the column so headed fills `field`, or `id`) or "Heading=" (the column is
  // ignored); a heading compares as schema::FoldHeading folds it.
  std::vector<std::string> column_map;
  // When set, called now and then with the number of records read so far.
  std::function<void(size_t)> progress;
};

// The tables `relais import` takes, by name, in the order the guess tries them.
std::span<const std::string_view> ImportableTables();

// Imports a file of one of ImportableTables() through the ordinary write path (each record a pending
// create, client/pending_creates.h), all or nothing, in ONE transaction.
//
// The format comes from the extension (.csv, .jsonl/.ndjson; else the first character); the table
// from `kind` or, when absent, from the CSV header or the first JSON object's keys: the one table
// whose fields the columns name, with its required ones. JSONL: UTF-8, one object per line, numbers
// allowed for integer fields, blank lines skipped. CSV, as a spreadsheet writes it: a header row
// (line 1), RFC 4180 quoting, the separator (, ; or tab) read from the header line, UTF-8 (a BOM
// or none) or else Windows-1252 (client/text_encoding.h), an empty cell null. A heading names a
// field by its key, its French label or a declared alias (schema/header_aliases.h), or through
// `column_map`; a column with an empty heading must be empty. A 9-digit number in a phone field
// and a 4-digit postcode get back the leading 0 a spreadsheet drops, with a warning. An `id` column/key is kept (any
// UUID); without it each record gets a new UUIDv7.
//
// Any bad line refuses the whole file and changes nothing; the error names the line in the file and
// the field: "line 7: birth_date: 1990-13-45 is not a date that exists (expected YYYY-MM-DD)". Refused:
// unknown, repeated or missing required columns (the message shows the header as split, the
// separator and encoding read, the fields expected and the --map syntax), a wrong number of cells,
// bytes that are neither UTF-8 nor Windows-1252, values that fail validation, an id repeated in the
// file or already in the replica. A `column_map` entry that is malformed, names no column of the
// header or no field of the table is refused with kUsage.
Result<ImportSummary> ImportFile(Records& records, const std::string& path, const ImportOptions& options);

// The same, for text already in memory (`name` is used for the format and in messages).
Result<ImportSummary> ImportText(Records& records, std::string_view text, const std::string& name,
                                 const ImportOptions& options);

// The same with only a table named (or guessed) and a progress callback.
Result<ImportSummary> ImportFile(Records& records, const std::string& path, const std::optional<std::string>& kind,
                                 const std::function<void(size_t)>& progress = {});
Result<ImportSummary> ImportText(Records& records, std::string_view text, const std::string& name,
                                 const std::optional<std::string>& kind,
                                 const std::function<void(size_t)>& progress = {});

}  // namespace relais::client
