// The small SQL interface the central store's logic is written over (server/sql_store.h), with one
// implementation over SQLite (sqlite/db.h) and one over PostgreSQL (pg/conn.h): statements with
// bound parameters, their rows, transactions and read snapshots. Every difference between the two
// databases' SQL is in SqlDialect, here and in sql_conn.cc, and nowhere else.
//
// The shared statements are written once, in SQLite's syntax: parameters "?N", byte-wise order
// "COLLATE BINARY". SqlDialect::translate turns them into what the database runs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "schema/model.h"

namespace relais::sqlite {
class Db;
}
namespace relais::pg {
class Conn;
}

namespace relais::server {

// How one database writes what the two write differently.
struct SqlDialect {
  // The n-th parameter (1-based) in a context of `type` ("bigint", "text"): "?1" or "$1::bigint".
  std::string (*param)(int n, std::string_view type);
  // `column` is one of the texts of the list bound as parameter `n` (made by `list`): a JSON array
  // on SQLite, read with json_each; an array literal on PostgreSQL, read with = ANY, which its
  // planner matches with an index for the values of the call.
  std::string (*in_list)(const std::string& column, int n);
  // The value to bind for in_list.
  std::string (*list)(const std::vector<std::string>& texts);
  // The type of that parameter where it must be named ("text[]" on PostgreSQL).
  const char* list_type;
  // PostgreSQL must find a type for every parameter of a statement, even one it does not need.
  bool mention_every_param;
  // A shared statement (SQLite's syntax) as this database runs it: on PostgreSQL "?N" becomes "$N"
  // and "COLLATE BINARY" (byte-wise order, whatever the database's locale) COLLATE "C".
  std::string (*translate)(std::string_view sql);
  // What opens a read snapshot (every read of it sees one state of the store) and a write
  // transaction (SQLite takes the write lock at once: BEGIN IMMEDIATE).
  const char* begin_snapshot;
  const char* begin_write;
  // Reads the global sequence (meta.last_seq) inside a write transaction, taking it for the
  // transaction: on SQLite the write lock already holds it, PostgreSQL locks its row.
  const char* lock_seq;
  // Whether a statement's rows are read one at a time as they are taken (SQLite), rather than all
  // fetched when it runs (PostgreSQL): a reader that may stop early can then ask for more rows at
  // no cost (server/pull_page.h, kEchoScan).
  bool steps_rows;
};
const SqlDialect& SqliteDialect();
const SqlDialect& PostgresDialect();

// One bound parameter: NULL, a text or an integer.
class SqlParam {
 public:
  SqlParam() = default;
  SqlParam(std::nullopt_t) {}         // NOLINT(google-explicit-constructor): parameters read as values
  SqlParam(const schema::Value& v) {  // NOLINT(google-explicit-constructor)
    if (v) *this = SqlParam(*v);
  }
  SqlParam(std::string text) : kind_(Kind::kText), text_(std::move(text)) {}  // NOLINT(google-explicit-constructor)
  SqlParam(std::string_view text) : SqlParam(std::string(text)) {}            // NOLINT(google-explicit-constructor)
  SqlParam(const char* text) : SqlParam(std::string(text)) {}                 // NOLINT(google-explicit-constructor)
  SqlParam(int64_t n) : kind_(Kind::kInteger), integer_(n) {}                 // NOLINT(google-explicit-constructor)

  const std::string* text() const { return kind_ == Kind::kText ? &text_ : nullptr; }
  const int64_t* integer() const { return kind_ == Kind::kInteger ? &integer_ : nullptr; }
  // The value as text (integers in decimal), or nullopt for NULL.
  schema::Value AsText() const;

