#include "client/import.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "base/text.h"
#include "client/bulk_load.h"
#include "client/csv.h"
#include "client/directory.h"
#include "client/record_json.h"
#include "client/territories.h"
#include "schema/header_aliases.h"

namespace relais::client {

namespace {

// A larger page cache keeps the b-trees of a big import in memory until the commit writes them
// once (128 MiB: 100,000 cases make a 60 MB replica; below that, pages spill to the WAL mid-import
// and are written twice).
constexpr char kImportCacheSize[] = "PRAGMA cache_size = -131072";
constexpr size_t kProgressEvery = 5000;

Error AtLine(size_t line, const Error& e) {
  return MakeError(e.code, "ligne " + std::to_string(line) + " : " + e.message);
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  std::string tail = s.substr(s.size() - suffix.size());
  LowerAsciiInPlace(tail);
  return tail == suffix;
}

FileFormat GuessFormat(const std::string& name, std::string_view text) {
  if (EndsWith(name, ".csv")) return FileFormat::kCsv;
  if (EndsWith(name, ".jsonl") || EndsWith(name, ".ndjson")) return FileFormat::kJsonl;
  size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{' ? FileFormat::kJsonl : FileFormat::kCsv;
}

constexpr std::string_view kImportable[] = {"cases", "contacts", "permanences", "visits"};

std::string ImportableList(std::string_view between) {
  std::string out;
  for (std::string_view t : kImportable) out += (out.empty() ? "" : std::string(between)) + std::string(t);
  return out;
}

// A --map entry: the column headed `heading` fills `field` (`id`), or is ignored when `field` is empty.
struct ColumnRename {
  std::string heading, folded, field;
};

Result<std::vector<ColumnRename>> ParseColumnMap(const std::vector<std::string>& entries) {
  std::vector<ColumnRename> renames;
  for (const std::string& entry : entries) {
    const size_t equals = entry.rfind('=');
    std::string heading = equals == std::string::npos ? std::string() : entry.substr(0, equals);
    if (!IsValidUtf8(heading) || schema::FoldHeading(heading).empty()) {
      return MakeError(ErrorCode::kUsage, "--map « " + entry +
                                              " » : attendu « Nom de la colonne=champ » (ou « Nom de la colonne= » "
                                              "pour ignorer la colonne), par exemple --map \"Organisme=organisation\"");
    }
    renames.push_back({heading, schema::FoldHeading(heading), entry.substr(equals + 1)});
  }
  return renames;
}

// What a column holds, besides a field's index.
constexpr int kIdColumn = -1;
constexpr int kIgnoredColumn = -2;  // --map "Heading="
constexpr int kBlankColumn = -3;    // an empty heading: its cells must be empty
constexpr int kUnknownColumn = -4;

// How the columns of a header name the fields of one table.
struct ColumnMatch {
  const schema::Table* table = nullptr;
  std::vector<int> column_field;  // per column: a field index, or one of the k…Column above
  std::vector<std::string> unknown;
  size_t known = 0;     // columns that name a field or id
  std::string refusal;  // a repeated column or a missing required one: the whole message
  bool complete() const { return unknown.empty() && refusal.empty(); }
};

// `spreadsheet`: the headings of a CSV file, compared folded, through `renames` and the declared
// aliases; else the keys of a JSON object, compared as they are.
ColumnMatch MatchColumns(const schema::Table& t, const std::vector<std::string>& headings,
                         const std::vector<ColumnRename>& renames, bool spreadsheet) {
  ColumnMatch m;
  m.table = &t;
  std::vector<std::string> heading_of(t.fields.size());
  std::string id_heading;
  for (const std::string& h : headings) {
    int column = kUnknownColumn;
    const std::string folded = spreadsheet ? schema::FoldHeading(h) : std::string();
    const ColumnRename* rename = nullptr;
    for (const ColumnRename& r : renames) {
      if (r.folded == folded) rename = &r;
    }
    // The column of field `key` of `t`: id, a field, or unknown.
    auto named = [&t](std::string_view key) {
      const int i = t.FieldIndex(key);
      return key == "id" ? kIdColumn : i >= 0 ? i : kUnknownColumn;
    };
    if (!spreadsheet) {
      column = named(h);
    } else if (rename) {
      column = rename->field.empty() ? kIgnoredColumn : named(rename->field);
    } else if (folded == "id") {
      column = kIdColumn;
    } else if (h.find_first_not_of(" \t") == std::string::npos) {
      column = kBlankColumn;
    } else if (const schema::Field* field = schema::FieldForHeading(t, h)) {
      column = static_cast<int>(field - t.fields.data());
    }
    if (column < 0 && column != kIdColumn) {
      if (column == kUnknownColumn) {
        m.unknown.push_back(h);
        column = kIgnoredColumn;
      }
      m.column_field.push_back(column);
      continue;
    }
    ++m.known;
    std::string& first = column == kIdColumn ? id_heading : heading_of[static_cast<size_t>(column)];
    const std::string field = column == kIdColumn ? "id" : std::string(t.fields[static_cast<size_t>(column)].name);
    if (!first.empty() && m.refusal.empty()) {
      if (first == h) {
        m.refusal = "ligne 1 : la colonne " + h + " apparaît deux fois";
      } else {
        m.refusal = "ligne 1 : les colonnes « ";
        m.refusal.append(first).append(" » et « ").append(h).append(" » désignent toutes deux le champ ");
        m.refusal.append(field).append(" (gardez-en une, ou ignorez l'autre avec --map \"").append(h).append("=\")");
      }
    }
    first = h;
    m.column_field.push_back(column);
  }
  for (size_t i = 0; i < t.fields.size() && m.refusal.empty(); ++i) {
    if (t.fields[i].required && heading_of[i].empty()) {
      m.refusal = "ligne 1 : il manque la colonne obligatoire " + std::string(t.fields[i].name);
      if (spreadsheet) {
        m.refusal += " (« " + std::string(t.fields[i].label) +
                     " » ; si elle porte un autre nom : --map \"Nom de la colonne=" + std::string(t.fields[i].name) +
                     "\")";
      }
    }
  }
  return m;
}

// The match of the table `kind` names or, without it, of the one table the columns fit: complete,
// else the only one whose columns are all known (its refusal then says what is missing), else the
// one naming most columns (its unknown columns are then the refusal). kUsage when the columns fit
// several tables equally well.
Result<ColumnMatch> ChooseTable(const std::optional<std::string>& kind, const std::vector<std::string>& headings,
                                const std::vector<ColumnRename>& renames, bool spreadsheet, const std::string& name) {
  if (kind) {
    for (std::string_view t : kImportable) {
      if (*kind == t) return MatchColumns(*schema::FindTable(t), headings, renames, spreadsheet);
    }
    return MakeError(ErrorCode::kUsage,
                     "--kind : " + *kind + " n'est pas une valeur permise (" + ImportableList(", ") + ")");
  }
  std::vector<ColumnMatch> matches;
  for (std::string_view t : kImportable)
    matches.push_back(MatchColumns(*schema::FindTable(t), headings, renames, spreadsheet));
  auto count = [&](auto&& pred) { return std::count_if(matches.begin(), matches.end(), pred); };
  auto first = [&](auto&& pred) { return *std::find_if(matches.begin(), matches.end(), pred); };
  auto complete = [](const ColumnMatch& m) { return m.complete(); };
  auto all_known = [](const ColumnMatch& m) { return m.unknown.empty(); };
  const auto complete_count = count(complete);
  if (complete_count == 1) return first(complete);
  if (complete_count == 0 && count(all_known) == 1) return first(all_known);
  if (complete_count == 0 && count(all_known) == 0) {
    return *std::max_element(matches.begin(), matches.end(),
                             [](const ColumnMatch& a, const ColumnMatch& b) { return a.known < b.known; });
  }
  return MakeError(ErrorCode::kUsage, "impossible de savoir quelles fiches contient " + name +
                                          " ; précisez-le avec --kind " + ImportableList("|"));
}

// The refusal of a header with columns that name no field: what was read, what was expected, and
// how to say which field a column fills.
Error UnknownColumns(const ColumnMatch& m, const std::vector<std::string>& header, char separator,
                     TextEncoding encoding) {
  const schema::Table& t = *m.table;
  std::string message = "ligne 1 : colonne" + std::string(m.unknown.size() > 1 ? "s inconnues " : " inconnue ");
  for (size_t i = 0; i < m.unknown.size(); ++i) message += (i ? ", « " : "« ") + m.unknown[i] + " »";
  message += " pour " + std::string(t.name) + "\nEn-tête lu (" + std::to_string(header.size()) + " colonne" +
             (header.size() > 1 ? "s" : "") + ", séparateur " + SeparatorName(separator) + ", encodage " +
             (encoding == TextEncoding::kUtf8 ? "UTF-8" : "Windows-1252") + ") :";
  for (const std::string& h : header) message += " « " + h + " »";
  // A header of one column holding another separator was split with the wrong one: that is the
  // advice, not a --map of the whole line.
  if (header.size() == 1) {
    for (char other : kCsvSeparators) {
      if (other != separator && header[0].find(other) != std::string::npos) {
        return MakeError(ErrorCode::kValidation,
                         message + "\nL'en-tête ne forme qu'une colonne : le séparateur serait-il " +
                             SeparatorName(other) + " ? Essayez --separator '" +
                             (other == '\t' ? std::string("tab") : std::string(1, other)) + "'");
      }
    }
  }
  message += "\nColonnes attendues pour " + std::string(t.name) +
             " (nom du champ ou intitulé, accents et majuscules indifférents) : id";
  for (const schema::Field& f : t.fields) {
    if (f.central_only) continue;
    message += ", " + std::string(f.name) + " « " + std::string(f.label) + " »" + (f.required ? " (obligatoire)" : "");
  }
  message += "\nPour dire quel champ une colonne remplit : --map \"" + m.unknown.front() +
             "=champ\" (répétable) ; pour l'ignorer : --map \"" + m.unknown.front() + "=\"";
  return MakeError(ErrorCode::kValidation, message);
}

// Every --map entry names a column of the header and, unless it ignores it, a field of `t`.
Status CheckColumnMap(const std::vector<ColumnRename>& renames, const std::vector<std::string>& header,
                      const schema::Table& t) {
  for (const ColumnRename& r : renames) {
    if (std::none_of(header.begin(), header.end(),
                     [&](const std::string& h) { return schema::FoldHeading(h) == r.folded; })) {
      std::string headings;
      for (const std::string& h : header) headings += (headings.empty() ? "« " : ", « ") + h + " »";
      return MakeError(ErrorCode::kUsage, "--map « " + r.heading + "=" + r.field + " » : aucune colonne « " +
                                              r.heading + " » dans l'en-tête (colonnes lues : " + headings + ")");
    }
    if (!r.field.empty() && r.field != "id" && t.FieldIndex(r.field) < 0) {
      std::string fields = "id";
      for (const auto& f : t.fields) fields += ", " + std::string(f.name);
      return MakeError(ErrorCode::kUsage, "--map « " + r.heading + "=" + r.field + " » : " + r.field +
                                              " n'est pas un champ de " + std::string(t.name) + " (champs : " + fields +
                                              ")");
    }
  }
  return OkStatus();
}

// A spreadsheet reads a column of numbers as numbers and drops their leading 0: a French phone
// number of 9 digits (spaces, dots and dashes aside) or a postcode of 4 digits not starting with 0
// is one that lost it. Where that 0 goes back, else npos.
size_t MissingZeroAt(schema::FieldType type, std::string_view value) {
  size_t digits = 0, first = std::string_view::npos;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c >= '0' && c <= '9') {
      if (first == std::string_view::npos) first = i;
      ++digits;
    } else if (c != ' ' && (type != schema::FieldType::kPhone || (c != '.' && c != '-'))) {
      return std::string_view::npos;
    }
  }
  const size_t expected = type == schema::FieldType::kPhone ? 9 : 4;
  return digits == expected && value[first] != '0' ? first : std::string_view::npos;
}

// Creates the records one by one inside the caller's transaction, refusing repeated ids.
class RowWriter {
 public:
  // Rows written from here on get consecutive rowids after the table's largest (nothing is deleted
  // inside the import's transaction): the rowid of a row tells the file line it came from.
  static Result<RowWriter> Begin(Records& records, const schema::Table& table) {
    auto max = records.replica().db().Prepare("SELECT coalesce(max(rowid), 0) FROM " + std::string(table.name));
    if (!max) return max.error();
    auto row = max->Step();
    if (!row) return row.error();
    RowWriter writer(records, table, max->Int(0));
    // A planning names its partners as people do (client/directory.h).
    if (table.name == "permanences") writer.names_.emplace(records);
    // A reception point (of a case, a visit, a permanence) is checked as `relais case add` checks it.
    if (table.FindField("reception_point") && table.FindField("territory")) {
      auto points = DeclaredPoints::Load(records.replica());
      if (!points) return points.error();
      writer.points_ = std::move(*points);
      writer.point_ = static_cast<size_t>(table.FieldIndex("reception_point"));
      writer.territory_ = static_cast<size_t>(table.FieldIndex("territory"));
    }
    return writer;
  }

