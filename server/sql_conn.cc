#include "server/sql_conn.h"

#include "pg/conn.h"
#include "server/stored_json.h"

namespace relais::server {

namespace {

// SQLite's "?N" as PostgreSQL's "$N", and its byte-wise collation as PostgreSQL's.
std::string ToPostgres(std::string_view sql) {
  static constexpr std::string_view kBinary = "COLLATE BINARY";
  std::string out;
  out.reserve(sql.size());
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '$';
    } else if (sql.substr(i, kBinary.size()) == kBinary) {
      out += "COLLATE \"C\"";
      i += kBinary.size() - 1;
    } else {
      out += sql[i];
    }
  }
  return out;
}

}  // namespace

const SqlDialect& SqliteDialect() {
  static const SqlDialect kDialect{
      .param = [](int n, std::string_view) { return "?" + std::to_string(n); },
      .in_list = [](const std::string& column,
                    int n) { return column + " IN (SELECT value FROM json_each(?" + std::to_string(n) + "))"; },
      .list = [](const std::vector<std::string>& texts) { return EncodeTextList(texts); },
      .list_type = "json",
      .mention_every_param = false,
      .translate = [](std::string_view sql) { return std::string(sql); },
      .begin_snapshot = "BEGIN",
      .begin_write = "BEGIN IMMEDIATE",
      .lock_seq = "SELECT last_seq FROM meta WHERE id = 1",
      .steps_rows = true,
  };
  return kDialect;
}

const SqlDialect& PostgresDialect() {
  static const SqlDialect kDialect{
      .param = [](int n, std::string_view type) { return "$" + std::to_string(n) + "::" + std::string(type); },
      .in_list = [](const std::string& column, int n) { return column + " = ANY($" + std::to_string(n) + "::text[])"; },
      .list =
          [](const std::vector<std::string>& texts) {
            return pg::ArrayLiteral(std::vector<schema::Value>(texts.begin(), texts.end()));
          },
      .list_type = "text[]",
      .mention_every_param = true,
      .translate = ToPostgres,
      .begin_snapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
      .begin_write = "BEGIN",
      .lock_seq = "SELECT last_seq FROM meta WHERE id = 1 FOR UPDATE",
      .steps_rows = false,
  };
  return kDialect;
}

schema::Value SqlParam::AsText() const {
  if (const std::string* t = text()) return *t;
  if (const int64_t* n = integer()) return std::to_string(*n);
  return std::nullopt;
}

Result<SqlTransaction> SqlTransaction::Begin(SqlConn& conn, Kind kind) {
  RELAIS_TRY(conn.Exec(kind == Kind::kWrite ? conn.dialect().begin_write : conn.dialect().begin_snapshot));
  return SqlTransaction(conn);
}

SqlTransaction::~SqlTransaction() {
  if (conn_) (void)conn_->Exec("ROLLBACK");
}

Status SqlTransaction::Commit() {
  SqlConn* conn = conn_;
  conn_ = nullptr;
  return conn->Exec("COMMIT");
}

}  // namespace relais::server
