#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "client/records.h"

namespace relais::client {

enum class FileFormat { kCsv, kJsonl };

struct ImportSummary {
  const schema::Table* table = nullptr;
  FileFormat format = FileFormat::kCsv;
  size_t records = 0;
};

// Imports a file of cases or contacts through the ordinary write path (each record a pending create,
// client/pending_creates.h), all or nothing, in ONE transaction.
//
// The format comes from the extension (.csv, .jsonl/.ndjson; else the first character); the table
// from `kind` ("cases" | "contacts") or, when absent, from the CSV header or the first JSON object's
// keys. CSV: header row (line 1) of field names, RFC 4180 quoting, UTF-8 with an optional BOM, an
// empty cell is null. JSONL: one object per line, numbers allowed for integer fields, blank lines
// skipped. An `id` column/key is kept (any UUID); without it each record gets a new UUIDv7.
//
// Any bad line refuses the whole file and changes nothing; the error names the line in the file and
// the field: "line 7: birth_date: 1990-13-45 is not a date that exists (expected YYYY-MM-DD)". Refused:
// unknown, repeated or missing required columns, a wrong number of cells, invalid UTF-8, values that
// fail validation, an id repeated in the file or already in the replica.
// `progress`, when set, is called now and then with the number of records read so far.
Result<ImportSummary> ImportFile(Records& records, const std::string& path, const std::optional<std::string>& kind,
                                 const std::function<void(size_t)>& progress = {});

// The same, for text already in memory (`name` is used for the format and in messages).
Result<ImportSummary> ImportText(Records& records, std::string_view text, const std::string& name,
                                 const std::optional<std::string>& kind,
                                 const std::function<void(size_t)>& progress = {});

}  // namespace relais::client
