#include "client/records.h"

#include <algorithm>
#include <cctype>

#include "base/ids.h"
#include "base/text.h"
#include "client/pending_creates.h"
#include "sync/outbox.h"

namespace relais::client {

namespace {

// Built once: Replica::Statement looks statements up by their text, and an import appends 100,000
// entries.
const std::string& InsertOutboxSql() {
  static const std::string kSql =
      "INSERT INTO outbox(change_id, tbl, record_id, op, fields, base_version, hlc) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
  return kSql;
}

std::string Name(std::string_view s) { return std::string(s); }

std::string BuildInsertSql(const schema::Table& table) {
  std::string cols = "id", params = "?1";
  for (size_t i = 0; i < table.fields.size(); ++i) {
    cols += ", " + Name(table.fields[i].name);
    params += ", ?" + std::to_string(i + 2);
  }
  return "INSERT INTO " + Name(table.name) + "(" + cols + ") VALUES (" + params + ")";
}

// The INSERT of a table's records, built once per table of the declaration (a create is the hot
// path of an import); a table from elsewhere gets its own text each time.
const std::string& InsertSql(const schema::Table& table) {
  static const std::vector<std::string> kSql = [] {
    std::vector<std::string> sql;
    for (const schema::Table& t : schema::Tables()) sql.push_back(BuildInsertSql(t));
    return sql;
  }();
  const std::vector<schema::Table>& tables = schema::Tables();
  for (size_t i = 0; i < tables.size(); ++i) {
    if (&tables[i] == &table) return kSql[i];
  }
  thread_local std::string other;
  other = BuildInsertSql(table);
  return other;
}

// People read lists by name: the first text fields of the declaration (last_name, first_name;
// organisation, kind), then the id so that the order is total.
std::vector<size_t> NameFields(const schema::Table& table) {
  std::vector<size_t> fields;
  for (size_t i = 0; i < table.fields.size() && fields.size() < 2; ++i) {
    if (table.fields[i].type == schema::FieldType::kText) fields.push_back(i);
  }
  return fields;
}

std::string OrderBy(const schema::Table& table) {
  std::string order;
  for (size_t i : NameFields(table)) order += Name(table.fields[i].name) + ", ";
  return order + "id";
}

// Sorts `records` as OrderBy(table) does in SQLite (bytes compared, NULL first).
void SortByName(const schema::Table& table, std::vector<schema::Record>& records) {
  const std::vector<size_t> fields = NameFields(table);
  std::sort(records.begin(), records.end(), [&](const schema::Record& a, const schema::Record& b) {
    for (size_t i : fields) {
      if (a.values[i] != b.values[i]) return a.values[i] < b.values[i];
    }
    return a.id < b.id;
  });
}

Result<std::vector<schema::Value>> ByIndex(const schema::Table& table, const FieldValues& named) {
  std::vector<schema::Value> values(table.fields.size());
  for (const auto& [name, value] : named) {
    int i = table.FieldIndex(name);
    if (i < 0) return MakeError(ErrorCode::kUsage, "champ inconnu " + name + " pour " + Name(table.name));
    values[static_cast<size_t>(i)] = value;
  }
  return values;
}

bool IsPrimaryKeyViolation(sqlite::Db& db) {
  return sqlite3_extended_errcode(db.handle()) == SQLITE_CONSTRAINT_PRIMARYKEY;
}

}  // namespace

std::string RecordColumns(const schema::Table& table, const std::string& prefix) {
  std::string cols = prefix + "id, " + prefix + "version";
  for (const schema::Field& f : table.fields) cols += ", " + prefix + Name(f.name);
  return cols;
}

namespace {

// The FTS5 query of the words of `text`, each quoted (never read as query syntax), in NFC as every
// stored text is (a word typed in decomposed form finds its precomposed record); each a word start
// when `prefixes`, else a whole word. Empty when `text` holds no word.
std::string WordsQuery(const std::string& text, bool prefixes) {
  std::string query, word;
  auto flush = [&] {
    bool has_alnum = false;
    for (char c : word)
      has_alnum |= std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80;
    if (has_alnum) {
      std::string quoted = "\"";
      for (char c : word) quoted += (c == '"') ? std::string("\"\"") : std::string(1, c);
      query += (query.empty() ? "" : " ") + quoted + (prefixes ? "\"*" : "\"");
    }
    word.clear();
  };
  std::string nfc = text;
  ToNfcInPlace(nfc);
  for (char c : nfc) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      flush();
    else
      word.push_back(c);
  }
  flush();
  return query;
}

}  // namespace

