// pg/ — RAII over libpq, the peer of sqlite/: a connection with its prepared statements, a result
// and its rows, a transaction, and the migration runner (pg/migrate.h). It knows SQL and
// schema::Value; it knows nothing of the sync, the network or the CLI. Every value travels as text
// (schema::Value).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "schema/model.h"

namespace relais::pg {

// True for "postgresql://…" and "postgres://…": what `--store` takes for PostgreSQL.
bool IsPostgresUrl(std::string_view spec);

// A PostgreSQL array literal of texts ("{\"a\",NULL}"), to bind as $n::text[] (or another
// element type) and read with = ANY or unnest.
std::string ArrayLiteral(const std::vector<schema::Value>& values);

// "postgresql://user@host:port/db": the URL for people and logs, never with its password.
std::string DescribeUrl(const std::string& url);

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};

// One row of a result, read like sqlite::Stmt: column indexes from 0, values as text.
class Row {
 public:
  Row(const PGresult* result, int row) : result_(result), row_(row) {}
  bool IsNull(int col) const { return PQgetisnull(result_, row_, col) != 0; }
  std::string Text(int col) const { return PQgetvalue(result_, row_, col); }
  int64_t Int(int col) const;
  schema::Value Val(int col) const { return IsNull(col) ? schema::Value() : schema::Value(Text(col)); }

 private:
  const PGresult* result_;
  int row_;
};

class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  int size() const { return PQntuples(result_.get()); }
  Row operator[](int row) const { return Row(result_.get(), row); }
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t Affected() const;

 private:
  std::unique_ptr<PGresult, ResultDeleter> result_;
};

// Bound parameters, all as text or NULL (PostgreSQL casts them to the column's type).
using Params = std::vector<schema::Value>;

// One connection. Not thread-safe: one thread uses it at a time (the pool sees to it).
class Conn {
 public:
  // Connects to `url`. kIo naming host, port, database and user (never the password) and what to
  // check, when the server cannot be reached or refuses the login.
  static Result<std::unique_ptr<Conn>> Open(const std::string& url);

  // Runs `sql` with `params` ($1, $2…). The statement is prepared on this connection the first
  // time it is seen and reused after. Errors are kIo with PostgreSQL's message.
  Result<Rows> Exec(const std::string& sql, const Params& params = {});
  // As Exec, but planned for `params` at each call (an unnamed statement) rather than once for any
  // values. For reads by a list of ids or territories: a plan made without the values guesses the
  // list's size and the rows that match, and one made while a table was small (a new store, or
  // statistics not yet gathered) scans the whole table once it is large: 6 ms instead of 0.1 ms
  // for the 100 ids of a push, 19 ms instead of 2 ms for a pull page of one territory.
  Result<Rows> ExecCustomPlan(const std::string& sql, const Params& params);
  // Runs `statements` in one round trip (libpq's pipeline mode), in order, for those whose
  // results are not needed. The first error is returned; the statements after it are not run, and
  // the transaction they were in must roll back.
  Status ExecPipeline(const std::vector<std::pair<std::string, Params>>& statements);
  // Runs one or more statements without parameters (migrations, BEGIN, COMMIT).
  Status ExecScript(const std::string& sql);

  // COPY … FROM STDIN: Copy() sends `sql` (e.g. "COPY t(a, b) FROM STDIN"), then each CopyRow()
  // one row of text values (NULL as \N), and EndCopy() the end. On an error the copy is abandoned
  // and the transaction it runs in must roll back.
  Status Copy(const std::string& sql);
  Status CopyRow(const std::vector<schema::Value>& values);
  Status EndCopy();

  bool Healthy() const;
  bool InTransaction() const;

 private:
  explicit Conn(PGconn* conn) : conn_(conn) {}
  // The name of `sql` prepared on this connection, preparing it the first time.
  Result<std::string> Prepared(const std::string& sql);
  Error LastError(PGresult* result, std::string_view context) const;
  // `result` as Rows, or the error it holds (it is freed either way).
  Result<Rows> Checked(PGresult* result) const;

  std::unique_ptr<PGconn, ConnDeleter> conn_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
  std::string copy_buffer_;                                // rows not yet sent, flushed every 1 MiB
};

// A transaction: BEGIN (with `mode`, e.g. "ISOLATION LEVEL REPEATABLE READ READ ONLY") in Begin(),
// ROLLBACK in the destructor unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Conn& conn, std::string_view mode = "");
  Transaction(Transaction&& o) noexcept : conn_(o.conn_) { o.conn_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Conn& conn) : conn_(&conn) {}
  Conn* conn_;
};

}  // namespace relais::pg