  // On success `values` is handed back holding the stored record's values, so that the caller can
  // fill it again for the next row without allocating every cell.
  Status Write(size_t line, std::optional<std::string> id, std::vector<schema::Value>& values) {
    if (names_) {
      Status named = IdsOfNames(values);
      if (!named.ok()) return AtLine(line, named.error());
    }
    auto created = records_.CreateInTransaction(table_, std::move(values), id);
    if (!created) {
      if (id && created.error().code == ErrorCode::kValidation) {
        auto first = LineOf(*id);
        if (!first) return first.error();
        if (*first) {
          std::string lower = *id;
          LowerAsciiInPlace(lower);
          return MakeError(ErrorCode::kValidation, "ligne " + std::to_string(line) + " : id: " + lower +
                                                       " apparaît deux fois dans le fichier (d'abord ligne " +
                                                       std::to_string(*first) + ")");
        }
      }
      return AtLine(line, created.error());
    }
    if (points_) {
      Status declared = points_->Check(created->values[point_], created->values[territory_]);
      if (!declared.ok()) return AtLine(line, declared.error());
    }
    if (table_.name == "permanences") {
      Status schedule = CheckPermanence(created->values);
      if (!schedule.ok()) return AtLine(line, schedule.error());
    }
    values = std::move(created->values);
    lines_.push_back(line);
    return OkStatus();
  }
  size_t count() const { return lines_.size(); }