std::string PrefixQuery(const std::string& text) { return WordsQuery(text, true); }

Result<schema::Record> Records::Create(const schema::Table& table, const FieldValues& named,
                                       std::optional<std::string> id) {
  auto values = ByIndex(table, named);
  if (!values) return values.error();
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();
  auto record = CreateInTransaction(table, std::move(*values), std::move(id));
  if (!record) return record.error();
  RELAIS_TRY(tx->Commit());
  return record;
}

Result<schema::Record> Records::CreateInTransaction(const schema::Table& table, std::vector<schema::Value> values,
                                                    std::optional<std::string> id) {
  schema::Record record;
  if (id) {
    if (!IsUuid(*id))
      return MakeError(ErrorCode::kValidation, "id: « " + *id + " » n'est pas un identifiant de fiche (UUID)");
    record.id = *id;
    LowerAsciiInPlace(record.id);
  } else {
    record.id = NewUuidV7(replica_.clock().NowMs());
  }
  for (size_t i = 0; i < values.size(); ++i) schema::NormalizeInPlace(table.fields[i], values[i]);
  RELAIS_TRY(schema::ValidateRecord(table, values));
  for (size_t i = 0; i < values.size(); ++i) {
    if (!table.fields[i].transitions.empty())
      RELAIS_TRY(schema::CheckTransition(table.fields[i], std::nullopt, values[i]));
  }

  auto insert = replica_.Statement(InsertSql(table));
  if (!insert) return insert.error();
  {
    sqlite::StmtGuard guard(**insert);
    (*insert)->Bind(1, std::string_view(record.id));
    for (size_t i = 0; i < values.size(); ++i)
      (*insert)->BindBorrowed(static_cast<int>(i) + 2, table.fields[i], values[i]);
    auto done = (*insert)->Run();
    if (!done) {
      if (IsPrimaryKeyViolation(replica_.db())) {
        return MakeError(ErrorCode::kValidation, "id: " + record.id + " existe déjà dans cette base");
      }
      return done.error();
    }
  }
  // No outbox entry: a row at version 0 without one is the pending create (client/pending_creates.h).
  record.values = std::move(values);
  return record;
}

Result<std::vector<std::pair<size_t, schema::Value>>> Records::CheckedChanges(const schema::Table& table,
                                                                              const FieldValues& changes) {
  if (table.kind == schema::TableKind::kAppendOnly) {
    return MakeError(ErrorCode::kValidation, Name(table.name) +
                                                 ": les entrées s'ajoutent à la suite (append-only) et ne se modifient "
                                                 "jamais ; ajoutez une nouvelle entrée");
  }
  std::vector<std::pair<size_t, schema::Value>> wanted;
  for (const auto& [name, value] : changes) {
    int i = table.FieldIndex(name);
    if (i < 0) return MakeError(ErrorCode::kUsage, "champ inconnu " + name + " pour " + Name(table.name));
    const schema::Field& field = table.fields[static_cast<size_t>(i)];
    if (field.rule == schema::MergeRule::kImmutable) {
      return MakeError(ErrorCode::kValidation, name + ": fixé à la création, ne peut jamais être modifié");
    }
    schema::Value normalized = schema::Normalize(field, value);
    RELAIS_TRY(schema::ValidateValue(field, normalized));
    wanted.emplace_back(static_cast<size_t>(i), std::move(normalized));
  }
  return wanted;
}

