#include "client/import.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "base/text.h"
#include "client/csv.h"
#include "client/fts_bulk.h"
#include "client/record_json.h"
#include "client/territories.h"

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

Result<const schema::Table*> ChooseTable(const std::optional<std::string>& kind, const std::vector<std::string>& keys,
                                         const std::string& name) {
  if (kind) {
    if (*kind == "cases") return &schema::CasesTable();
    if (*kind == "contacts") return &schema::ContactsTable();
    return MakeError(ErrorCode::kUsage, "--kind : " + *kind + " n'est pas une valeur permise (cases ou contacts)");
  }
  bool organisation = false, person = false;
  for (const std::string& k : keys) {
    organisation |= k == "organisation";
    person |= k == "opened_on" || k == "birth_date" || k == "service_level";
  }
  if (organisation && !person) return &schema::ContactsTable();
  if (person && !organisation) return &schema::CasesTable();
  return MakeError(ErrorCode::kUsage,
                   "impossible de savoir si " + name +
                       " contient des dossiers ou des contacts ; précisez-le avec --kind cases|contacts");
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
    // A case's reception point is checked as `relais case add` checks it.
    if (&table == &schema::CasesTable()) {
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

  Records& records_;
  const schema::Table& table_;
  int64_t rowid_before_;
  std::optional<DeclaredPoints> points_;  // cases only
  size_t point_ = 0, territory_ = 0;      // their fields' indexes
  std::vector<size_t> lines_;  // the file line of each row written, in rowid order
};

Result<ImportSummary> ImportCsv(Records& records, std::string_view text, const std::string& name,
                                const std::optional<std::string>& kind, const std::function<void(size_t)>& progress) {
  CsvReader reader(text);
  std::vector<std::string> header, cells;
  auto got = reader.Next(header);
  if (!got) return got.error();
  if (!*got)
    return MakeError(ErrorCode::kValidation,
                     name + " est vide (attendu : une ligne d'en-tête avec les noms des champs)");
  for (const std::string& h : header) {
    if (!IsValidUtf8(h))
      return MakeError(ErrorCode::kValidation, "ligne 1 : l'en-tête n'est pas un texte UTF-8 valide");
  }
  auto table = ChooseTable(kind, header, name);
  if (!table) return table.error();
  const schema::Table& t = **table;

  // column -> field index (-1 for id), and back
  std::vector<int> column_field, field_column(t.fields.size(), -1);
  int id_column = -1;
  std::vector<bool> present(t.fields.size(), false);
  bool has_id = false;
  for (const std::string& h : header) {
    if (h == "id") {
      if (has_id) return MakeError(ErrorCode::kValidation, "ligne 1 : la colonne id apparaît deux fois");
      has_id = true;
      id_column = static_cast<int>(column_field.size());
      column_field.push_back(-1);
      continue;
    }
    int i = t.FieldIndex(h);
    if (i < 0) {
      std::string known = "id";
      for (const auto& f : t.fields) known += ", " + std::string(f.name);
      std::string message = "ligne 1 : colonne inconnue « " + h;
      message.append(" » pour ").append(t.name).append(" (colonnes connues : ").append(known).append(")");
      return MakeError(ErrorCode::kValidation, message);
    }
    if (present[static_cast<size_t>(i)])
      return MakeError(ErrorCode::kValidation, "ligne 1 : la colonne " + h + " apparaît deux fois");
    present[static_cast<size_t>(i)] = true;
    field_column[static_cast<size_t>(i)] = static_cast<int>(column_field.size());
    column_field.push_back(i);
  }
  for (size_t i = 0; i < t.fields.size(); ++i) {
    if (t.fields[i].required && !present[i]) {
      return MakeError(ErrorCode::kValidation,
                       "ligne 1 : il manque la colonne obligatoire " + std::string(t.fields[i].name));
    }
  }

  // One pass over the whole file settles UTF-8 for every cell; only a file that fails it is checked
  // cell by cell, to name the line and the field.
  const bool all_utf8 = IsValidUtf8(text);
  RELAIS_TRY(records.replica().db().Exec(kImportCacheSize));
  auto tx = sqlite::Transaction::Begin(records.replica().db());
  if (!tx) return tx.error();
  auto fts = FtsBulkLoad::Begin(records.replica().db(), t.name);
  if (!fts) return fts.error();
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
    if (!all_utf8) {
      for (size_t c = 0; c < cells.size(); ++c) {
        int field = column_field[c];
        if (!IsValidUtf8(cells[c])) {
          return MakeError(
              ErrorCode::kValidation,
              "ligne " + std::to_string(line) + " : " +
                  (field < 0 ? std::string("id") : std::string(t.fields[static_cast<size_t>(field)].name)) +
                  ": n'est pas un texte UTF-8 valide (enregistrez le fichier en UTF-8)");
        }
      }
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
    if (progress && writer.count() % kProgressEvery == 0) progress(writer.count());
  }
  // As for JSONL: a file without a record is refused, not reported as a successful import of none.
  if (writer.count() == 0)
    return MakeError(ErrorCode::kValidation, name + " ne contient aucune fiche (seulement sa ligne d'en-tête)");
  RELAIS_TRY(fts->Finish());
  RELAIS_TRY(tx->Commit());
  return ImportSummary{&t, FileFormat::kCsv, writer.count()};
}

Result<ImportSummary> ImportJsonl(Records& records, std::string_view text, const std::string& name,
                                  const std::optional<std::string>& kind, const std::function<void(size_t)>& progress) {
  RELAIS_TRY(records.replica().db().Exec(kImportCacheSize));
  auto tx = sqlite::Transaction::Begin(records.replica().db());
  if (!tx) return tx.error();
  std::optional<RowWriter> writer;
  std::optional<FtsBulkLoad> fts;
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
      auto chosen = ChooseTable(kind, keys, name);
      if (!chosen) return chosen.error();
      table = *chosen;
      auto load = FtsBulkLoad::Begin(records.replica().db(), table->name);
      if (!load) return load.error();
      fts.emplace(std::move(*load));
      auto begun = RowWriter::Begin(records, *table);
      if (!begun) return begun.error();
      writer.emplace(std::move(*begun));
    }
    auto fields = RecordFromJson(*table, object);
    if (!fields) return AtLine(line, fields.error());
    RELAIS_TRY(writer->Write(line, std::move(fields->id), fields->values));
    if (progress && writer->count() % kProgressEvery == 0) progress(writer->count());
  }
  if (!table) return MakeError(ErrorCode::kValidation, name + " ne contient aucune fiche");
  RELAIS_TRY(fts->Finish());
  RELAIS_TRY(tx->Commit());
  return ImportSummary{table, FileFormat::kJsonl, writer->count()};
}

}  // namespace

Result<ImportSummary> ImportText(Records& records, std::string_view text, const std::string& name,
                                 const std::optional<std::string>& kind, const std::function<void(size_t)>& progress) {
  if (GuessFormat(name, text) == FileFormat::kCsv) return ImportCsv(records, text, name, kind, progress);
  return ImportJsonl(records, text, name, kind, progress);
}

Result<ImportSummary> ImportFile(Records& records, const std::string& path, const std::optional<std::string>& kind,
                                 const std::function<void(size_t)>& progress) {
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
  return ImportText(records, text, path, kind, progress);
}

}  // namespace relais::client