 private:
  RowWriter(Records& records, const schema::Table& table, int64_t rowid_before)
      : records_(records), table_(table), rowid_before_(rowid_before) {}

  // The line that wrote record `id` in this import, or 0 when none did.
  Result<size_t> LineOf(std::string id) {
    LowerAsciiInPlace(id);
    auto stmt = records_.replica().db().Prepare("SELECT rowid FROM " + std::string(table_.name) + " WHERE id = ?1");
    if (!stmt) return stmt.error();
    stmt->Bind(1, std::string_view(id));
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) return size_t{0};
    int64_t index = stmt->Int(0) - rowid_before_ - 1;
    if (index < 0 || index >= static_cast<int64_t>(lines_.size())) return size_t{0};
    return lines_[static_cast<size_t>(index)];
  }

  // The organisation and the contact of a permanence given by name become their directory ids, as
  // `relais permanence add` takes them.
  Status IdsOfNames(std::vector<schema::Value>& values) {
    schema::Value& organisation = values[static_cast<size_t>(table_.FieldIndex("organisation"))];
    if (organisation && !organisation->empty()) {
      auto id = names_->Organisation(*organisation);
      if (!id) return id.error();
      organisation = std::move(*id);
    }
    schema::Value& contact = values[static_cast<size_t>(table_.FieldIndex("contact"))];
    if (contact && !contact->empty()) {
      auto id = names_->Contact(*contact, organisation.value_or(""));
      if (!id) return id.error();
      contact = std::move(*id);
    }
    return OkStatus();
  }

