#include "sync/pull_codec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

#include "base/ids.h"
#include "sync/codec.h"
#include "sync/json_sax.h"
#include "sync/json_text.h"
#include "sync/message_checks.h"

namespace relais::sync {

using nlohmann::json;

namespace {

// The synced tables in the order a DOM writes the members of `tables` (by name).
const std::vector<const schema::Table*>& TablesByName() {
  static const std::vector<const schema::Table*> tables = [] {
    std::vector<const schema::Table*> sorted;
    for (const schema::Table& t : schema::Tables()) sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(),
              [](const schema::Table* a, const schema::Table* b) { return a->name < b->name; });
    return sorted;
  }();
  return tables;
}

void AppendColumns(std::string& out, const schema::Table& t) {
  out += "{\"columns\":[\"id\",\"version\"";
  for (const schema::Field& f : t.fields) {
    out += ',';
    AppendJsonString(out, f.name);
  }
  out += ']';
}

const schema::Value& CellOf(const schema::Record& r, size_t field) {
  static const schema::Value kNull;
  return field < r.values.size() ? r.values[field] : kNull;
}

void AppendRows(std::string& out, const schema::Table& t, const std::vector<const schema::Record*>& records) {
  out += ",\"rows\":[";
  for (size_t k = 0; k < records.size(); ++k) {
    const schema::Record& r = *records[k];
    if (k) out += ',';
    out += '[';
    AppendJsonString(out, r.id);
    out += ',';
    AppendJsonInt(out, r.version);
    for (size_t i = 0; i < t.fields.size(); ++i) {
      out += ',';
      AppendJsonValue(out, t.fields[i], CellOf(r, i));
    }
    out += ']';
  }
  out += "]}";
}

void AppendColumnValues(std::string& out, const schema::Table& t, const std::vector<const schema::Record*>& records) {
  out += ",\"values\":[[";
  for (size_t k = 0; k < records.size(); ++k) {
    if (k) out += ',';
    AppendJsonString(out, records[k]->id);
  }
  out += "],[";
  for (size_t k = 0; k < records.size(); ++k) {
    if (k) out += ',';
    AppendJsonInt(out, records[k]->version);
  }
  out += ']';
  for (size_t i = 0; i < t.fields.size(); ++i) {
    out += ",[";
    for (size_t k = 0; k < records.size(); ++k) {
      if (k) out += ',';
      AppendJsonValue(out, t.fields[i], CellOf(*records[k], i));
    }
    out += ']';
  }
  out += "]}";
}

}  // namespace