Result<EditResult> Records::Edit(const schema::Table& table, const std::string& id, const FieldValues& changes) {
  auto wanted = CheckedChanges(table, changes);
  if (!wanted) return wanted.error();
  auto tx = sqlite::Transaction::Begin(replica_.db());
  if (!tx) return tx.error();
  auto result = ApplyEdit(table, id, *wanted);
  if (!result) return result.error();
  if (result->changed) RELAIS_TRY(tx->Commit());  // nothing changes: rolled back, nothing is written
  return result;
}

Result<EditResult> Records::EditInTransaction(const schema::Table& table, const std::string& id,
                                              const FieldValues& changes) {
  auto checked = CheckedChanges(table, changes);
  if (!checked) return checked.error();
  return ApplyEdit(table, id, *checked);
}

Result<EditResult> Records::ApplyEdit(const schema::Table& table, const std::string& id,
                                      const std::vector<std::pair<size_t, schema::Value>>& wanted) {
  auto current = replica_.Get(table, id);
  if (!current) return current.error();
  if (!*current) return MakeError(ErrorCode::kNotFound, "aucune fiche " + id + " dans " + Name(table.name));
  EditResult result{std::move(**current), false};
  std::vector<schema::Value> updated = result.record.values;
  for (auto& [i, value] : wanted) updated[i] = value;
  RELAIS_TRY(schema::ValidateRecord(table, updated));

  std::vector<size_t> diff;
  diff.reserve(updated.size());
  for (size_t i = 0; i < updated.size(); ++i) {
    if (updated[i] != result.record.values[i]) diff.push_back(i);
  }
  if (diff.empty()) return result;
  for (size_t i : diff) RELAIS_TRY(schema::CheckTransition(table.fields[i], result.record.values[i], updated[i]));

  // The creates this update depends on go first in the outbox, frozen as they were: the record's own
  // if it was never sent, and for a case those of its follow-ups (written before a change that may
  // move the case out of this device's territories), and of its referrals.
  if (result.record.version == 0) {
    auto materialized = MaterializeCreate(replica_, table, id);
    if (!materialized) return materialized.error();
  }
  RELAIS_TRY(MaterializeChildCreates(replica_, table, id));

  std::string sql = "UPDATE " + Name(table.name) + " SET ";
  for (size_t k = 0; k < diff.size(); ++k) {
    sql += (k ? ", " : "") + Name(table.fields[diff[k]].name) + " = ?" + std::to_string(k + 2);
  }
  sql += " WHERE id = ?1";
  auto update = replica_.Statement(sql);
  if (!update) return update.error();
  {
    sqlite::StmtGuard guard(**update);
    (*update)->Bind(1, std::string_view(id));
    for (size_t k = 0; k < diff.size(); ++k) {
      (*update)->Bind(static_cast<int>(k) + 2, table.fields[diff[k]], updated[diff[k]]);
    }
    RELAIS_TRY((*update)->Run());
  }
  std::vector<sync::FieldChange> fields;
  fields.reserve(diff.size());
  for (size_t i : diff) fields.push_back({Name(table.fields[i].name), updated[i], result.record.values[i]});
  RELAIS_TRY(AppendUpdate(table, id, fields, result.record.version));
  result.record.values = std::move(updated);
  result.changed = true;
  return result;
}

Status Records::AppendUpdate(const schema::Table& table, const std::string& record_id,
                             const std::vector<sync::FieldChange>& fields, int64_t base_version) {
  auto stmt = replica_.Statement(InsertOutboxSql());
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  (*stmt)
      ->Bind(1, std::string_view(NewUuidV7(replica_.clock().NowMs())))
      .Bind(2, table.name)
      .Bind(3, std::string_view(record_id))
      .Bind(4, std::string_view(sync::ToString(sync::Op::kUpdate)))
      .Bind(5, std::string_view(sync::EncodeOutboxFields(sync::Op::kUpdate, fields)))
      .Bind(6, base_version)
      .Bind(7, std::string_view(replica_.hlc().Tick().ToString()));
  return (*stmt)->Run();
}

