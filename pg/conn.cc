#include "pg/conn.h"

#include <charconv>

namespace relais::pg {

namespace {

// The parts of a connection string that may be shown to people: never the password.
struct Target {
  std::string host = "localhost";
  std::string port = "5432";
  std::string dbname;
  std::string user;
};

Target TargetOf(const std::string& url) {
  Target t;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (error) PQfreemem(error);
  if (!options) return t;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    const std::string_view key = o->keyword;
    if (key == "host" || key == "hostaddr") t.host = o->val;
    if (key == "port") t.port = o->val;
    if (key == "dbname") t.dbname = o->val;
    if (key == "user") t.user = o->val;
  }
  PQconninfoFree(options);
  return t;
}

// libpq's message on one line, without its trailing new line.
std::string OneLine(std::string_view message) {
  std::string out;
  for (char c : message) {
    if (c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

bool IsPostgresUrl(std::string_view spec) {
  return spec.starts_with("postgresql://") || spec.starts_with("postgres://");
}

std::string ArrayLiteral(const std::vector<schema::Value>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string DescribeUrl(const std::string& url) {
  Target t = TargetOf(url);
  return "postgresql://" + (t.user.empty() ? "" : t.user + "@") + t.host + ":" + t.port + "/" + t.dbname;
}

int64_t Row::Int(int col) const {
  const char* text = PQgetvalue(result_, row_, col);
  int64_t n = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), n);
  return n;
}

int64_t Rows::Affected() const {
  const char* text = PQcmdTuples(result_.get());
  int64_t n = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), n);
  return n;
}

Result<std::unique_ptr<Conn>> Conn::Open(const std::string& url) {
  PGconn* raw = PQconnectdb(url.c_str());
  std::unique_ptr<PGconn, ConnDeleter> conn(raw);
  if (!conn) return MakeError(ErrorCode::kIo, "cannot allocate a PostgreSQL connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    Target t = TargetOf(url);
    return MakeError(
        ErrorCode::kIo,
        "impossible de joindre PostgreSQL à " + t.host + ":" + t.port + ", base \"" + t.dbname + "\"" +
            (t.user.empty() ? "" : ", utilisateur \"" + t.user + "\"") + " : " + OneLine(PQerrorMessage(conn.get())) +
            " — vérifiez que le serveur tourne et écoute sur cet hôte et ce port, que la base existe et "
            "que pg_hba.conf laisse entrer cet utilisateur (--store postgresql://UTILISATEUR@HÔTE:PORT/BASE)");
  }
  // Quiet NOTICEs (e.g. "relation already exists, skipping") instead of printing them on stderr.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Conn>(new Conn(conn.release()));
}

Error Conn::LastError(PGresult* result, std::string_view context) const {
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_.get());
  return MakeError(ErrorCode::kIo, std::string(context) + ": " + OneLine(message));
}

Result<std::string> Conn::Prepared(const std::string& sql) {
  auto found = prepared_.find(sql);
  if (found != prepared_.end()) return found->second;
  std::string name = "s" + std::to_string(prepared_.size() + 1);
  std::unique_ptr<PGresult, ResultDeleter> prepared(PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr));
  if (!prepared || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
    return LastError(prepared.get(), "PostgreSQL refused a statement");
  }
  prepared_.emplace(sql, name);
  return name;
}