std::string EncodePullPage(const PullPage& page, PullLayout layout) {
  // Written directly (a page holds thousands of rows), members in the order nlohmann writes them.
  std::string out;
  out.reserve(256 + page.records.size() * 320);
  out += '{';
  if (!page.conflicts.empty()) {
    json conflicts = json::array();
    auto text = [](const schema::Value& v) { return v ? json(*v) : json(nullptr); };
    for (const ConflictNotice& n : page.conflicts) {
      // A field's values typed as in records: a whole-number field's as JSON numbers.
      const schema::Table* table = n.kind == "field" ? schema::FindTable(n.table) : nullptr;
      const schema::Field* field = table ? table->FindField(n.field) : nullptr;
      auto typed = [&](const schema::Value& v) {
        if (!v || !field || field->type != schema::FieldType::kInt) return text(v);
        int64_t number = 0;
        const char* end = v->data() + v->size();
        auto [at, error] = std::from_chars(v->data(), end, number);
        return at == end && error == std::errc() ? json(number) : text(v);
      };
      json j = {{"id", n.id},
                {"kind", n.kind},
                {"status", n.status},
                {"table", n.table},
                {"record", n.record_id},
                {"seq", n.seq},
                {"base", typed(n.base_value)},
                {"server", typed(n.server_value)},
                {"device_value", typed(n.device_value)}};
      if (!n.field.empty()) j["field"] = n.field;
      if (!n.other_id.empty()) j["other"] = n.other_id;
      if (!n.device.empty()) j["device"] = n.device;
      if (!n.server_device.empty()) j["server_device"] = n.server_device;
      if (n.status == "settled") {
        j["settled_value"] = typed(n.settled_value);
        j["settlement"] = n.settlement;
      }
      conflicts.push_back(std::move(j));
    }
    out += "\"conflicts\":" + conflicts.dump() + ",";
  }
  if (page.digest) {
    json digest = json::object();
    for (const auto& [table, d] : page.digest->tables) {
      digest[table] = {{"count", d.count}, {"sum", SumToHex(d.sum)}};
      if (d.has_values) digest[table]["values"] = SumToHex(d.values);
    }
    out += "\"digest\":" + digest.dump() + ",";
  }
  out += "\"more\":";
  out += page.more ? "true" : "false";
  out += ",\"next\":";
  AppendJsonInt(out, page.next);
  if (page.now_ms > 0) {
    out += ",\"now\":";
    AppendJsonInt(out, page.now_ms);
  }
  out += ",\"protocol\":";
  AppendJsonInt(out, kProtocolVersion);
  out += ",\"removed\":[";
  for (size_t i = 0; i < page.removed.size(); ++i) {
    const Removal& r = page.removed[i];
    if (i) out += ',';
    // Members in byte-wise order, as the centre writes every object.
    out += r.erased ? "{\"erased\":true,\"id\":" : "{\"id\":";
    AppendJsonString(out, r.record_id);
    out += ",\"seq\":";
    AppendJsonInt(out, r.seq);
    out += ",\"table\":";
    AppendJsonString(out, r.table);
    if (!r.to.empty()) {
      out += ",\"to\":";
      AppendJsonString(out, r.to);
    }
    out += '}';
  }
  out += "],\"since\":";
  AppendJsonInt(out, page.since);
  out += ",\"tables\":{";
  bool first_table = true;
  std::vector<const schema::Record*> records;
  for (const schema::Table* t : TablesByName()) {
    records.clear();
    for (const PulledRecord& pr : page.records) {
      if (pr.table == t->name) records.push_back(&pr.record);
    }
    if (records.empty()) continue;
    if (!first_table) out += ',';
    first_table = false;
    AppendJsonString(out, t->name);
    out += ':';
    AppendColumns(out, *t);
    if (layout == PullLayout::kColumns)
      AppendColumnValues(out, *t, records);
    else
      AppendRows(out, *t, records);
  }
  out += "}}";
  return out;
}

namespace {

// ---- the page, read without a DOM ---------------------------------------------------------------
//
// A page holds up to 10,000 records of about twenty cells. Building nlohmann's DOM of it (a node
// and a string per cell) and copying every cell out again cost a fifth of a device's pull, so the
// page is read event by event (sync/json_sax.h: exactly the texts nlohmann accepts), and
// each cell goes straight into its record. The checks are those of the DOM decoder it replaces,
// with the same messages; the differences: a member that matters given twice (`tables`, a table,
// its `columns`…) is refused instead of the last one counting, so is a column named twice, and a
// table's `columns` must come
// before its `rows` or `values` (as every encoder writes them: in byte-wise order). Errors keep the
// DOM decoder's precedence — the text, the protocol, since/next/more, `tables`, then the first
// malformed table, removal or conflict in text order, then `now` and `digest`.

struct Scalar {
  enum Kind : uint8_t { kMissing, kNull, kBool, kInt, kFloat, kString, kObject, kArray };
  Kind kind = kMissing;
  bool flag = false;   // kBool
  int64_t number = 0;  // kInt (an unsigned one as nlohmann's get<int64_t>() reads it)
  std::string text;    // kString
};

// The members of a removal, a conflict notice or a table's digest, as read.
struct RawRemoval {
  Scalar table, id, seq, to, erased;
};
struct RawConflict {
  Scalar id, kind, status, table, record, seq, field, other, device, server_device, settlement, base, server,
      device_value, settled_value;
};
struct RawDigest {
  std::string table;
  bool is_object = false;
  Scalar count, sum, values;
};

Error Bad(const std::string& what) { return MakeError(ErrorCode::kProtocol, "pull page: " + what); }

// The SAX events of one pull page (sync/json_sax.h). Not thread-safe; one page per reader.
class PullPageReader {
 public:
  bool null() {
    Value(Scalar::kNull, 0, nullptr);
    return true;
  }
  bool boolean(bool b) {
    Value(Scalar::kBool, b, nullptr);
    return true;
  }
  bool number_integer(int64_t n) {
    Value(Scalar::kInt, n, nullptr);
    return true;
  }
  bool number_unsigned(uint64_t n) {
    Value(Scalar::kInt, static_cast<int64_t>(n), nullptr);
    return true;
  }
  bool number_float(double, const std::string&) {
    Value(Scalar::kFloat, 0, nullptr);
    return true;
  }
  bool string(std::string& text) {
    Value(Scalar::kString, 0, &text);
    return true;
  }
  bool start_object(std::size_t) {
    Open(true);
    return true;
  }
  bool start_array(std::size_t) {
    Open(false);
    return true;
  }
  bool end_object() {
    Close();
    return true;
  }
  bool end_array() {
    Close();
    return true;
  }
  bool key(std::string& name) {
    stack_.back().key.assign(name);
    return true;
  }

