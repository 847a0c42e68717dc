#include "client/csv.h"

#include <array>

namespace relais::client {

namespace {
// The bytes that end an unquoted field, or (a quote) make it malformed, as a table per separator:
// one load per byte of the file.
constexpr std::array<bool, 256> FieldEnds(char separator) {
  std::array<bool, 256> end{};
  for (char c : {separator, '\n', '\r', '"'}) end[static_cast<unsigned char>(c)] = true;
  return end;
}
constexpr std::array<bool, 256> kCommaEnds = FieldEnds(','), kSemicolonEnds = FieldEnds(';'),
                                kTabEnds = FieldEnds('\t');
const bool* FieldEndsOf(char separator) {
  if (separator == ';') return kSemicolonEnds.data();
  if (separator == '\t') return kTabEnds.data();
  return kCommaEnds.data();
}
}  // namespace

CsvReader::CsvReader(std::string_view text, char separator)
    : text_(text), separator_(separator), field_end_(FieldEndsOf(separator)) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

Result<bool> CsvReader::Next(std::vector<std::string>& fields) {
  if (pos_ >= text_.size()) {
    fields.clear();
    return false;
  }
  record_line_ = next_line_;
  auto bad = [&](const std::string& what) {
    return MakeError(ErrorCode::kValidation, "ligne " + std::to_string(next_line_) + " : " + what);
  };
  // The strings of the previous record are overwritten in place: a file of 100,000 rows would
  // otherwise allocate every cell.
  size_t count = 0;
  while (true) {
    if (count == fields.size()) fields.emplace_back();
    std::string& field = fields[count++];
    field.clear();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      while (true) {
        size_t quote = text_.find('"', pos_);
        if (quote == std::string_view::npos)
          return bad("un champ entre guillemets n'est jamais refermé (il manque un \")");
        std::string_view chunk = text_.substr(pos_, quote - pos_);
        for (char c : chunk) next_line_ += (c == '\n');
        field.append(chunk);
        pos_ = quote + 1;
        if (pos_ < text_.size() && text_[pos_] == '"') {
          field.push_back('"');
          ++pos_;
          continue;
        }
        break;
      }
      if (pos_ < text_.size() && text_[pos_] != separator_ && text_[pos_] != '\n' && text_[pos_] != '\r') {
        return bad(
            "texte inattendu après un guillemet fermant (dans un champ entre guillemets, écrivez un guillemet \"\")");
      }
    } else {
      // Not find_first_of: it calls memchr on its four-byte set for every byte of the file.
      size_t end = pos_;
      while (end < text_.size() && !field_end_[static_cast<unsigned char>(text_[end])]) ++end;
      if (end < text_.size() && text_[end] == '"') {
        return bad(
            "guillemet dans un champ sans guillemets (mettez tout le champ entre guillemets et écrivez le guillemet "
            "\"\")");
      }
      field.assign(text_.substr(pos_, end - pos_));
      pos_ = end;
    }
    if (pos_ >= text_.size()) break;
    char c = text_[pos_];
    if (c == separator_) {
      ++pos_;
      continue;
    }
    if (c == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++next_line_;
    break;
  }
  fields.resize(count);
  return true;
}

char DetectCsvSeparator(std::string_view text) {
  size_t counts[std::size(kCsvSeparators)] = {};
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n') break;
    for (size_t i = 0; i < std::size(kCsvSeparators); ++i) counts[i] += (c == kCsvSeparators[i]);
  }
  size_t best = 0;
  for (size_t i = 1; i < std::size(kCsvSeparators); ++i) {
    if (counts[i] > counts[best]) best = i;
  }
  return kCsvSeparators[best];
}

std::string SeparatorName(char separator) {
  if (separator == '\t') return "tabulation";
  return std::string("« ") + separator + " »";
}

void AppendCsvField(std::string& out, std::string_view value) {
  bool quote = value.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace relais::client