  // What `relais permanence add` checks beyond each field's rules: the organisation and the contact
  // are in the directory of this replica, the session ends after it starts, the last date is not
  // before the first. Values as stored (normalised).
  Status CheckPermanence(const std::vector<schema::Value>& values) {
    auto value = [&](std::string_view name) -> const schema::Value& {
      return values[static_cast<size_t>(table_.FieldIndex(name))];
    };
    for (std::string_view field : {"organisation", "contact"}) {
      const schema::Value& id = value(field);
      if (!id || known_contacts_.count(*id)) continue;
      auto found = records_.Get(schema::ContactsTable(), *id);
      if (!found) return found.error();
      if (!*found) {
        std::string message(field);
        message.append(": « ").append(*id).append(
            " » n'est pas une fiche de l'annuaire des partenaires de cette base (importez d'abord les contacts, "
            "ou relais contact search)");
        return MakeError(ErrorCode::kValidation, message);
      }
      known_contacts_.insert(*id);
    }
    const std::string& start = *value("start_time");
    const std::string& end = *value("end_time");
    if (end <= start) {
      return MakeError(ErrorCode::kValidation,
                       "end_time: « " + end + " » doit être après le début (« " + start + " »)");
    }
    if (value("valid_until") && *value("valid_until") < *value("valid_from")) {
      return MakeError(ErrorCode::kValidation, "valid_until: « " + *value("valid_until") + " » est avant le début (« " +
                                                   *value("valid_from") + " »)");
    }
    return OkStatus();
  }