  Result<PullPage> Finish(bool parsed) {
    if (!parsed) return MakeError(ErrorCode::kUsage, "the body is not valid JSON");
    if (document_kind_ != Scalar::kObject) return MakeError(ErrorCode::kProtocol, "pull page is not a JSON object");
    RELAIS_TRY(CheckMessageProtocol(protocol_.kind == Scalar::kInt ? &protocol_.number : nullptr));
    if (since_.kind != Scalar::kInt || next_.kind != Scalar::kInt || more_.kind != Scalar::kBool) {
      return Bad("since, next or more missing");
    }
    page_.since = since_.number;
    page_.next = next_.number;
    page_.more = more_.flag;
    // A centre behind the device's cursor (restored from a backup) answers a last, empty page whose
    // `next` is its own last sequence number: the engine recovers with a fresh copy.
    if (page_.next < page_.since && page_.more) return Bad("next is before since");
    if (tables_kind_ != Scalar::kObject) return Bad("tables missing");
    if (error_) return *error_;
    if (page_.next < page_.since && (!page_.records.empty() || !page_.removed.empty() || !page_.conflicts.empty())) {
      return Bad("next is before since on a page that is not empty");  // only the empty last page goes back
    }
    if (now_.kind != Scalar::kMissing) {
      if (now_.kind != Scalar::kInt || now_.number < 0) return Bad("now is not a time in milliseconds");
      page_.now_ms = now_.number;
    }
    if (digest_kind_ != Scalar::kMissing && digest_kind_ != Scalar::kNull) {
      if (digest_kind_ != Scalar::kObject) return Bad("digest is not an object");
      if (page_.more) return Bad("a digest on a page that is not the last");
      ScopeDigest d;
      for (const RawDigest& raw : digest_) {
        if (!schema::FindTable(raw.table)) return Bad("digest of an unknown table " + raw.table);
        TableDigest& td = d[raw.table];
        if (!raw.is_object || raw.count.kind != Scalar::kInt || raw.count.number < 0 ||
            raw.sum.kind != Scalar::kString || !SumFromHex(raw.sum.text, td.sum)) {
          return Bad("malformed digest of " + raw.table);
        }
        td.has_values = raw.values.kind != Scalar::kMissing;
        if (td.has_values && (raw.values.kind != Scalar::kString || !SumFromHex(raw.values.text, td.values))) {
          return Bad("malformed digest of " + raw.table);
        }
        td.count = raw.count.number;
      }
      page_.digest = std::move(d);
    }
    return std::move(page_);
  }

 private:
  enum class Role {
    kTop,
    kTables,
    kTable,
    kColumns,
    kRows,
    kRow,
    kByColumn,
    kColumn,
    kRemoved,
    kRemoval,
    kConflicts,
    kConflict,
    kDigest,
    kDigestTable,
    kSkip,
  };
  struct Frame {
    Role role;
    std::string key;   // objects: the member being read
    size_t count = 0;  // arrays: the elements read so far
  };
  // The table being read: how its columns map onto our fields (-1 id, -2 version) and where its
  // records start in page_.records.
  struct TableState {
    const schema::Table* table = nullptr;
    std::string name;
    std::vector<int> map;
    bool columns = false, rows = false, values = false;  // which members were arrays
    size_t first = 0;                                    // index of its first record
    size_t records = 0;                                  // its records (values: the first column's length)
    int column = 0;                                      // values: the column being read
  };