 private:
  enum class Kind { kNull, kText, kInteger };
  Kind kind_ = Kind::kNull;
  std::string text_;
  int64_t integer_ = 0;
};
using SqlParams = std::vector<SqlParam>;

// One row of a result: column indexes from 0, values as text (integers as their decimal text).
class SqlRow {
 public:
  virtual bool IsNull(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual schema::Value Val(int col) const = 0;  // null or text

 protected:
  ~SqlRow() = default;
};

// The rows of a statement, one at a time. Valid while its connection is, and until the
// connection's transaction ends.
class SqlRows : public SqlRow {
 public:
  virtual ~SqlRows() = default;
  // Moves to the next row (the first, on the first call): true when there is one.
  virtual Result<bool> Next() = 0;
};

// How a statement is planned on PostgreSQL (SQLite plans each statement it prepares).
enum class SqlPlan {
  kReused,     // prepared once per connection, for any values
  kForValues,  // planned for the values of each call: reads by a list of ids or territories
};

// One connection. Not thread-safe: one thread uses it at a time. Errors are kIo with the
// database's message.
class SqlConn {
 public:
  virtual ~SqlConn() = default;
  virtual const SqlDialect& dialect() const = 0;
  // The rows of `sql` (SQLite's syntax, see SqlDialect::translate) run with `params` (?1, ?2…).
  virtual Result<std::unique_ptr<SqlRows>> Query(const std::string& sql, const SqlParams& params, SqlPlan plan) = 0;
  // Runs a statement that returns no rows; answers how many rows it changed.
  virtual Result<int64_t> Run(const std::string& sql, const SqlParams& params) = 0;
  // Runs statements without parameters (BEGIN, COMMIT, ROLLBACK).
  virtual Status Exec(const std::string& sql) = 0;
};

// SqlConn over a connection the caller keeps open for as long as the result is used.
std::unique_ptr<SqlConn> SqlConnOver(sqlite::Db& db);
std::unique_ptr<SqlConn> SqlConnOver(pg::Conn& conn);

// A transaction or a read snapshot (SqlDialect::begin_snapshot), rolled back at the end of its
// scope unless Commit() succeeded (a snapshot has nothing to commit).
class SqlTransaction {
 public:
  enum class Kind { kSnapshot, kWrite };
  static Result<SqlTransaction> Begin(SqlConn& conn, Kind kind);
  SqlTransaction(SqlTransaction&& o) noexcept : conn_(o.conn_) { o.conn_ = nullptr; }
  SqlTransaction& operator=(SqlTransaction&&) = delete;
  ~SqlTransaction();
  Status Commit();

 private:
  explicit SqlTransaction(SqlConn& conn) : conn_(&conn) {}
  SqlConn* conn_;
};

// A connection lent for a while, together with what keeps it lent (a pool's lease, a writer's
// lock), which is released after the connection.
class SqlLease {
 public:
  SqlLease(std::shared_ptr<void> keep, std::unique_ptr<SqlConn> conn)
      : keep_(std::move(keep)), conn_(std::move(conn)) {}
  SqlConn& conn() { return *conn_; }
  SqlConn* operator->() { return conn_.get(); }

 private:
  std::shared_ptr<void> keep_;  // destroyed last
  std::unique_ptr<SqlConn> conn_;
};

// The first row of `sql` read by `read(row)`, or nullopt when it has none.
template <class Fn>
auto QueryOne(SqlConn& conn, const std::string& sql, const SqlParams& params, Fn&& read)
    -> Result<std::optional<decltype(read(std::declval<const SqlRow&>()))>> {
  using Out = std::optional<decltype(read(std::declval<const SqlRow&>()))>;
  auto rows = conn.Query(sql, params, SqlPlan::kReused);
  if (!rows) return rows.error();
  auto more = (*rows)->Next();
  if (!more) return more.error();
  if (!*more) return Out();
  return Out(read(**rows));
}

// Every row of `sql`, each read by `read(row)`.
template <class Fn>
auto QueryAll(SqlConn& conn, const std::string& sql, const SqlParams& params, Fn&& read,
              SqlPlan plan = SqlPlan::kReused) -> Result<std::vector<decltype(read(std::declval<const SqlRow&>()))>> {
  std::vector<decltype(read(std::declval<const SqlRow&>()))> out;
  auto rows = conn.Query(sql, params, plan);
  if (!rows) return rows.error();
  while (true) {
    auto more = (*rows)->Next();
    if (!more) return more.error();
    if (!*more) return out;
    out.push_back(read(**rows));
  }
}

}  // namespace relais::server
