// SqlConn over an SQLite connection (server/sql_conn.h).
#include "server/sql_conn.h"
#include "sqlite/db.h"

namespace relais::server {

namespace {

// The rows of one prepared statement, stepped as they are asked for.
class SqliteRows final : public SqlRows {
 public:
  explicit SqliteRows(sqlite::Stmt stmt) : stmt_(std::move(stmt)) {}
  Result<bool> Next() override { return stmt_.Step(); }
  bool IsNull(int col) const override { return stmt_.IsNull(col); }
  int64_t Int(int col) const override { return stmt_.Int(col); }
  std::string Text(int col) const override { return stmt_.Text(col); }
  schema::Value Val(int col) const override { return stmt_.Val(col); }

 private:
  sqlite::Stmt stmt_;
};

void Bind(sqlite::Stmt& s, const SqlParams& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const int n = static_cast<int>(i) + 1;
    if (const std::string* text = params[i].text()) {
      s.Bind(n, *text);
    } else if (const int64_t* integer = params[i].integer()) {
      s.Bind(n, *integer);
    } else {
      s.BindNull(n);
    }
  }
}

class SqliteConn final : public SqlConn {
 public:
  explicit SqliteConn(sqlite::Db& db) : db_(db) {}

  const SqlDialect& dialect() const override { return SqliteDialect(); }

  Result<std::unique_ptr<SqlRows>> Query(const std::string& sql, const SqlParams& params, SqlPlan) override {
    auto s = db_.Prepare(sql);
    if (!s) return s.error();
    Bind(*s, params);
    return std::unique_ptr<SqlRows>(new SqliteRows(std::move(*s)));
  }

  Result<int64_t> Run(const std::string& sql, const SqlParams& params) override {
    auto s = db_.Prepare(sql);
    if (!s) return s.error();
    Bind(*s, params);
    RELAIS_TRY(s->Run());
    return db_.Changes();
  }

  Status Exec(const std::string& sql) override { return db_.Exec(sql); }

 private:
  sqlite::Db& db_;
};

}  // namespace

std::unique_ptr<SqlConn> SqlConnOver(sqlite::Db& db) { return std::make_unique<SqliteConn>(db); }

}  // namespace relais::server
