#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "client/replica.h"
#include "schema/model.h"
#include "sync/protocol.h"

namespace relais::client {

// Field values given by a person or a file, by field name: nullopt clears (sets null).
using FieldValues = std::vector<std::pair<std::string, schema::Value>>;

// The outcome of an edit: the record as stored afterwards, and whether anything changed (an edit that
// changes nothing writes nothing: no row update, no outbox entry).
struct EditResult {
  schema::Record record;
  bool changed = false;
};

// Filters of List. Every set filter must hold (equality on a field); `open_only` keeps cases whose
// `closed_on` is null. `limit` 0 means no limit.
struct ListFilter {
  FieldValues equals;
  bool open_only = false;
  size_t limit = 50;
};

// The generic repository of every synced table, driven by the schema declaration: column lists come
// from Table::fields, values are always bound, never written into SQL.
//
// Contract of every write: values are normalised (schema::Normalize) then validated; a failure
// returns kValidation naming the field and the rule, and writes nothing. An edit that succeeds
// changes the row AND appends its outbox entry (changed fields with new and base values, the row's
// base version, an HLC stamp) in one BEGIN IMMEDIATE transaction: after a crash or an error, either
// both are there or neither. A create writes its row at version 0, which is the pending create
// until a push batch takes it (client/pending_creates.h): the row and the create are one write.
//
// Not thread-safe (like the Replica it writes). The Replica must outlive it.
class Records {
 public:
  explicit Records(Replica& replica) : replica_(replica) {}

  // Creates a record. `id` is kept when given (an import keeps the file's ids; any UUID is accepted,
  // lower-cased), else a new UUIDv7. Unknown field names are kUsage; an id the replica already holds
  // is kValidation ("id: … already exists").
  Result<schema::Record> Create(const schema::Table& table, const FieldValues& values,
                                std::optional<std::string> id = std::nullopt);

  // As Create, for a caller that already holds a transaction (import: one transaction per file).
  // `values` has one entry per field, in declaration order, NOT yet normalised.
  Result<schema::Record> CreateInTransaction(const schema::Table& table, std::vector<schema::Value> values,
                                             std::optional<std::string> id);

  // Changes the given fields of record `id`. kNotFound when absent; kValidation when the table is
  // append-only, a field is immutable, or a value (or the resulting record) fails validation.
  Result<EditResult> Edit(const schema::Table& table, const std::string& id, const FieldValues& changes);
  // As Edit, for a caller that already holds a transaction (one command that writes several
  // records): on an error the caller's transaction must roll back.
  Result<EditResult> EditInTransaction(const schema::Table& table, const std::string& id, const FieldValues& changes);

  Result<std::optional<schema::Record>> Get(const schema::Table& table, const std::string& id) {
    return replica_.Get(table, id);
  }

  // Records matching `filter`, ordered for people (names first, then id).
  Result<std::vector<schema::Record>> List(const schema::Table& table, const ListFilter& filter);

  // Full-text search over the table's FTS index (cases_fts, contacts_fts), case- and
  // accent-insensitive, each word a prefix ("lef" finds Lefèvre), at most `limit` (0: 50): first the
  // records where every word is a whole word, then the others; by name within each. Cases merged
  // into another are left out. kUsage when the text holds no word or the table has no index.
  Result<std::vector<schema::Record>> Search(const schema::Table& table, const std::string& text, size_t limit = 50);

  // Number of records of the table.
  Result<int64_t> Count(const schema::Table& table);

  // Changes of one record (or of all) still waiting for the centre (state pending: outbox entries and
  // creates not yet in the outbox) and refused by it.
  struct PendingCounts {
    int64_t pending = 0;
    int64_t rejected = 0;
  };
  Result<PendingCounts> PendingFor(const schema::Table& table, const std::string& id);
  Result<PendingCounts> PendingTotal();
  // Records with changes waiting for the centre: successive edits of one record count once.
  Result<int64_t> PendingRecords();

  // Runs `sql`, a SELECT of RecordColumns(table) with `params` bound as ?1, ?2…, and reads its rows.
  // The statement is prepared once per distinct `sql` and reused.
  Result<std::vector<schema::Record>> Query(const schema::Table& table, const std::string& sql,
                                            const std::vector<schema::Value>& params);
  // The same, for a SELECT of RecordColumns(table) then the row's rowid: each record's rowid is
  // appended to `rowids`.
  Result<std::vector<schema::Record>> Query(const schema::Table& table, const std::string& sql,
                                            const std::vector<schema::Value>& params, std::vector<int64_t>& rowids);

  Replica& replica() { return replica_; }

 private:
  Result<std::vector<schema::Record>> QueryRows(const schema::Table& table, const std::string& sql,
                                                const std::vector<schema::Value>& params, std::vector<int64_t>* rowids);
  // The changes by field index, normalised and validated field by field.
  Result<std::vector<std::pair<size_t, schema::Value>>> CheckedChanges(const schema::Table& table,
                                                                       const FieldValues& changes);
  Result<EditResult> ApplyEdit(const schema::Table& table, const std::string& id,
                               const std::vector<std::pair<size_t, schema::Value>>& wanted);
  Status AppendUpdate(const schema::Table& table, const std::string& record_id,
                      const std::vector<sync::FieldChange>& fields, int64_t base_version);

  Replica& replica_;
};

// Builds an FTS5 query that matches every word of `text` as a prefix, with each word quoted so that
// no user input is read as FTS syntax: `lef "o` → `"lef"* """o"*`. Empty when `text` holds no word.
// The words are taken in Unicode NFC, the form of every stored text.
std::string PrefixQuery(const std::string& text);

// The select list of a table's records: "id, version, <fields…>", as ReadRecord expects.
std::string RecordColumns(const schema::Table& table, const std::string& prefix = "");

}  // namespace relais::client
