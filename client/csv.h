#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace relais::client {

// Reads RFC 4180 CSV from memory: comma-separated, fields optionally in double quotes (a quote inside
// written twice), quoted fields may hold commas and line breaks, records end with CRLF or LF. A UTF-8
// byte-order mark at the start is skipped. Not thread-safe; `text` must outlive the reader.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text);

  // Reads the next record into `fields`. Returns false at the end of the text. `line()` is then the
  // line (1-based) where that record starts, for error messages. kValidation ("line N: …") when the
  // quoting is malformed.
  Result<bool> Next(std::vector<std::string>& fields);
  size_t line() const { return record_line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t next_line_ = 1;
  size_t record_line_ = 0;
};

// Appends `value` to `out` as one CSV field, quoted only when it must be (comma, quote, line break,
// leading or trailing space).
void AppendCsvField(std::string& out, std::string_view value);

}  // namespace relais::client