Result<std::vector<schema::Record>> Records::Query(const schema::Table& table, const std::string& sql,
                                                   const std::vector<schema::Value>& params) {
  return QueryRows(table, sql, params, nullptr);
}

Result<std::vector<schema::Record>> Records::Query(const schema::Table& table, const std::string& sql,
                                                   const std::vector<schema::Value>& params,
                                                   std::vector<int64_t>& rowids) {
  return QueryRows(table, sql, params, &rowids);
}

Result<std::vector<schema::Record>> Records::QueryRows(const schema::Table& table, const std::string& sql,
                                                       const std::vector<schema::Value>& params,
                                                       std::vector<int64_t>* rowids) {
  auto stmt = replica_.Statement(sql);
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  for (size_t i = 0; i < params.size(); ++i) (*stmt)->Bind(static_cast<int>(i) + 1, params[i]);
  std::vector<schema::Record> records;
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    schema::Record r;
    r.id = (*stmt)->Text(0);
    r.version = (*stmt)->Int(1);
    r.values.reserve(table.fields.size());
    for (size_t i = 0; i < table.fields.size(); ++i) r.values.push_back((*stmt)->Val(static_cast<int>(i) + 2));
    if (rowids) rowids->push_back((*stmt)->Int(static_cast<int>(table.fields.size()) + 2));
    records.push_back(std::move(r));
  }
  return records;
}

Result<std::vector<schema::Record>> Records::List(const schema::Table& table, const ListFilter& filter) {
  std::string sql = "SELECT " + RecordColumns(table) + " FROM " + Name(table.name) + " WHERE 1";
  std::vector<schema::Value> params;
  for (const auto& [name, value] : filter.equals) {
    if (table.FieldIndex(name) < 0)
      return MakeError(ErrorCode::kUsage, "champ inconnu " + name + " pour " + Name(table.name));
    if (value) {
      params.push_back(value);
      sql += " AND " + name + " = ?" + std::to_string(params.size());
    } else {
      sql += " AND " + name + " IS NULL";
    }
  }
  if (filter.open_only) {
    if (table.FieldIndex("closed_on") < 0)
      return MakeError(ErrorCode::kUsage, Name(table.name) + " ne peuvent pas être clos");
    sql += " AND closed_on IS NULL";
  }
  sql += " ORDER BY " + OrderBy(table);
  if (filter.limit > 0) sql += " LIMIT " + std::to_string(filter.limit);
  return Query(table, sql, params);
}

