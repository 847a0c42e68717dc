#include "server/store_layout.h"

#include "base/text.h"

namespace relais::server {

namespace {

std::string Quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

TableLayout LayoutOf(const schema::Table& table) {
  TableLayout l;
  l.table = &table;
  l.has_stamps = table.kind == schema::TableKind::kMutable;
  l.has_territory_column = table.scope == schema::Scope::kParentCase;
  l.columns = "id";
  for (const schema::Field& f : table.fields) l.columns += ", " + Quoted(f.name);
  int col = static_cast<int>(table.fields.size()) + 1;
  l.columns += ", version";
  l.version_col = col++;
  if (l.has_stamps) {
    l.columns += ", stamps";
    l.stamps_col = col++;
  }
  if (l.has_territory_column) {
    l.columns += ", territory";
    l.territory_col = col++;
  }
  l.columns += ", last_device";
  l.last_device_col = col++;
  l.columns += ", echo_device";
  l.echo_device_col = col++;
  l.columns += ", history_seq";
  l.history_seq_col = col++;
  l.columns += ", digest_key";
  l.digest_key_col = col++;
  l.columns += ", digest_values";
  l.digest_values_col = col++;
  l.column_count = col;
  l.has_identity_key = &table == &schema::CasesTable();
  return l;
}

// The territory that scopes `column` (a record id of the table named by `table_column`) now:
// generated from the layouts, NULL for shared tables and for ids no table holds.
std::string CurrentTerritorySql(const std::string& table_column, const std::string& column) {
  std::string sql = "CASE " + table_column;
  for (const TableLayout& l : Layouts()) {
    if (!IsScoped(*l.table)) continue;
    const std::string name(l.table->name);
    sql += " WHEN '" + name + "' THEN (SELECT territory FROM " + name + " WHERE id = " + column + ")";
  }
  return sql + " ELSE NULL END";
}

// The conflicts whose `event` (opened_seq or settled_seq) lies after (1), whose record is in the
// device's territories (2) or shared, in event order, at most (3).
std::string ConflictEventsSql(const SqlDialect& d, const std::string& event) {
  std::string shared;
  for (const TableLayout& l : Layouts()) {
    if (!IsScoped(*l.table)) shared += (shared.empty() ? "'" : ", '") + std::string(l.table->name) + "'";
  }
  std::string sql = "SELECT * FROM (SELECT c." + event + " AS event_seq, " + ConflictColumns() +
                    " FROM conflicts c WHERE c." + event + " > " + d.param(1, "bigint") + ") AS events WHERE (" +
                    d.in_list("territory", 2);
  if (!shared.empty()) sql += " OR tbl IN (" + shared + ")";
  return sql + ") ORDER BY event_seq LIMIT " + d.param(3, "bigint");
}

PullQueries BuildPullQueries(const SqlDialect& d) {
  PullQueries q;
  const std::string since = d.param(1, "bigint");
  const std::string limit = " LIMIT " + d.param(3, "bigint");
  std::string exits =
      "SELECT seq, tbl, record_id, (SELECT t.code FROM territories t WHERE t.code = e.to_territory), erased "
      "FROM scope_exits e "
      "WHERE seq > " +
      since + " AND " + d.in_list("territory", 2);
  for (const TableLayout& l : Layouts()) {
    const std::string name(l.table->name);
    std::string sql = "SELECT " + l.columns + " FROM " + name + " WHERE version > " + since;
    q.records_in_territory.push_back(
        IsScoped(*l.table) ? sql + " AND territory = " + d.param(2, "text") + " ORDER BY version" + limit : "");
    if (IsScoped(*l.table)) {
      sql += " AND " + d.in_list("territory", 2);
      // A record that left one of the device's territories for another of them stays.
      exits += " AND NOT EXISTS (SELECT 1 FROM " + name + " r WHERE e.tbl = '" + name +
               "' AND r.id = e.record_id AND " + d.in_list("r.territory", 2) + ")";
    } else if (d.mention_every_param) {
      sql += " AND " + d.param(2, d.list_type) + " IS NOT NULL";  // shared: the territories do not matter
    }
    q.records.push_back(sql + " ORDER BY version" + limit);
  }
  q.exits = exits + " ORDER BY seq" + limit;
  q.opened = ConflictEventsSql(d, "opened_seq");
  q.settled = ConflictEventsSql(d, "settled_seq");
  return q;
}

}  // namespace

const std::vector<TableLayout>& Layouts() {
  static const std::vector<TableLayout> kLayouts = [] {
    std::vector<TableLayout> v;
    for (const schema::Table& t : schema::Tables()) v.push_back(LayoutOf(t));
    return v;
  }();
  return kLayouts;
}

const TableLayout& LayoutFor(const schema::Table& table) { return Layouts()[TableIndex(table)]; }

size_t TableIndex(const schema::Table& table) {
  const auto& tables = schema::Tables();
  for (size_t i = 0; i < tables.size(); ++i) {
    if (&tables[i] == &table) return i;
  }
  return 0;  // unreachable: every table comes from schema::Tables()
}

const std::string& ConflictColumns() {
  static const std::string kColumns =
      "c.id, c.kind, c.status, c.tbl, c.record_id, c.field, c.other_id, "
      "COALESCE(" +
      CurrentTerritorySql("c.tbl", "c.record_id") +
      ", c.territory) AS territory, "
      "(SELECT territory FROM cases WHERE id = c.other_id) AS other_territory, "
      "c.base_value, c.server_value, c.server_device, c.server_hlc, c.device_value, c.device, c.device_hlc, "
      "c.change_id, c.opened_seq, c.opened_at, c.settled_seq, c.settled_at, c.settled_by, c.settled_value, "
      "c.settlement";
  return kColumns;
}

const PullQueries& PullQueriesFor(const SqlDialect& dialect) {
  static const PullQueries kSqlite = BuildPullQueries(SqliteDialect());
  static const PullQueries kPostgres = BuildPullQueries(PostgresDialect());
  return &dialect == &PostgresDialect() ? kPostgres : kSqlite;
}

const TableStatements& StatementsFor(const TableLayout& layout) {
  static const std::vector<TableStatements> kStatements = [] {
    std::vector<TableStatements> v;
    for (const TableLayout& l : Layouts()) {
      TableStatements t;
      const std::string name(l.table->name);
      t.get = "SELECT " + l.columns + " FROM " + name + " WHERE id = ?1";
      const std::string put_columns = l.columns + (l.has_identity_key ? ", identity_key" : "");
      std::string params = "?1";
      const int put_count = l.column_count + (l.has_identity_key ? 1 : 0);
      for (int i = 2; i <= put_count; ++i) params += ", ?" + std::to_string(i);
      t.put = "INSERT INTO " + name + "(" + put_columns + ") VALUES (" + params + ")";
      t.upsert_tail = " ON CONFLICT (id) DO UPDATE SET ";
      size_t start = put_columns.find(", ") + 2;  // every column but id
      bool first = true;
      while (start < put_columns.size() + 2) {
        size_t end = put_columns.find(", ", start);
        if (end == std::string::npos) end = put_columns.size();
        const std::string column = put_columns.substr(start, end - start);
        t.upsert_tail += (first ? "" : ", ") + column + " = EXCLUDED." + column;
        first = false;
        start = end + 2;
      }
      if (l.has_territory_column) {
        // A new version makes new digests; the digest hashes the record until the store fills them.
        t.move = "UPDATE " + name +
                 " SET territory = ?1, version = ?2, echo_device = NULL, digest_key = NULL, digest_values = NULL WHERE "
                 "id = ?3";
        t.children = "SELECT id FROM " + name + " WHERE case_id = ?1 ORDER BY id COLLATE BINARY";
      }
      v.push_back(std::move(t));
    }
    return v;
  }();
  return kStatements[static_cast<size_t>(&layout - &Layouts()[0])];
}

namespace {

bool IsDeviceName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

// A territory is compared byte for byte with the `territory` field of cases, so it follows that
// field's rules: one trimmed line of at most its size.
Status CheckTerritory(std::string_view territory) {
  const schema::Field* field = schema::CasesTable().FindField("territory");
  if (territory.empty()) return MakeError(ErrorCode::kValidation, "un territoire ne peut pas être vide");
  if (!IsValidUtf8(territory))
    return MakeError(ErrorCode::kValidation, "le territoire n'est pas un texte UTF-8 valide");
  if (field && schema::Normalize(*field, std::string(territory)) != std::string(territory)) {
    return MakeError(ErrorCode::kValidation,
                     "le territoire « " + std::string(territory) + " » a des espaces autour : retirez-les");
  }
  for (char c : territory) {
    if (static_cast<unsigned char>(c) < 0x20)
      return MakeError(ErrorCode::kValidation, "le territoire contient un caractère de contrôle");
  }
  if (field) RELAIS_TRY(schema::ValidateValue(*field, std::string(territory)));
  return OkStatus();
}

Status CheckEnrolment(const std::string& name, const std::vector<std::string>& territories) {
  if (!IsDeviceName(name)) {
    return MakeError(ErrorCode::kValidation,
                     "nom d'appareil « " + name + " » : 1 à 64 lettres sans accent, chiffres, '-', '_' ou '.'");
  }
  if (territories.empty())
    return MakeError(ErrorCode::kValidation, "un appareil a besoin d'au moins un territoire (--territory)");
  for (const std::string& t : territories) RELAIS_TRY(CheckTerritory(t));
  return OkStatus();
}

Error NameTaken(const std::string& name) {
  return MakeError(ErrorCode::kValidation, "un appareil nommé " + name +
                                               " est déjà inscrit : choisissez un autre nom (un nom reste pris "
                                               "même après révocation)");
}

const std::string& HistorySql() {
  static const std::string kSql = [] {
    std::string heads;
    for (const TableLayout& l : Layouts()) {
      const std::string name(l.table->name);
      heads += std::string(heads.empty() ? "" : " UNION ALL ") + "SELECT history_seq FROM " + name +
               " WHERE id = ?1 AND ?2 IN ('', '" + name + "')";
    }
    // Each link goes back (prev_seq < seq), so the walk ends; the last filter on record_id holds it
    // to the record, whatever a link says.
    return "WITH RECURSIVE heads(seq) AS (" + heads +
           "), chain(seq) AS (SELECT seq FROM heads UNION ALL "
           "SELECT h.prev_seq FROM history h JOIN chain ON h.seq = chain.seq WHERE h.prev_seq < h.seq) "
           "SELECT seq, tbl, record_id, device, hlc, change_id, at, snapshot, lost, prev_seq FROM history "
           "WHERE seq IN (SELECT seq FROM chain) AND record_id = ?1 ORDER BY seq";
  }();
  return kSql;
}

namespace {

DigestQueries BuildDigestQueries(const SqlDialect& dialect) {
  DigestQueries q;
  for (const TableLayout& l : Layouts()) {
    std::string scope;
    if (IsScoped(*l.table))
      scope = dialect.in_list("territory", 1) + " AND ";
    else if (dialect.mention_every_param)
      scope = dialect.param(1, dialect.list_type) + " IS NOT NULL AND ";
    const std::string from = " FROM " + std::string(l.table->name) + " WHERE " + scope;
    q.sums.push_back(
        "SELECT count(*), sum(digest_key >> 32), sum(digest_key & 4294967295), sum(digest_values >> 32), "
        "sum(digest_values & 4294967295)" +
        from + "digest_values IS NOT NULL");
    std::string undigested = "SELECT id, version";
    for (const schema::Field& f : l.table->fields) undigested += ", " + Quoted(f.name);
    q.undigested.push_back(undigested + from + "digest_values IS NULL");
  }
  return q;
}

}  // namespace

sync::StoredDigests StoredDigestsOf(const schema::Record& record) {
  thread_local sync::RecordDigester digester;
  return sync::DigestsOf(digester, record.id, record.version, record.values);
}

const DigestQueries& DigestQueriesFor(const SqlDialect& dialect) {
  static const DigestQueries kSqlite = BuildDigestQueries(SqliteDialect());
  static const DigestQueries kPostgres = BuildDigestQueries(PostgresDialect());
  return &dialect == &PostgresDialect() ? kPostgres : kSqlite;
}

schema::Value ReviewColumn(const std::vector<std::string>& fields) {
  if (fields.empty()) return schema::Value();
  std::string joined;
  for (const std::string& f : fields) {
    if (!joined.empty()) joined += ',';
    joined += f;
  }
  return joined;
}

}  // namespace relais::server