  Records& records_;
  const schema::Table& table_;
  int64_t rowid_before_;
  std::set<std::string> known_contacts_;  // permanences: the directory's ids already checked
  std::optional<DirectoryNames> names_;   // permanences: their partners named
  std::optional<DeclaredPoints> points_;  // tables with a reception point
  size_t point_ = 0, territory_ = 0;      // their fields' indexes
  std::vector<size_t> lines_;             // the file line of each row written, in rowid order
};

Result<ImportSummary> ImportCsv(Records& records, std::string_view text, const std::string& name,
                                const ImportOptions& options) {
  ImportSummary summary;
  std::string converted;
  auto encoding = DecodeToUtf8(text, converted, options.encoding);
  if (!encoding) return encoding.error();
  summary.encoding = *encoding;
  summary.separator = options.separator.value_or(DetectCsvSeparator(text));
  auto renames = ParseColumnMap(options.column_map);
  if (!renames) return renames.error();

  CsvReader reader(text, summary.separator);
  std::vector<std::string> header, cells;
  auto got = reader.Next(header);
  if (!got) return got.error();
  if (!*got)
    return MakeError(ErrorCode::kValidation,
                     name + " est vide (attendu : une ligne d'en-tête avec les noms des champs)");
  auto match = ChooseTable(options.kind, header, *renames, true, name);
  if (!match) return match.error();
  const schema::Table& t = *match->table;
  summary.table = &t;
  RELAIS_TRY(CheckColumnMap(*renames, header, t));
  if (!match->unknown.empty()) return UnknownColumns(*match, header, summary.separator, summary.encoding);
  if (!match->refusal.empty()) return MakeError(ErrorCode::kValidation, match->refusal);

  // column -> field (or a k…Column), and back
  const std::vector<int>& column_field = match->column_field;
  std::vector<int> field_column(t.fields.size(), -1);
  int id_column = -1;
  std::vector<size_t> zero_columns, blank_columns;  // phones and postcodes; columns without a heading
  for (size_t c = 0; c < column_field.size(); ++c) {
    const int field = column_field[c];
    if (field == kIdColumn) id_column = static_cast<int>(c);
    if (field == kBlankColumn) blank_columns.push_back(c);
    if (field < 0) continue;
    field_column[static_cast<size_t>(field)] = static_cast<int>(c);
    const schema::Field& f = t.fields[static_cast<size_t>(field)];
    if (f.type == schema::FieldType::kPhone || f.type == schema::FieldType::kPostcode) zero_columns.push_back(c);
    if (header[c] != f.name) summary.renamed_columns.emplace_back(header[c], f.name);
  }

  RELAIS_TRY(records.replica().db().Exec(kImportCacheSize));
  auto tx = sqlite::Transaction::Begin(records.replica().db());
  if (!tx) return tx.error();
  auto bulk = BulkLoad::Begin(records.replica().db(), t.name);
  if (!bulk) return bulk.error();
  auto begun = RowWriter::Begin(records, t);
  if (!begun) return begun.error();
  RowWriter writer = std::move(*begun);
  std::vector<schema::Value> values;
  while (true) {
    got = reader.Next(cells);
    if (!got) return got.error();
    if (!*got) break;
    size_t line = reader.line();
    if (cells.size() == 1 && cells[0].empty()) continue;  // a blank line
    if (cells.size() != header.size()) {
      return MakeError(ErrorCode::kValidation, "ligne " + std::to_string(line) + " : " + std::to_string(cells.size()) +
                                                   " cellules alors que l'en-tête en a " +
                                                   std::to_string(header.size()));
    }
    for (size_t c : blank_columns) {
      if (cells[c].find_first_not_of(" \t") != std::string::npos) {
        return MakeError(ErrorCode::kValidation, "ligne " + std::to_string(line) + " : la colonne " +
                                                     std::to_string(c + 1) +
                                                     " n'a pas d'intitulé dans l'en-tête mais contient « " + cells[c] +
                                                     " » ; donnez-lui un intitulé, ou videz-la");
      }
    }
    for (size_t c : zero_columns) {
      const schema::Field& f = t.fields[static_cast<size_t>(column_field[c])];
      const size_t zero_at = MissingZeroAt(f.type, cells[c]);
      if (zero_at == std::string_view::npos) continue;
      const std::string typed = cells[c];
      cells[c].insert(zero_at, 1, '0');
      const std::string_view field = f.name;
      summary.warnings.push_back({line, std::string(field),
                                  "ligne " + std::to_string(line) + " : " + std::string(field) + ": « " + typed +
                                      " » lu comme « " + cells[c] +
                                      " » (le 0 initial, effacé par le tableur, est rétabli)"});
    }
    std::optional<std::string> id;
    if (id_column >= 0 && !cells[static_cast<size_t>(id_column)].empty()) id = cells[static_cast<size_t>(id_column)];
    values.resize(t.fields.size());
    for (size_t i = 0; i < values.size(); ++i) {
      int c = field_column[i];
      if (c < 0 || cells[static_cast<size_t>(c)].empty())
        values[i].reset();
      else {
        // Swapped, not copied: the reader refills the cell next row in the value's old buffer.
        if (!values[i]) values[i].emplace();
        values[i]->swap(cells[static_cast<size_t>(c)]);
      }
    }
    RELAIS_TRY(writer.Write(line, std::move(id), values));
    if (options.progress && writer.count() % kProgressEvery == 0) options.progress(writer.count());
  }
  // As for JSONL: a file without a record is refused, not reported as a successful import of none.
  if (writer.count() == 0)
    return MakeError(ErrorCode::kValidation, name + " ne contient aucune fiche (seulement sa ligne d'en-tête)");
  RELAIS_TRY(bulk->Finish());
  RELAIS_TRY(tx->Commit());
  summary.records = writer.count();
  return summary;
}