  void Fail(Error e) {
    if (!error_) error_ = std::move(e);
  }

  // Takes a value starting now (a scalar, or a container whose frame Open pushes next) where the
  // frame it is in puts it. `text` holds a string's bytes; a container inside a cell fails as a
  // cell of the wrong type, its contents skipped.
  void Value(Scalar::Kind kind, int64_t number, std::string* text) {
    if (stack_.empty()) {
      document_kind_ = kind;
      return;
    }
    Frame& f = stack_.back();
    const size_t index = f.count++;
    switch (f.role) {
      case Role::kTop:
        return TopMember(f.key, kind, number, text);
      case Role::kTables:
        return StartTable(f.key, kind);
      case Role::kTable:
        return TableMember(f.key, kind);
      case Role::kColumns:
        return AddColumn(kind, text);
      case Role::kRows:
        if (kind != Scalar::kArray) return Fail(Bad("a row of " + table_.name + " has the wrong length"));
        StartRecord();
        return;
      case Role::kRow:
        return RowCell(index, kind, number, text);
      case Role::kByColumn:
        return StartColumn(index, kind);
      case Role::kColumn:
        return ColumnCell(index, kind, number, text);
      case Role::kRemoved:
        if (kind != Scalar::kObject) return Fail(Bad("malformed removal"));
        removal_ = RawRemoval{};
        return;
      case Role::kRemoval: {
        Scalar* s = f.key == "table" ? &removal_.table
                    : f.key == "id"  ? &removal_.id
                    : f.key == "seq" ? &removal_.seq
                    : f.key == "to"  ? &removal_.to
                    : f.key == "erased" ? &removal_.erased
                                     : nullptr;
        return Put(s, kind, number, text);
      }
      case Role::kConflicts:
        if (kind != Scalar::kObject) return Fail(Bad("malformed conflict"));
        conflict_ = RawConflict{};
        return;
      case Role::kConflict:
        return Put(ConflictMember(f.key), kind, number, text);
      case Role::kDigest: {
        RawDigest& d = digest_.emplace_back();
        d.table = f.key;
        d.is_object = kind == Scalar::kObject;
        return;
      }
      case Role::kDigestTable: {
        RawDigest& d = digest_.back();
        return Put(f.key == "count"    ? &d.count
                   : f.key == "sum"    ? &d.sum
                   : f.key == "values" ? &d.values
                                       : nullptr,
                   kind, number, text);
      }
      case Role::kSkip:
        return;
    }
  }

  static void Put(Scalar* s, Scalar::Kind kind, int64_t number, std::string* text) {
    if (!s) return;
    s->kind = kind;
    s->number = number;
    s->flag = number != 0;
    if (text) s->text.assign(*text);
  }

  void TopMember(const std::string& key, Scalar::Kind kind, int64_t number, std::string* text) {
    if (key == "protocol") return Put(&protocol_, kind, number, text);
    if (key == "since") return Put(&since_, kind, number, text);
    if (key == "next") return Put(&next_, kind, number, text);
    if (key == "more") return Put(&more_, kind, number, text);
    if (key == "now") return Put(&now_, kind, number, text);
    auto once = [&](Scalar::Kind& seen) {
      if (seen != Scalar::kMissing) Fail(Bad(key + " given twice"));
      seen = kind;
    };
    if (key == "tables") return once(tables_kind_);
    if (key == "removed") {
      once(removed_kind_);
      if (kind != Scalar::kNull && kind != Scalar::kArray) Fail(Bad("removed is not an array"));
      return;
    }
    if (key == "conflicts") {
      once(conflicts_kind_);
      if (kind != Scalar::kNull && kind != Scalar::kArray) Fail(Bad("conflicts is not an array"));
      return;
    }
    if (key == "digest") return once(digest_kind_);
  }

