#include "sqlite/db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "base/text.h"

namespace relais::sqlite {

namespace {

// SQLITE_IOERR_DATA: a page of an encrypted file did not authenticate (sqlite/crypt_vfs.h). Said in
// French before SQLite's "disk I/O error", which would suggest a full disk.
std::string Damage(int extended_code) {
  if (extended_code != SQLITE_IOERR_DATA) return "";
  return "base endommagée : une page du fichier ne s'authentifie pas (modifiée ou abîmée sur le disque) et n'a "
         "pas été lue. Gardez une copie du fichier et signalez-le au support. ";
}

}  // namespace

// Once per process, before SQLite initialises itself (the first open): no memory statistics. With
// them, every allocation SQLite makes takes and releases a mutex shared by all connections to keep
// a count that nothing here reads: 3.7 % of `relais sync`'s instructions and 3.2 % of the centre's
// per pushed record (callgrind), and a lock every thread of the centre contends for. A no-op
// (SQLITE_MISUSE, ignored) when SQLite was initialised already.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

namespace {

// relais_nfc(X): X's text in Unicode NFC (base/text.h ToNfcInPlace); any other value as it is.
// The replica's migration 0011 rewrites the texts stored before every entry point normalised.
void NfcFunction(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_value(ctx, argv[0]);
    return;
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  std::string nfc(text, static_cast<size_t>(sqlite3_value_bytes(argv[0])));
  if (!ToNfcInPlace(nfc)) {
    sqlite3_result_value(ctx, argv[0]);
    return;
  }
  sqlite3_result_text(ctx, nfc.data(), static_cast<int>(nfc.size()), SQLITE_TRANSIENT);
}

}  // namespace

Status CreatePrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return OkStatus();
    return MakeError(ErrorCode::kIo, "impossible de créer la base " + path + " : " + std::strerror(errno));
  }
  // open() applies the umask to 0600, which can only take bits away; fchmod states it anyway.
  ::fchmod(fd, 0600);
  ::close(fd);
  return OkStatus();
}

Result<Db> Db::Open(const std::string& path, bool create, int page_size) {
  Options options;
  options.create = create;
  options.page_size = page_size;
  return Open(path, options);
}

Result<Db> Db::Open(const std::string& path, const Options& options) {
  ConfigureSqliteOnce();
  if (options.create) RELAIS_TRY(CreatePrivateFile(path));
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, options.vfs);
  Db db(raw);  // owns the handle even when open failed
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return MakeError(ErrorCode::kIo,
                     Damage(raw ? sqlite3_extended_errcode(raw) : rc) + "cannot open database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_create_function_v2(raw, "relais_nfc", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                             NfcFunction, nullptr, nullptr, nullptr);
  if (options.reserve_bytes > 0) {
    int reserve = options.reserve_bytes;
    if (sqlite3_file_control(raw, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK) {
      return db.LastError("cannot reserve bytes per page");
    }
  }
  if (options.temp_in_memory) RELAIS_TRY(db.Exec("PRAGMA temp_store = MEMORY"));
  // Set before WAL, which fixes the page size of a new database; a no-op on an existing one.
  if (options.page_size > 0) RELAIS_TRY(db.Exec("PRAGMA page_size = " + std::to_string(options.page_size)));
  // WAL: readers never block the writer. synchronous=FULL: a committed transaction survives a
  // power cut, which is what "never lose a note" means on a laptop whose battery dies.
  RELAIS_TRY(db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return db;
}

Error Db::LastError(std::string_view context) const {
  return MakeError(ErrorCode::kIo, Damage(sqlite3_extended_errcode(db_.get())) + std::string(context) + ": " +
                                       sqlite3_errmsg(db_.get()));
}

Status Db::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return MakeError(ErrorCode::kIo, Damage(sqlite3_extended_errcode(db_.get())) + "SQL failed: " + msg);
  }
  return OkStatus();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc =
      sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) return LastError("cannot prepare statement");
  return Stmt(raw);
}

Stmt& Stmt::Bind(int i, std::string_view text) {
  sqlite3_bind_text(stmt_.get(), i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Bind(int i, int64_t n) {
  sqlite3_bind_int64(stmt_.get(), i, n);
  return *this;
}

Stmt& Stmt::Bind(int i, const schema::Value& v) {
  if (v) return Bind(i, std::string_view(*v));
  return BindNull(i);
}

Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(stmt_.get(), i);
  return *this;
}

Stmt& Stmt::Bind(int i, const schema::Field& f, const schema::Value& v) {
  if (v && f.type == schema::FieldType::kInt) {
    try {
      return Bind(i, static_cast<int64_t>(std::stoll(*v)));
    } catch (const std::exception&) {
      return Bind(i, std::string_view(*v));  // validation refuses it before it is stored
    }
  }
  return Bind(i, v);
}

Stmt& Stmt::BindBorrowed(int i, const schema::Field& f, const schema::Value& v) {
  if (!v || f.type == schema::FieldType::kInt) return Bind(i, f, v);
  return BindBorrowed(i, std::string_view(*v));
}

Stmt& Stmt::BindBorrowed(int i, std::string_view text) {
  sqlite3_bind_text(stmt_.get(), i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_.get());
  return MakeError(ErrorCode::kIo, Damage(sqlite3_extended_errcode(db)) + "SQL step failed: " + sqlite3_errmsg(db));
}

Status Stmt::Run() {
  while (true) {
    auto r = Step();
    if (!r) return r.error();
    if (!*r) return OkStatus();
  }
}

void Stmt::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_.get(), col);
  int n = sqlite3_column_bytes(stmt_.get(), col);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(n)) : std::string();
}

schema::Value Stmt::Val(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

Result<Transaction> Transaction::Begin(Db& db) {
  RELAIS_TRY(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::Commit() {
  RELAIS_TRY(db_->Exec("COMMIT"));
  open_ = false;
  return OkStatus();
}

}  // namespace relais::sqlite