Result<ImportSummary> ImportJsonl(Records& records, std::string_view text, const std::string& name,
                                  const ImportOptions& options) {
  if (options.separator || options.encoding || !options.column_map.empty()) {
    return MakeError(ErrorCode::kUsage, name +
                                            " est un fichier JSONL, toujours en UTF-8 avec les noms des champs : "
                                            "--separator, --encoding et --map ne valent que pour un fichier CSV");
  }
  RELAIS_TRY(records.replica().db().Exec(kImportCacheSize));
  auto tx = sqlite::Transaction::Begin(records.replica().db());
  if (!tx) return tx.error();
  std::optional<RowWriter> writer;
  std::optional<BulkLoad> bulk;
  const schema::Table* table = nullptr;
  size_t line = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (line == 1 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
    if (raw.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (!IsValidUtf8(raw)) {
      return MakeError(
          ErrorCode::kValidation,
          "ligne " + std::to_string(line) + " : n'est pas un texte UTF-8 valide (enregistrez le fichier en UTF-8)");
    }
    nlohmann::json object = nlohmann::json::parse(raw, nullptr, false);
    if (object.is_discarded() || !object.is_object()) {
      return MakeError(ErrorCode::kValidation, "ligne " + std::to_string(line) + " : n'est pas un objet JSON");
    }
    if (!table) {
      std::vector<std::string> keys;
      for (auto it = object.begin(); it != object.end(); ++it) keys.push_back(it.key());
      auto chosen = ChooseTable(options.kind, keys, {}, false, name);
      if (!chosen) return chosen.error();
      table = chosen->table;
      auto load = BulkLoad::Begin(records.replica().db(), table->name);
      if (!load) return load.error();
      bulk.emplace(std::move(*load));
      auto begun = RowWriter::Begin(records, *table);
      if (!begun) return begun.error();
      writer.emplace(std::move(*begun));
    }
    auto fields = RecordFromJson(*table, object);
    if (!fields) return AtLine(line, fields.error());
    RELAIS_TRY(writer->Write(line, std::move(fields->id), fields->values));
    if (options.progress && writer->count() % kProgressEvery == 0) options.progress(writer->count());
  }
  if (!table) return MakeError(ErrorCode::kValidation, name + " ne contient aucune fiche");
  RELAIS_TRY(bulk->Finish());
  RELAIS_TRY(tx->Commit());
  ImportSummary summary;
  summary.table = table;
  summary.format = FileFormat::kJsonl;
  summary.records = writer->count();
  return summary;
}

// The options of the overloads that take only a table and a progress callback.
ImportOptions KindOnly(const std::optional<std::string>& kind, const std::function<void(size_t)>& progress) {
  ImportOptions options;
  options.kind = kind;
  options.progress = progress;
  return options;
}

}  // namespace

