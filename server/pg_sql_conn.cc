// SqlConn over a PostgreSQL connection (server/sql_conn.h).
#include "pg/conn.h"
#include "server/sql_conn.h"

namespace relais::server {

namespace {

// The rows of one statement, fetched whole when it ran.
class PgRows final : public SqlRows {
 public:
  explicit PgRows(pg::Rows rows) : rows_(std::move(rows)) {}
  Result<bool> Next() override { return ++next_ < rows_.size(); }
  bool IsNull(int col) const override { return row().IsNull(col); }
  int64_t Int(int col) const override { return row().Int(col); }
  std::string Text(int col) const override { return row().Text(col); }
  schema::Value Val(int col) const override { return row().Val(col); }

 private:
  pg::Row row() const { return rows_[next_]; }
  pg::Rows rows_;
  int next_ = -1;
};

pg::Params TextsOf(const SqlParams& params) {
  pg::Params out;
  out.reserve(params.size());
  for (const SqlParam& p : params) out.push_back(p.AsText());
  return out;
}

class PgConn final : public SqlConn {
 public:
  explicit PgConn(pg::Conn& conn) : conn_(conn) {}

  const SqlDialect& dialect() const override { return PostgresDialect(); }

  Result<std::unique_ptr<SqlRows>> Query(const std::string& sql, const SqlParams& params, SqlPlan plan) override {
    const std::string translated = PostgresDialect().translate(sql);
    auto rows = plan == SqlPlan::kForValues ? conn_.ExecCustomPlan(translated, TextsOf(params))
                                            : conn_.Exec(translated, TextsOf(params));
    if (!rows) return rows.error();
    return std::unique_ptr<SqlRows>(new PgRows(std::move(*rows)));
  }

  Result<int64_t> Run(const std::string& sql, const SqlParams& params) override {
    auto rows = conn_.Exec(PostgresDialect().translate(sql), TextsOf(params));
    if (!rows) return rows.error();
    return rows->Affected();
  }

  Status Exec(const std::string& sql) override { return conn_.ExecScript(sql); }

 private:
  pg::Conn& conn_;
};

}  // namespace

std::unique_ptr<SqlConn> SqlConnOver(pg::Conn& conn) { return std::make_unique<PgConn>(conn); }

}  // namespace relais::server