  void StartTable(const std::string& name, Scalar::Kind kind) {
    table_ = TableState{};
    table_.table = schema::FindTable(name);
    table_.name = name;
    if (!table_.table) return Fail(Bad("unknown table " + name));
    if (kind != Scalar::kObject) return Fail(Bad("malformed table " + name));
    for (const std::string& seen : tables_seen_) {
      if (seen == name) return Fail(Bad("table " + name + " given twice"));
    }
    tables_seen_.push_back(name);
  }

  void TableMember(const std::string& key, Scalar::Kind kind) {
    const bool array = kind == Scalar::kArray;
    if (key == "columns") {
      if (table_.columns) return Fail(Bad("columns of " + table_.name + " given twice"));
      table_.columns = array;
      return;
    }
    if (key != "rows" && key != "values") return;
    if (table_.rows || table_.values) return Fail(Bad("table " + table_.name + " holds rows or values twice"));
    if (!array) return;
    if (!table_.columns) return Fail(Bad("table " + table_.name + ": columns must come before " + key));
    (key == "rows" ? table_.rows : table_.values) = true;
    table_.first = page_.records.size();
  }

  void AddColumn(Scalar::Kind kind, std::string* text) {
    if (kind != Scalar::kString) return Fail(Bad("malformed columns"));
    int index = -1;
    if (*text == "version")
      index = -2;
    else if (*text != "id")
      index = table_.table->FieldIndex(*text);
    if (index == -1 && *text != "id") return Fail(Bad("unknown field " + table_.name + "." + *text));
    if (std::find(table_.map.begin(), table_.map.end(), index) != table_.map.end()) {
      return Fail(Bad("column " + *text + " of " + table_.name + " named twice"));
    }
    table_.map.push_back(index);
  }

  void StartRecord() {
    PulledRecord& pr = page_.records.emplace_back();
    pr.table = table_.name;
    pr.record.values.resize(table_.table->fields.size());
    ++table_.records;
  }

  // One cell of column `column` (an index into table_.map) for `record`.
  void Cell(PulledRecord& pr, size_t column, Scalar::Kind kind, int64_t number, std::string* text) {
    const int to = table_.map[column];
    if (to == -1) {
      if (kind != Scalar::kString || !IsUuid(*text)) return Fail(Bad("a row has a bad id"));
      pr.record.id.assign(*text);
      return;
    }
    if (to == -2) {
      if (kind != Scalar::kInt) return Fail(Bad("a row has a bad version"));
      pr.record.version = number;
      return;
    }
    const schema::Field& f = table_.table->fields[static_cast<size_t>(to)];
    schema::Value& out = pr.record.values[static_cast<size_t>(to)];
    if (kind == Scalar::kNull) return out.reset();
    if (f.type == schema::FieldType::kInt) {
      if (kind != Scalar::kInt) return Fail(Bad(table_.name + "." + std::string(f.name) + ": expected a whole number"));
      out = std::to_string(number);
      return;
    }
    if (kind != Scalar::kString) return Fail(Bad(table_.name + "." + std::string(f.name) + ": expected a string"));
    // The text was checked as UTF-8 whole (CheckMessageText), and the lexer's escapes only write
    // valid UTF-8 (a lone surrogate is a syntax error): a cell needs no check of its own.
    out.emplace(*text);
  }

  void RowCell(size_t index, Scalar::Kind kind, int64_t number, std::string* text) {
    if (error_) return;
    if (index >= table_.map.size()) return Fail(Bad("a row of " + table_.name + " has the wrong length"));
    Cell(page_.records.back(), index, kind, number, text);
  }

  void StartColumn(size_t index, Scalar::Kind kind) {
    if (index >= table_.map.size()) {
      return Fail(Bad("the values of " + table_.name + " hold more columns than its columns name"));
    }
    if (kind != Scalar::kArray) return Fail(Bad("a column of " + table_.name + " is not an array"));
    table_.column = static_cast<int>(index);
  }

  std::string ColumnName(size_t column) const {
    const int to = table_.map[column];
    return to == -1 ? "id" : to == -2 ? "version" : std::string(table_.table->fields[static_cast<size_t>(to)].name);
  }

  void ColumnCell(size_t index, Scalar::Kind kind, int64_t number, std::string* text) {
    if (error_) return;
    const size_t column = static_cast<size_t>(table_.column);
    if (column == 0)
      StartRecord();
    else if (index >= table_.records) {
      return Fail(Bad("column " + ColumnName(column) + " of " + table_.name + " holds more values than column " +
                      ColumnName(0)));
    }
    Cell(page_.records[table_.first + index], column, kind, number, text);
  }