std::span<const std::string_view> ImportableTables() { return kImportable; }

Result<ImportSummary> ImportText(Records& records, std::string_view text, const std::string& name,
                                 const ImportOptions& options) {
  if (GuessFormat(name, text) == FileFormat::kCsv) return ImportCsv(records, text, name, options);
  return ImportJsonl(records, text, name, options);
}

Result<ImportSummary> ImportText(Records& records, std::string_view text, const std::string& name,
                                 const std::optional<std::string>& kind, const std::function<void(size_t)>& progress) {
  return ImportText(records, text, name, KindOnly(kind, progress));
}

Result<ImportSummary> ImportFile(Records& records, const std::string& path, const std::optional<std::string>& kind,
                                 const std::function<void(size_t)>& progress) {
  return ImportFile(records, path, KindOnly(kind, progress));
}

Result<ImportSummary> ImportFile(Records& records, const std::string& path, const ImportOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "impossible de lire " + path + " (fichier absent ou illisible)");
  // One allocation of the file's size, read in one go (a growing string buffer copied the 26 MB of
  // 100,000 cases several times over); a file whose size cannot be told is read as a stream.
  std::string text;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size >= 0) {
    in.seekg(0, std::ios::beg);
    text.resize(static_cast<size_t>(size));
    in.read(text.data(), size);
    if (in.gcount() != size) return MakeError(ErrorCode::kIo, "impossible de lire " + path);
  } else {
    in.clear();
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return MakeError(ErrorCode::kIo, "impossible de lire " + path);
    text = std::move(buffer).str();
  }
  return ImportText(records, text, path, options);
}

}  // namespace relais::client
