#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace relais::client {

// Reads RFC 4180 CSV from memory: fields separated by `separator` (',' by default; ';' or a tab as
// French spreadsheets write them), optionally in double quotes (a quote inside written twice), quoted
// fields may hold separators and line breaks, records end with CRLF or LF. A UTF-8 byte-order mark
// at the start is skipped. Not thread-safe; `text` must outlive the reader.
class CsvReader {
 public:
  // `separator` is one of kCsvSeparators.
  explicit CsvReader(std::string_view text, char separator = ',');

  // Reads the next record into `fields`. Returns false at the end of the text. `line()` is then the
  // line (1-based) where that record starts, for error messages. kValidation ("line N: …") when the
  // quoting is malformed.
  Result<bool> Next(std::vector<std::string>& fields);
  size_t line() const { return record_line_; }

 private:
  std::string_view text_;
  char separator_;
  const bool* field_end_;  // the bytes that end an unquoted field, for this separator
  size_t pos_ = 0;
  size_t next_line_ = 1;
  size_t record_line_ = 0;
};

// The separators CsvReader reads.
inline constexpr char kCsvSeparators[] = {',', ';', '\t'};

// The separator of the CSV text whose first record is `header` (the first line, or more when a
// quoted heading holds a line break): the one of kCsvSeparators that occurs there most often outside
// quotes, ',' on a tie with it or when none occurs (a file of one column).
char DetectCsvSeparator(std::string_view text);

// How a message names a separator: "« ; »", "« , »", "tabulation".
std::string SeparatorName(char separator);

// Appends `value` to `out` as one CSV field, quoted only when it must be (comma, quote, line break,
// leading or trailing space).
void AppendCsvField(std::string& out, std::string_view value);

}  // namespace relais::client