  Scalar* ConflictMember(const std::string& key) {
    RawConflict& c = conflict_;
    for (auto [name, member] : {std::pair<const char*, Scalar*>{"id", &c.id},
                                {"kind", &c.kind},
                                {"status", &c.status},
                                {"table", &c.table},
                                {"record", &c.record},
                                {"seq", &c.seq},
                                {"field", &c.field},
                                {"other", &c.other},
                                {"device", &c.device},
                                {"server_device", &c.server_device},
                                {"settlement", &c.settlement},
                                {"base", &c.base},
                                {"server", &c.server},
                                {"device_value", &c.device_value},
                                {"settled_value", &c.settled_value}}) {
      if (key == name) return member;
    }
    return nullptr;
  }

  void Open(bool object) {
    const Scalar::Kind kind = object ? Scalar::kObject : Scalar::kArray;
    Role parent = stack_.empty() ? Role::kSkip : stack_.back().role;
    const std::string* key = stack_.empty() ? nullptr : &stack_.back().key;
    const bool ok_before = !error_;
    Value(kind, 0, nullptr);
    Role role = Role::kSkip;
    if (stack_.empty()) {
      role = object ? Role::kTop : Role::kSkip;
    } else if (parent == Role::kTop && *key == "tables" && object) {
      role = Role::kTables;
    } else if (parent == Role::kTop && *key == "removed" && !object) {
      role = Role::kRemoved;
    } else if (parent == Role::kTop && *key == "conflicts" && !object) {
      role = Role::kConflicts;
    } else if (parent == Role::kTop && *key == "digest" && object) {
      role = Role::kDigest;
    } else if (parent == Role::kTables && object && ok_before && !error_) {
      role = Role::kTable;
    } else if (parent == Role::kTable && !object && !error_) {
      if (*key == "columns")
        role = Role::kColumns;
      else if (*key == "rows" && table_.rows)
        role = Role::kRows;
      else if (*key == "values" && table_.values)
        role = Role::kByColumn;
    } else if (parent == Role::kRows && !object && !error_) {
      role = Role::kRow;
    } else if (parent == Role::kByColumn && !object && !error_) {
      role = Role::kColumn;
    } else if (parent == Role::kRemoved && object) {
      role = Role::kRemoval;
    } else if (parent == Role::kConflicts && object) {
      role = Role::kConflict;
    } else if (parent == Role::kDigest && object) {
      role = Role::kDigestTable;
    }
    stack_.push_back(Frame{role, {}, 0});
  }

  void Close() {
    const Frame f = std::move(stack_.back());
    stack_.pop_back();
    switch (f.role) {
      case Role::kColumns:
        if (table_.map.size() < 2) Fail(Bad("malformed table " + table_.name));
        break;
      case Role::kRow:
        if (f.count != table_.map.size())
          Fail(Bad("a row of " + table_.name + " has the wrong length"));
        else if (page_.records.back().record.id.empty())
          Fail(Bad("a row has no id"));
        break;
      case Role::kColumn:
        if (table_.column == 0) break;
        if (f.count != table_.records) {
          Fail(Bad("column " + ColumnName(static_cast<size_t>(table_.column)) + " of " + table_.name + " holds " +
                   std::to_string(f.count) + " values, column " + ColumnName(0) + " " +
                   std::to_string(table_.records)));
        }
        break;
      case Role::kByColumn:
        if (f.count != table_.map.size()) {
          Fail(Bad("the values of " + table_.name + " hold " + std::to_string(f.count) + " columns, its columns name " +
                   std::to_string(table_.map.size())));
        } else if (table_.records > 0 && std::find(table_.map.begin(), table_.map.end(), -1) == table_.map.end()) {
          Fail(Bad("a row has no id"));
        }
        break;
      case Role::kTable:
        if (!table_.columns || !(table_.rows || table_.values)) Fail(Bad("malformed table " + table_.name));
        break;
      case Role::kRemoval:
        EndRemoval();
        break;
      case Role::kConflict:
        EndConflict();
        break;
      default:
        break;
    }
  }