namespace {

std::vector<const char*> ValuesOf(const Params& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const schema::Value& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

}  // namespace

Result<Rows> Conn::Exec(const std::string& sql, const Params& params) {
  auto name = Prepared(sql);
  if (!name) return name.error();
  std::vector<const char*> values = ValuesOf(params);
  PGresult* result =
      PQexecPrepared(conn_.get(), name->c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
  return Checked(result);
}

Result<Rows> Conn::Checked(PGresult* result) const {
  Rows rows(result);
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return LastError(result, "PostgreSQL");
  return rows;
}

Result<Rows> Conn::ExecCustomPlan(const std::string& sql, const Params& params) {
  std::vector<const char*> values = ValuesOf(params);
  PGresult* result = PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                  nullptr, nullptr, 0);
  return Checked(result);
}

Status Conn::ExecPipeline(const std::vector<std::pair<std::string, Params>>& statements) {
  if (statements.empty()) return OkStatus();
  std::vector<std::string> names;
  for (const auto& [sql, params] : statements) {
    auto name = Prepared(sql);  // outside the pipeline: each preparation waits for its answer
    if (!name) return name.error();
    names.push_back(std::move(*name));
  }
  if (PQenterPipelineMode(conn_.get()) != 1) return LastError(nullptr, "PostgreSQL pipeline");
  Status status = OkStatus();
  size_t sent = 0;
  for (; sent < statements.size(); ++sent) {
    std::vector<const char*> values = ValuesOf(statements[sent].second);
    if (PQsendQueryPrepared(conn_.get(), names[sent].c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                            nullptr, 0) != 1) {
      status = LastError(nullptr, "PostgreSQL pipeline");
      break;
    }
  }
  if (PQpipelineSync(conn_.get()) != 1 && status) status = LastError(nullptr, "PostgreSQL pipeline");
  // One result (then a null) per statement sent, then the sync.
  for (size_t i = 0; i <= sent; ++i) {
    while (PGresult* raw = PQgetResult(conn_.get())) {
      std::unique_ptr<PGresult, ResultDeleter> result(raw);
      const ExecStatusType s = PQresultStatus(raw);
      if (s == PGRES_PIPELINE_SYNC) break;
      if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && status) status = LastError(raw, "PostgreSQL");
    }
  }
  if (PQexitPipelineMode(conn_.get()) != 1 && status) status = LastError(nullptr, "PostgreSQL pipeline");
  return status;
}

Status Conn::ExecScript(const std::string& sql) {
  std::unique_ptr<PGresult, ResultDeleter> result(PQexec(conn_.get(), sql.c_str()));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return LastError(result.get(), "PostgreSQL");
  return OkStatus();
}

Status Conn::Copy(const std::string& sql) {
  std::unique_ptr<PGresult, ResultDeleter> result(PQexec(conn_.get(), sql.c_str()));
  if (!result || PQresultStatus(result.get()) != PGRES_COPY_IN) return LastError(result.get(), "PostgreSQL COPY");
  copy_buffer_.clear();
  return OkStatus();
}

Status Conn::CopyRow(const std::vector<schema::Value>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) copy_buffer_ += '\t';
    if (!values[i]) {
      copy_buffer_ += "\\N";
      continue;
    }
    for (char c : *values[i]) {
      switch (c) {
        case '\\':
          copy_buffer_ += "\\\\";
          break;
        case '\t':
          copy_buffer_ += "\\t";
          break;
        case '\n':
          copy_buffer_ += "\\n";
          break;
        case '\r':
          copy_buffer_ += "\\r";
          break;
        default:
          copy_buffer_ += c;
      }
    }
  }
  copy_buffer_ += '\n';
  if (copy_buffer_.size() < (1u << 20)) return OkStatus();
  const bool sent = PQputCopyData(conn_.get(), copy_buffer_.data(), static_cast<int>(copy_buffer_.size())) == 1;
  copy_buffer_.clear();
  if (!sent) return LastError(nullptr, "PostgreSQL COPY");
  return OkStatus();
}

Status Conn::EndCopy() {
  if (!copy_buffer_.empty() &&
      PQputCopyData(conn_.get(), copy_buffer_.data(), static_cast<int>(copy_buffer_.size())) != 1) {
    return LastError(nullptr, "PostgreSQL COPY");
  }
  copy_buffer_.clear();
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) return LastError(nullptr, "PostgreSQL COPY");
  Status status = OkStatus();
  while (PGresult* raw = PQgetResult(conn_.get())) {
    std::unique_ptr<PGresult, ResultDeleter> result(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && status) status = LastError(raw, "PostgreSQL COPY");
  }
  return status;
}

bool Conn::Healthy() const { return PQstatus(conn_.get()) == CONNECTION_OK; }

bool Conn::InTransaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }

Result<Transaction> Transaction::Begin(Conn& conn, std::string_view mode) {
  RELAIS_TRY(conn.ExecScript(mode.empty() ? "BEGIN" : "BEGIN " + std::string(mode)));
  return Transaction(conn);
}

Transaction::~Transaction() {
  if (conn_) (void)conn_->ExecScript("ROLLBACK");
}

Status Transaction::Commit() {
  Conn* conn = conn_;
  conn_ = nullptr;
  return conn->ExecScript("COMMIT");
}

}  // namespace relais::pg