Result<std::vector<schema::Record>> Records::Search(const schema::Table& table, const std::string& text, size_t limit) {
  if (table.name != "cases" && table.name != "contacts") {
    return MakeError(ErrorCode::kUsage, Name(table.name) + " ne se cherchent pas par texte");
  }
  if (limit == 0) limit = 50;
  const std::string whole_words = WordsQuery(text, false);
  if (whole_words.empty()) return MakeError(ErrorCode::kUsage, "search : donnez au moins un mot à chercher");
  const std::string fts = Name(table.name) + "_fts";
  // Two tiers, each read only up to what is still missing: the records where every word is a whole
  // word ("martin": Martin), then those where every word starts a word (Martinez); in each tier,
  // by name. No relevance score: bm25() reads the column sizes of every hit, and a common name or
  // commune matches thousands of the 100,000 cases (9 of the 10 ms a search took, bench/RESULTS.md).
  // A case merged into another is a redirect, not a person: left out.
  const std::string live = table.FieldIndex("merged_into") >= 0 ? " AND t.merged_into IS NULL" : "";
  // The LIMIT is bound as text, which SQLite takes as the integer it spells (one statement to cache).
  // Sorted here: an ORDER BY around the limited subquery makes SQLite read every hit (12 ms for
  // "martin" at 100,000 cases, against 0.2 ms).
  const std::string sql = "SELECT " + RecordColumns(table, "t.") + " FROM " + fts + " JOIN " + Name(table.name) +
                          " t ON t.rowid = " + fts + ".rowid WHERE " + fts + " MATCH ?1" + live + " LIMIT ?2";
  std::vector<schema::Record> found;
  for (const std::string& query : {whole_words, WordsQuery(text, true)}) {
    // The second tier finds the first's records again: ask for as many more.
    auto tier = Query(table, sql, {query, std::to_string(limit + found.size())});
    if (!tier) return tier.error();
    SortByName(table, *tier);
    for (schema::Record& r : *tier) {
      if (found.size() == limit) break;
      bool seen = std::any_of(found.begin(), found.end(), [&](const schema::Record& f) { return f.id == r.id; });
      if (!seen) found.push_back(std::move(r));
    }
    if (found.size() == limit) break;
  }
  return found;
}

Result<int64_t> Records::Count(const schema::Table& table) {
  auto stmt = replica_.Statement("SELECT count(*) FROM " + Name(table.name));
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  return (*stmt)->Int(0);
}

namespace {
constexpr char kPendingSums[] =
    "SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'rejected'), 0) FROM outbox";
}

// Outbox entries, plus the record's create when its row is still one without an entry
// (client/pending_creates.h).
Result<Records::PendingCounts> Records::PendingFor(const schema::Table& table, const std::string& id) {
  auto stmt = replica_.Statement(std::string(kPendingSums) + " WHERE tbl = ?1 AND record_id = ?2");
  if (!stmt) return stmt.error();
  PendingCounts counts;
  {
    sqlite::StmtGuard guard(**stmt);
    (*stmt)->Bind(1, table.name).Bind(2, std::string_view(id));
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    counts = PendingCounts{(*stmt)->Int(0), (*stmt)->Int(1)};
  }
  auto unsent = replica_.Statement("SELECT count(*) FROM " + Name(table.name) + " AS t WHERE t.id = ?1 AND " +
                                   UnsentCreateCondition("t"));
  if (!unsent) return unsent.error();
  sqlite::StmtGuard guard(**unsent);
  (*unsent)->Bind(1, std::string_view(id));
  auto row = (*unsent)->Step();
  if (!row) return row.error();
  counts.pending += (*unsent)->Int(0);
  return counts;
}

Result<Records::PendingCounts> Records::PendingTotal() {
  auto stmt = replica_.Statement(kPendingSums);
  if (!stmt) return stmt.error();
  PendingCounts counts;
  {
    sqlite::StmtGuard guard(**stmt);
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    counts = PendingCounts{(*stmt)->Int(0), (*stmt)->Int(1)};
  }
  for (const schema::Table& t : schema::Tables()) {
    auto unsent = CountUnsentCreates(replica_, t);
    if (!unsent) return unsent.error();
    counts.pending += *unsent;
  }
  return counts;
}

Result<int64_t> Records::PendingRecords() {
  auto stmt = replica_.Statement(
      "SELECT count(*) FROM (SELECT DISTINCT tbl, record_id FROM outbox WHERE state = "
      "'pending')");
  if (!stmt) return stmt.error();
  int64_t records = 0;
  {
    sqlite::StmtGuard guard(**stmt);
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    records = (*stmt)->Int(0);
  }
  // A create not yet in the outbox has no entry there: its record is not counted above.
  for (const schema::Table& t : schema::Tables()) {
    auto unsent = CountUnsentCreates(replica_, t);
    if (!unsent) return unsent.error();
    records += *unsent;
  }
  return records;
}

}  // namespace relais::client
