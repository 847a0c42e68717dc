// sqlite/ — RAII ownership of SQLite handles and the migration runner, shared by the device's
// replica and the central store. It knows SQL and schema::Value; it knows nothing of the sync, the
// network or the CLI.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "schema/model.h"

namespace relais::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

class Stmt;

// Process-wide SQLite settings, applied once before SQLite initialises itself (no memory statistics:
// see db.cc). Called by Db::Open and by the encrypting VFS's registration, whichever comes first.
void ConfigureSqliteOnce();

// Creates an empty file at `path` with mode 0600 whatever the umask, unless a file is there already
// (left as it is): a database of personal data created by SQLite would be 0644, readable by every
// account of the machine. kIo, in French and naming the file, when it cannot be created.
Status CreatePrivateFile(const std::string& path);

// One connection. Not thread-safe: one thread uses it at a time.
class Db {
 public:
  // Opens (or creates, when `create` is true) the database at `path` and sets the pragmas that
  // every Relais database uses: WAL, synchronous=FULL (a commit survives power loss), foreign keys,
  // a busy timeout. A database this call creates is created 0600 (CreatePrivateFile), and SQLite
  // gives its -wal, -shm and -journal the mode of the database file. Fails with kIo and SQLite's
  // message when the file cannot be opened.
  // `page_size` (bytes, a power of two from 512 to 65536) is that of a database this call creates;
  // 0 leaves SQLite's (4096). An existing database keeps the page size it was created with.
  static Result<Db> Open(const std::string& path, bool create = true, int page_size = 0);

  struct Options {
    bool create = true;
    int page_size = 0;
    // The VFS to open the file through (sqlite3_open_v2's zVfs); nullptr: SQLite's default.
    const char* vfs = nullptr;
    // Bytes reserved at the end of every page of a database this call creates (the encrypted
    // replica's nonce and tag, sqlite/crypt_vfs.h), set before its first page is written; 0: none.
    int reserve_bytes = 0;
    // Temporary tables, indexes and statement journals in memory, never in a file of their own
    // (which the encrypting VFS would not encrypt).
    bool temp_in_memory = false;
  };
  // The same, with every option.
  static Result<Db> Open(const std::string& path, const Options& options);

  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);

  sqlite3* handle() const { return db_.get(); }
  int64_t Changes() const { return sqlite3_changes64(db_.get()); }
  Error LastError(std::string_view context) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, DbCloser> db_;
};

// A prepared statement. Bind indexes start at 1, column indexes at 0. Reset() clears bindings so
// that hot-path statements can be prepared once and reused.
class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* s) : stmt_(s) {}

  Stmt& Bind(int i, std::string_view text);
  Stmt& Bind(int i, const std::string& text) { return Bind(i, std::string_view(text)); }
  Stmt& Bind(int i, const char* text) { return Bind(i, std::string_view(text)); }
  Stmt& Bind(int i, int64_t n);
  Stmt& Bind(int i, const schema::Value& v);  // null or text
  Stmt& BindNull(int i);
  // Binds per the field's type: kInt as an integer, others as text, null as NULL.
  Stmt& Bind(int i, const schema::Field& f, const schema::Value& v);
  // The same without copying the text: `v` must stay unchanged until the statement is reset (a
  // StmtGuard's scope). Saves an allocation and a copy per value on a bulk insert.
  Stmt& BindBorrowed(int i, const schema::Field& f, const schema::Value& v);
  Stmt& BindBorrowed(int i, std::string_view text);

  // true: a row is ready; false: done. An SQLite error is returned as kIo.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Status Run();
  void Reset();

  bool IsNull(int col) const { return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
  std::string Text(int col) const;
  schema::Value Val(int col) const;  // null or text (integers come back as their decimal text)
  int ColumnCount() const { return sqlite3_column_count(stmt_.get()); }

  sqlite3_stmt* handle() const { return stmt_.get(); }

 private:
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> stmt_;
};

// Resets a reused statement when the scope ends, whatever path leaves it.
class StmtGuard {
 public:
  explicit StmtGuard(Stmt& s) : s_(s) {}
  ~StmtGuard() { s_.Reset(); }
  StmtGuard(const StmtGuard&) = delete;
  StmtGuard& operator=(const StmtGuard&) = delete;

 private:
  Stmt& s_;
};

// BEGIN IMMEDIATE in Begin(), ROLLBACK in the destructor unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Db& db);
  Transaction(Transaction&& o) noexcept : db_(o.db_), open_(o.open_) { o.open_ = false; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Db& db) : db_(&db), open_(true) {}
  Db* db_;
  bool open_;
};

}  // namespace relais::sqlite
