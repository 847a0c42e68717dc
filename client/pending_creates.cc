#include "client/pending_creates.h"

#include "base/ids.h"
#include "client/records.h"
#include "sync/outbox.h"

namespace relais::client {

namespace {

constexpr char kInsertCreate[] =
    "INSERT INTO outbox(change_id, tbl, record_id, op, fields, base_version, hlc, batch_key) "
    "VALUES (?1, ?2, ?3, 'create', ?4, 0, ?5, ?6)";

}  // namespace

std::string UnsentCreateCondition(const std::string& alias) {
  // outbox_by_record answers the NOT EXISTS without reading the outbox's rows.
  return alias + ".version = 0 AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.record_id = " + alias + ".id)";
}

std::vector<sync::FieldChange> CreateFields(const schema::Table& table, std::vector<schema::Value>&& values) {
  std::vector<sync::FieldChange> fields;
  // Sized once: grown one field at a time, a case's fields took five allocations and their moves.
  size_t set = 0;
  for (size_t i = 0; i < table.fields.size(); ++i) set += values[i] ? 1 : 0;
  fields.reserve(set);
  for (size_t i = 0; i < table.fields.size(); ++i) {
    if (values[i]) fields.push_back({std::string(table.fields[i].name), std::move(values[i]), std::nullopt});
  }
  return fields;
}

std::vector<sync::FieldChange> CreateFields(const schema::Table& table, const std::vector<schema::Value>& values) {
  return CreateFields(table, std::vector<schema::Value>(values));
}

Result<std::optional<std::vector<sync::FieldChange>>> RowCreateFields(Replica& replica, const schema::Table& table,
                                                                      const std::string& id) {
  auto record = replica.Get(table, id);
  if (!record) return record.error();
  if (!*record) return std::optional<std::vector<sync::FieldChange>>();
  return std::optional<std::vector<sync::FieldChange>>(CreateFields(table, std::move((**record).values)));
}

namespace {

Result<sync::Change> WriteCreate(Replica& replica, const schema::Table& table, const std::string& id,
                                 std::vector<sync::FieldChange> fields, const std::optional<std::string>& batch_key,
                                 CreateValues how) {
  sync::Change c;
  c.change_id = NewUuidV7(replica.clock().NowMs());
  c.table = std::string(table.name);
  c.record_id = id;
  c.op = sync::Op::kCreate;
  c.base_version = 0;
  c.hlc = replica.hlc().Tick().ToString();
  c.fields = std::move(fields);
  auto stmt = replica.Statement(kInsertCreate);
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  // Borrowed: `c`, `fields_text` and `batch_key` outlive the statement's run, which the guard
  // resets (a push batch writes one entry per create it takes).
  const std::string fields_text =
      how == CreateValues::kFromRow ? std::string() : sync::EncodeOutboxFields(sync::Op::kCreate, c.fields);
  (*stmt)
      ->BindBorrowed(1, c.change_id)
      .BindBorrowed(2, table.name)
      .BindBorrowed(3, c.record_id)
      .BindBorrowed(4, how == CreateValues::kFromRow ? sync::kFieldsFromRow : std::string_view(fields_text))
      .BindBorrowed(5, c.hlc);
  if (batch_key)
    (*stmt)->BindBorrowed(6, *batch_key);
  else
    (*stmt)->BindNull(6);
  RELAIS_TRY((*stmt)->Run());
  return c;
}

}  // namespace

Result<sync::Change> WriteCreateEntry(Replica& replica, const schema::Table& table, const schema::Record& record,
                                      const std::optional<std::string>& batch_key, CreateValues how) {
  return WriteCreate(replica, table, record.id, CreateFields(table, record.values), batch_key, how);
}

Result<sync::Change> WriteCreateEntry(Replica& replica, const schema::Table& table, schema::Record&& record,
                                      const std::optional<std::string>& batch_key, CreateValues how) {
  return WriteCreate(replica, table, record.id, CreateFields(table, std::move(record.values)), batch_key, how);
}

Result<bool> FreezeCreateEntry(Replica& replica, const schema::Table& table, const std::string& id, int64_t seq) {
  auto fields = RowCreateFields(replica, table, id);
  if (!fields) return fields.error();
  if (!*fields) return false;
  auto freeze = replica.Statement("UPDATE outbox SET fields = ?2 WHERE seq = ?1 AND fields = ?3");
  if (!freeze) return freeze.error();
  sqlite::StmtGuard guard(**freeze);
  (*freeze)->Bind(1, seq).Bind(2, sync::EncodeOutboxFields(sync::Op::kCreate, **fields));
  (*freeze)->Bind(3, sync::kFieldsFromRow);
  RELAIS_TRY((*freeze)->Run());
  return true;
}

Result<bool> MaterializeCreate(Replica& replica, const schema::Table& table, const std::string& id) {
  auto unsent = replica.Statement("SELECT 1 FROM " + std::string(table.name) + " AS t WHERE t.id = ?1 AND " +
                                  UnsentCreateCondition("t"));
  if (!unsent) return unsent.error();
  bool found = false;
  {
    sqlite::StmtGuard guard(**unsent);
    (*unsent)->Bind(1, std::string_view(id));
    auto row = (*unsent)->Step();
    if (!row) return row.error();
    found = *row;
  }
  if (!found) {
    auto unfrozen =
        replica.Statement("SELECT seq FROM outbox WHERE record_id = ?1 AND tbl = ?2 AND op = 'create' AND fields = ?3");
    if (!unfrozen) return unfrozen.error();
    std::optional<int64_t> seq;
    {
      sqlite::StmtGuard guard(**unfrozen);
      (*unfrozen)->Bind(1, std::string_view(id)).Bind(2, table.name).Bind(3, sync::kFieldsFromRow);
      auto row = (*unfrozen)->Step();
      if (!row) return row.error();
      if (*row) seq = (*unfrozen)->Int(0);
    }
    if (seq) {
      auto frozen = FreezeCreateEntry(replica, table, id, *seq);
      if (!frozen) return frozen.error();
    }
    return false;
  }
  auto record = replica.Get(table, id);
  if (!record) return record.error();
  if (!*record) return false;
  auto written = WriteCreateEntry(replica, table, **record);
  if (!written) return written.error();
  return true;
}

Status MaterializeChildCreates(Replica& replica, const schema::Table& table, const std::string& case_id) {
  if (table.name != schema::CasesTable().name) return OkStatus();
  Records records(replica);
  for (const schema::Table& children : schema::Tables()) {
    if (children.scope != schema::Scope::kParentCase) continue;
    auto unsent =
        records.Query(children,
                      "SELECT " + RecordColumns(children, "f.") + " FROM " + std::string(children.name) +
                          " AS f WHERE f.case_id = ?1 AND " + UnsentCreateCondition("f") + " ORDER BY f.rowid",
                      {case_id});
    if (!unsent) return unsent.error();
    for (const schema::Record& r : *unsent) {
      auto written = WriteCreateEntry(replica, children, r);
      if (!written) return written.error();
    }
  }
  return OkStatus();
}

Result<int64_t> CountUnsentCreates(Replica& replica, const schema::Table& table) {
  auto stmt = replica.Statement("SELECT count(*) FROM " + std::string(table.name) + " AS t WHERE " +
                                UnsentCreateCondition("t"));
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  return (*stmt)->Int(0);
}

}  // namespace relais::client
