#include "sync/push_runs.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "sync/codec.h"
#include "sync/json_text.h"
#include "sync/push_raw.h"

namespace relais::sync {

namespace {

// Appends the cells of `change` to `cells`, one per field of `table` (null: no value), the last
// occurrence of a field counting (as in row form); false, `cells` as it was, when a field is not
// one of the table's (then the change goes as a row). A device writes a create's fields in the
// table's order, so each is looked for after the one before first.
bool AppendCells(const schema::Table& table, const Change& change, std::vector<const schema::Value*>& cells) {
  const size_t width = table.fields.size();
  const size_t row = cells.size();
  cells.resize(row + width, nullptr);
  size_t next = 0;
  for (const FieldChange& f : change.fields) {
    size_t index = next;
    while (index < width && table.fields[index].name != f.field) ++index;
    if (index == width) {
      const int found = table.FieldIndex(f.field);
      if (found < 0) {
        cells.resize(row);
        return false;
      }
      index = static_cast<size_t>(found);
    }
    cells[row + index] = &f.value;
    next = index + 1;
  }
  return true;
}

// How many changes from `from` on form a run: creates of one known table, every field one of its.
// `cells` receives their cells, row after row (AppendCells).
size_t RunEnd(const std::vector<Change>& changes, size_t from, std::vector<const schema::Value*>& cells) {
  cells.clear();
  const Change& first = changes[from];
  if (first.op != Op::kCreate) return from;
  const schema::Table* table = schema::FindTable(first.table);
  if (!table) return from;
  size_t end = from;
  while (end < changes.size() && end - from < kMaxChangesPerPush && changes[end].op == Op::kCreate &&
         changes[end].table == first.table && AppendCells(*table, changes[end], cells)) {
    ++end;
  }
  return end;
}

// Writes changes [from, end) as one run. The columns are filled in one pass over the changes, each
// in a text of its own, then joined: a pass over the changes per column read them from memory
// fifteen times over, and took twice as long as writing them as rows.
void AppendRun(std::string& out, const schema::Table& table, const std::vector<Change>& changes, size_t from,
               size_t end, const std::vector<const schema::Value*>& cells) {
  const size_t width = table.fields.size();
  std::string ids, records, hlcs;
  std::vector<std::string> columns(width);
  std::vector<bool> any(width, false);
  static const schema::Value kNull;
  for (size_t k = 0; k < end - from; ++k) {
    const Change& c = changes[from + k];
    if (k) {
      ids += ',';
      records += ',';
      hlcs += ',';
    }
    AppendJsonString(ids, c.change_id);
    AppendJsonString(records, c.record_id);
    AppendJsonString(hlcs, c.hlc);
    for (size_t i = 0; i < width; ++i) {
      const schema::Value* cell = cells[k * width + i];
      if (k) columns[i] += ',';
      AppendJsonValue(columns[i], table.fields[i], cell ? *cell : kNull);
      if (cell && *cell) any[i] = true;
    }
  }
  auto column = [&out](std::string_view name, const std::string& text) {
    AppendJsonString(out, name);
    out += ":[";
    out += text;
    out += ']';
  };
  out += "{\"columns\":{";
  column("id", ids);
  out += ',';
  column("record", records);
  out += ',';
  column("hlc", hlcs);
  for (size_t i = 0; i < width; ++i) {
    if (!any[i]) continue;  // a column of nulls only is left out
    out += ',';
    column(table.fields[i].name, columns[i]);
  }
  out += "},\"run\":\"create\",\"table\":";
  AppendJsonString(out, table.name);
  out += '}';
}

}  // namespace

const std::vector<std::string>& CentreFeatures() {
  static const std::vector<std::string> kFeatures = {std::string(kFeaturePushRuns), std::string(kFeaturePullNoEcho),
                                                     std::string(kFeaturePushAfter), std::string(kFeaturePendingReport),
                                                     std::string(kFeatureRemovedTo), std::string(kFeatureErasure)};
  return kFeatures;
}

bool CentreHasFeature(std::string_view answer_json, std::string_view feature) {
  const nlohmann::json doc = nlohmann::json::parse(answer_json, nullptr, false);
  if (!doc.is_object()) return false;
  auto features = doc.find("features");
  if (features == doc.end() || !features->is_array()) return false;
  return std::any_of(features->begin(), features->end(), [feature](const nlohmann::json& f) {
    return f.is_string() && f.get_ref<const std::string&>() == feature;
  });
}

std::string EncodePushRequestRuns(const PushRequest& request) {
  std::string out;
  out.reserve(64 + request.changes.size() * 256);
  out += "{\"batch\":";
  AppendJsonString(out, request.batch_key);
  out += ",\"changes\":[";
  std::vector<const schema::Value*> cells;
  for (size_t i = 0; i < request.changes.size();) {
    if (i) out += ',';
    const size_t end = RunEnd(request.changes, i, cells);
    if (end - i >= kMinRunLength) {
      AppendRun(out, *schema::FindTable(request.changes[i].table), request.changes, i, end, cells);
      i = end;
    } else {
      internal::AppendChangeRow(out, request.changes[i]);
      ++i;
    }
  }
  out += "],\"protocol\":";
  AppendJsonInt(out, kProtocolVersion);
  out += '}';
  return out;
}

// ---- decoding -----------------------------------------------------------------------------------

namespace internal {

namespace {

Error RunUsage(const std::string& where, const std::string& what) {
  return MakeError(ErrorCode::kUsage, where + ": " + what);
}

const RawColumn* FindColumn(const std::vector<RawColumn>& columns, std::string_view name) {
  for (const RawColumn& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

size_t RunLength(const RawChange& raw) {
  const RawColumn* id = FindColumn(raw.column_members, "id");
  return id && id->value.kind == Scalar::kArray ? id->cells.size() : 0;
}

Result<std::vector<Change>> ExpandRun(RawChange& raw, const std::string& where, std::vector<ChangeFacts>& facts) {
  if (!raw.is_object) return RunUsage(where, "expected an object");
  if (raw.unknown_key) return RunUsage(where, "unknown key \"" + *raw.unknown_key + "\"");
  const std::pair<const char*, const Scalar*> row_members[] = {{"base", &raw.base}, {"base_version", &raw.base_version},
                                                               {"hlc", &raw.hlc},   {"id", &raw.id},
                                                               {"op", &raw.op},     {"record", &raw.record},
                                                               {"set", &raw.set},   {"values", &raw.values}};
  for (const auto& [key, value] : row_members) {
    if (value->kind != Scalar::kMissing) {
      return RunUsage(where, "a run carries \"run\", \"table\" and \"columns\" only, not \"" + std::string(key) + "\"");
    }
  }
  if (raw.run.kind != Scalar::kString || raw.run.text != "create") {
    return RunUsage(where + ".run", "missing or not \"create\" (only creates are written as runs)");
  }
  if (raw.table.kind != Scalar::kString) return RunUsage(where + ".table", "missing or not a string");
  const schema::Table* table = schema::FindTable(raw.table.text);
  if (!table) return RunUsage(where + ".table", "unknown table \"" + raw.table.text + "\"");
  if (raw.columns.kind != Scalar::kObject) return RunUsage(where + ".columns", "missing or not an object");

  std::vector<RawColumn*> columns;
  for (RawColumn& c : raw.column_members) columns.push_back(&c);
  std::sort(columns.begin(), columns.end(), [](const RawColumn* a, const RawColumn* b) { return a->name < b->name; });
  for (const RawColumn* c : columns) {
    if (c->name != "id" && c->name != "record" && c->name != "hlc" && table->FieldIndex(c->name) < 0) {
      return RunUsage(where + ".columns." + c->name, "unknown field of " + raw.table.text);
    }
    if (c->value.kind != Scalar::kArray) return RunUsage(where + ".columns." + c->name, "not an array");
  }
  for (const char* required : {"id", "record", "hlc"}) {
    if (!FindColumn(raw.column_members, required)) {
      return RunUsage(where + ".columns", "the \"" + std::string(required) + "\" column is missing");
    }
  }
  const size_t n = RunLength(raw);
  if (n == 0) return RunUsage(where + ".columns.id", "a run holds at least one change");
  for (const RawColumn* c : columns) {
    if (c->cells.size() != n) {
      return RunUsage(where + ".columns." + c->name,
                      std::to_string(c->cells.size()) + " cells where the \"id\" column has " + std::to_string(n));
    }
  }

  // Each column's role, found once for the run: its cells are the ids, the records, the stamps or
  // one field's values. The values are taken in key order, as DecodeChange takes a create's.
  std::vector<Scalar>* ids = nullptr;
  std::vector<Scalar>* records = nullptr;
  std::vector<Scalar>* hlcs = nullptr;
  std::vector<std::vector<Scalar>*> value_cells;
  std::vector<CreateValue> values;
  for (RawColumn* c : columns) {
    std::vector<Scalar>& cells = c->cells;
    if (c->name == "id")
      ids = &cells;
    else if (c->name == "record")
      records = &cells;
    else if (c->name == "hlc")
      hlcs = &cells;
    else {
      value_cells.push_back(&cells);
      values.push_back(CreateValue{c->name, table->FieldIndex(c->name), nullptr});
    }
  }

  // Each change passes DecodeChange's checks of a create, in its order; the run's own members
  // stand for the table, the op ("create") and the base version (0).
  std::vector<Change> changes;
  changes.reserve(n);
  facts.assign(n, ChangeFacts{});
  std::vector<schema::Value> record;
  // Each row's name in errors ("changes[3][17]"), written into one buffer.
  std::string row_where = where + "[";
  const size_t row_where_prefix = row_where.size();
  for (size_t k = 0; k < n; ++k) {
    row_where.resize(row_where_prefix);
    row_where += std::to_string(k);
    row_where += ']';
    Change& c = changes.emplace_back();
    RELAIS_TRY(TakeId((*ids)[k], row_where, c));
    c.table = raw.table.text;
    RELAIS_TRY(TakeRecord((*records)[k], row_where, c, facts[k]));
    c.op = Op::kCreate;
    RELAIS_TRY(TakeHlc((*hlcs)[k], row_where, c));
    c.base_version = 0;
    for (size_t j = 0; j < values.size(); ++j) values[j].value = &(*value_cells[j])[k];
    RELAIS_TRY(TakeCreateValues(*table, values, row_where, c, facts[k], record));
  }
  return changes;
}

}  // namespace internal

}  // namespace relais::sync
