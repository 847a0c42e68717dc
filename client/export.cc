#include "client/export.h"

#include <nlohmann/json.hpp>

#include "client/csv.h"
#include "client/record_json.h"

namespace relais::client {

Result<size_t> ExportTable(Replica& replica, const schema::Table& table, FileFormat format, std::ostream& out) {
  // A read transaction: the export is one consistent snapshot even if another process writes.
  RELAIS_TRY(replica.db().Exec("BEGIN"));
  struct EndRead {
    sqlite::Db& db;
    ~EndRead() { (void)db.Exec("COMMIT"); }
  } end_read{replica.db()};

  auto stmt = replica.Statement("SELECT " + RecordColumns(table) + " FROM " + std::string(table.name) + " ORDER BY id");
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  std::string line;
  if (format == FileFormat::kCsv) {
    line = "id";
    for (const schema::Field& f : table.fields) line += "," + std::string(f.name);
    out << line << "\r\n";
  }
  size_t count = 0;
  schema::Record record;
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    record.id = (*stmt)->Text(0);
    record.version = (*stmt)->Int(1);
    record.values.clear();
    for (size_t i = 0; i < table.fields.size(); ++i) record.values.push_back((*stmt)->Val(static_cast<int>(i) + 2));
    line.clear();
    if (format == FileFormat::kCsv) {
      AppendCsvField(line, record.id);
      for (const schema::Value& v : record.values) {
        line.push_back(',');
        if (v) AppendCsvField(line, *v);
      }
      line += "\r\n";
    } else {
      line = RecordToJson(table, record, false, false).dump() + "\n";
    }
    out << line;
    ++count;
  }
  out.flush();
  if (!out) return MakeError(ErrorCode::kIo, "impossible d'écrire l'export (disque plein ou sortie fermée ?)");
  return count;
}

}  // namespace relais::client