  void EndRemoval() {
    const RawRemoval& r = removal_;
    if (r.table.kind != Scalar::kString || r.id.kind != Scalar::kString || r.seq.kind != Scalar::kInt) {
      return Fail(Bad("malformed removal"));
    }
    if (!schema::FindTable(r.table.text)) return Fail(Bad("removal of an unknown table"));
    // `to`: a territory's code, or absent (null) when the record left otherwise.
    if (r.to.kind != Scalar::kMissing && r.to.kind != Scalar::kNull && r.to.kind != Scalar::kString) {
      return Fail(Bad("a removal's to is not text"));
    }
    // `erased`: true, or absent (false, null) for a record that only left the scope.
    if (r.erased.kind != Scalar::kMissing && r.erased.kind != Scalar::kNull && r.erased.kind != Scalar::kBool) {
      return Fail(Bad("a removal's erased is not true or false"));
    }
    page_.removed.push_back(Removal{r.table.text, r.id.text, r.seq.number, r.to.kind == Scalar::kString ? r.to.text : "",
                                    r.erased.kind == Scalar::kBool && r.erased.flag});
  }

  void EndConflict() {
    const RawConflict& c = conflict_;
    if (c.id.kind != Scalar::kInt || c.kind.kind != Scalar::kString || c.status.kind != Scalar::kString ||
        c.table.kind != Scalar::kString || c.record.kind != Scalar::kString || c.seq.kind != Scalar::kInt) {
      return Fail(Bad("malformed conflict"));
    }
    ConflictNotice n;
    n.id = c.id.number;
    n.kind = c.kind.text;
    n.status = c.status.text;
    n.table = c.table.text;
    n.record_id = c.record.text;
    n.seq = c.seq.number;
    if ((n.kind != "field" && n.kind != "duplicate") || (n.status != "open" && n.status != "settled")) {
      return Fail(Bad("conflict of unknown kind or status"));
    }
    if (!schema::FindTable(n.table)) return Fail(Bad("conflict on an unknown table"));
    // Text or absent (null): into a std::string (left empty) or a schema::Value (left null).
    auto text = [](const Scalar& s, auto& out) {
      if (s.kind == Scalar::kMissing || s.kind == Scalar::kNull) return true;
      if (s.kind != Scalar::kString) return false;
      out = s.text;
      return true;
    };
    if (!text(c.field, n.field) || !text(c.other, n.other_id) || !text(c.device, n.device) ||
        !text(c.server_device, n.server_device) || !text(c.settlement, n.settlement)) {
      return Fail(Bad("a conflict holds a member that is not text"));
    }
    // Values are typed as in records (a whole number for a whole-number field); a centre from before
    // sent every value as text.
    auto value = [&](const Scalar& s, schema::Value& out) {
      if (s.kind != Scalar::kInt) return text(s, out);
      out = std::to_string(s.number);
      return true;
    };
    if (!value(c.base, n.base_value) || !value(c.server, n.server_value) || !value(c.device_value, n.device_value) ||
        !value(c.settled_value, n.settled_value)) {
      return Fail(Bad("a conflict holds a value that is neither text nor a whole number"));
    }
    page_.conflicts.push_back(std::move(n));
  }

  std::vector<Frame> stack_;
  Scalar::Kind document_kind_ = Scalar::kMissing;
  Scalar protocol_, since_, next_, more_, now_;
  Scalar::Kind tables_kind_ = Scalar::kMissing, removed_kind_ = Scalar::kMissing, conflicts_kind_ = Scalar::kMissing,
               digest_kind_ = Scalar::kMissing;
  std::vector<std::string> tables_seen_;
  TableState table_;
  RawRemoval removal_;
  RawConflict conflict_;
  std::vector<RawDigest> digest_;
  std::optional<Error> error_;
  PullPage page_;
};

}  // namespace

Result<PullPage> DecodePullPage(std::string_view text) {
  RELAIS_TRY(CheckMessageText(text));
  PullPageReader reader;
  const bool parsed = ParseJsonSax(text, reader);
  return reader.Finish(parsed);
}

}  // namespace relais::sync
