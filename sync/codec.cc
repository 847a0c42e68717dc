#include "sync/codec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <unordered_set>

#include "base/ids.h"
#include "base/text.h"
#include "sync/hlc.h"
#include "sync/json_sax.h"
#include "sync/json_text.h"
#include "sync/message_checks.h"
#include "sync/push_raw.h"

namespace relais::sync {

using nlohmann::json;

namespace {

// ---- values ---------------------------------------------------------------------------------

// Reads a wire value for `f`. Integers travel as JSON numbers, everything else as strings.
// `where()` names the place, for an error only: a message decodes thousands of values.
template <class Where>
Result<schema::Value> ValueFromJson(const schema::Field& f, const json& j, Where&& where) {
  if (j.is_null()) return schema::Value{};
  if (f.type == schema::FieldType::kInt) {
    if (j.is_number_integer()) return schema::Value{std::to_string(j.get<int64_t>())};
    return MakeError(ErrorCode::kValidation, where() + ": expected a whole number");
  }
  if (!j.is_string()) return MakeError(ErrorCode::kValidation, where() + ": expected a string");
  return schema::Value{j.get_ref<const std::string&>()};
}

// The member `key` of `obj`, or null when `obj` is not an object or lacks it. (nlohmann's const
// operator[] on a missing key is undefined behaviour, not a null.)
const json& Member(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// Reads the optional member `key` into `out` (left as is when absent or null). False when it holds
// another type: json::value() would throw there, and a decoder returns errors, never throws.
bool OptionalString(const json& obj, const char* key, std::string& out) {
  const json& v = Member(obj, key);
  if (v.is_null()) return true;
  if (!v.is_string()) return false;
  out = v.get<std::string>();
  return true;
}

Error Usage(const std::string& where, const std::string& what) {
  return MakeError(ErrorCode::kUsage, where + ": " + what);
}

// The checks every message passes before it is parsed: size, UTF-8, nesting and number of values.
Status CheckBody(std::string_view text) {
  if (text.size() > kMaxBodyBytes) return MakeError(ErrorCode::kTooLarge, "message larger than the limit");
  if (!IsValidUtf8(text)) return MakeError(ErrorCode::kUsage, "the body is not valid UTF-8");
  // Depth is bounded by our own shapes; a deeply nested document is refused below by shape checks,
  // but the parser itself must not recurse without limit: reject before parsing.
  // The number of values is bounded too: a parsed value costs 16 bytes and an empty object or array
  // a container of its own, so 64 MiB of "{}," would take gigabytes once parsed. Every value but
  // the first follows a ',' or opens a container, which bounds the count without parsing.
  size_t depth = 0, max_depth = 0, values = 1;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      max_depth = std::max(max_depth, ++depth), ++values;
    else if ((c == '}' || c == ']') && depth > 0)
      --depth;
    else if (c == ',')
      ++values;
    if (max_depth > 16) return MakeError(ErrorCode::kUsage, "the body is nested too deeply");
  }
  if (values > kMaxJsonValues) {
    return MakeError(ErrorCode::kTooLarge,
                     "the body holds more than " + std::to_string(kMaxJsonValues) + " JSON values");
  }
  return OkStatus();
}

constexpr const char* kNotJson = "the body is not valid JSON";

// The version check of every message: `version` is null when the member is missing or not a whole
// number.
Status CheckProtocolVersion(const int64_t* version) {
  if (!version) {
    return MakeError(ErrorCode::kProtocol,
                     "protocol: missing (this server speaks version " + std::to_string(kProtocolVersion) + ")");
  }
  if (*version != kProtocolVersion) {
    return MakeError(ErrorCode::kProtocol, "protocol: version " + std::to_string(*version) +
                                               " is not spoken here (expected " + std::to_string(kProtocolVersion) +
                                               ")");
  }
  return OkStatus();
}

bool IsKey(const std::string& s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
      return false;
  }
  return true;
}

// ---- the push request, read without a DOM -------------------------------------------------------
//
// A push request holds up to 10,000 changes. Building nlohmann's DOM of one (a map node and a
// string per member) and copying every value out of it again cost more than the checks, so the
// request is read event by event instead (sync/json_sax.h: the texts nlohmann accepts, but for a NUL
// byte after the value, at twice its speed). Each change is kept as the little its checks need
// (RawChange) and decoded when its object closes. What is accepted and refused, and the messages,
// are those of the DOM decoder it replaces: members are checked in key order, a key given twice
// counts once with its last value, and errors keep their precedence — the text (UTF-8, nesting,
// syntax), the protocol, the top-level keys, the batch key, the changes array and its size, then
// the first bad change in request order.

using internal::RawChange;
using internal::RawColumn;
using internal::RawMember;
using internal::Scalar;

// The smallest key wins, as the first unknown one a DOM's (sorted) members would show.
void NoteUnknown(std::optional<std::string>& first, const std::string& key) {
  if (!first || key < *first) first = key;
}

// Members in key order (a DOM's order, which decides which error is reported first and the order
// of an update's fields).
// Pointers to `members` sorted by key: const ones for a const vector, others to take values out of.
template <typename Members>
auto InKeyOrder(Members& members) {
  std::vector<decltype(&members.front())> sorted;
  sorted.reserve(members.size());
  for (auto& m : members) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(), [](const RawMember* a, const RawMember* b) { return a->key < b->key; });
  return sorted;
}

const RawMember* FindMember(const std::vector<RawMember>& members, std::string_view key) {
  for (const RawMember& m : members) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

// Reads a wire value for `f`, as ValueFromJson does from a DOM.
template <class Where>
Result<schema::Value> ValueFromScalar(const schema::Field& f, const Scalar& v, Where&& where) {
  if (v.kind == Scalar::kNull) return schema::Value{};
  if (f.type == schema::FieldType::kInt) {
    if (v.kind == Scalar::kInt) return schema::Value{std::to_string(v.number)};
    return MakeError(ErrorCode::kValidation, where() + ": expected a whole number");
  }
  if (v.kind != Scalar::kString) return MakeError(ErrorCode::kValidation, where() + ": expected a string");
  return schema::Value{v.text};
}

// As above, taking the text out of `v` instead of copying it.
template <typename Where>
Result<schema::Value> TakeValue(const schema::Field& f, Scalar& v, Where&& where) {
  if (v.kind == Scalar::kString && f.type != schema::FieldType::kInt) return schema::Value{std::move(v.text)};
  return ValueFromScalar(f, v, std::forward<Where>(where));
}

// A required text member of 1 to `max_len` bytes.
Status CheckString(const Scalar& v, const std::string& where, const char* key, size_t max_len) {
  if (v.kind != Scalar::kString) return Usage(where + "." + key, "missing or not a string");
  if (v.text.empty() || v.text.size() > max_len) return Usage(where + "." + key, "empty or too long");
  return OkStatus();
}

void AppendSized(std::string& out, std::string_view text) {
  const uint32_t n = static_cast<uint32_t>(text.size());
  const char size[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                        static_cast<char>(n)};
  out.append(size, 4);
  out.append(text);
}

void AppendSizedValue(std::string& out, const schema::Value& value) {
  if (!value) {
    out.push_back('\0');  // null, told from any text (which starts with 1)
    return;
  }
  out.push_back('\1');
  AppendSized(out, *value);
}

}  // namespace

namespace {

// The canonical text PushRequestHash hashes. `bounds`, when given, gets where the first change's part
// begins, then where each change's part ends.
std::string CanonicalPush(const PushRequest& request, std::vector<size_t>* bounds) {
  std::string canonical;
  canonical.reserve(64 + request.changes.size() * 320);
  AppendSized(canonical, request.batch_key);
  AppendSized(canonical, std::to_string(request.changes.size()));
  if (bounds) {
    bounds->reserve(request.changes.size() + 1);
    bounds->push_back(canonical.size());
  }
  for (const Change& c : request.changes) {
    AppendSized(canonical, c.change_id);
    AppendSized(canonical, c.table);
    AppendSized(canonical, c.record_id);
    AppendSized(canonical, ToString(c.op));
    AppendSized(canonical, std::to_string(c.base_version));
    AppendSized(canonical, c.hlc);
    AppendSized(canonical, std::to_string(c.fields.size()));
    for (const FieldChange& f : c.fields) {
      AppendSized(canonical, f.field);
      AppendSizedValue(canonical, f.value);
      AppendSizedValue(canonical, f.base);
    }
    if (bounds) bounds->push_back(canonical.size());
  }
  return canonical;
}

}  // namespace

std::string PushRequestHash(const PushRequest& request) {
  return std::string(kPushRequestHashPrefix) + Sha256Hex(CanonicalPush(request, nullptr));
}

std::string PushRequestHash(const PushRequest& request, std::vector<ChangeDigest>& digests) {
  std::vector<size_t> bounds;
  const std::string canonical = CanonicalPush(request, &bounds);
  digests.resize(request.changes.size());
  for (size_t i = 0; i < digests.size(); ++i) {
    const std::string_view part = std::string_view(canonical).substr(bounds[i], bounds[i + 1] - bounds[i]);
    const std::array<unsigned char, 32> sha = Sha256(part);
    for (size_t b = 0; b < 16; ++b) {
      digests[i][2 * b] = kHexDigits[sha[b] >> 4];
      digests[i][2 * b + 1] = kHexDigits[sha[b] & 0xf];
    }
  }
  return std::string(kPushRequestHashPrefix) + Sha256Hex(canonical);
}

std::string PushRequestHashV1(const PushRequest& request) { return Sha256Hex(EncodePushRequest(request)); }

namespace internal {

Status TakeId(Scalar& id, const std::string& where, Change& c) {
  RELAIS_TRY(CheckString(id, where, "id", 36));
  if (!IsUuid(id.text)) return Usage(where + ".id", "not a UUID");
  c.change_id = std::move(id.text);
  return OkStatus();
}

Status TakeRecord(Scalar& record, const std::string& where, Change& c, ChangeFacts& facts) {
  RELAIS_TRY(CheckString(record, where, "record", 36));
  if (!IsUuid(record.text)) return Usage(where + ".record", "not a UUID");
  schema::Value record_id = std::move(record.text);
  static const schema::Field kRecord{"record", schema::FieldType::kId, true, schema::MergeRule::kImmutable, ""};
  if (schema::NormalizeInPlace(kRecord, record_id)) facts.normalized = true;
  c.record_id = std::move(record_id).value();
  return OkStatus();
}

Status TakeHlc(Scalar& hlc, const std::string& where, Change& c) {
  RELAIS_TRY(CheckString(hlc, where, "hlc", 100));
  if (!Hlc::Parse(hlc.text)) return Usage(where + ".hlc", "not a clock stamp");
  c.hlc = std::move(hlc.text);
  return OkStatus();
}

Status TakeCreateValues(const schema::Table& table, const std::vector<CreateValue>& in_key_order,
                        const std::string& where, Change& c, ChangeFacts& facts, std::vector<schema::Value>& record) {
  record.assign(table.fields.size(), schema::Value());
  for (const CreateValue& m : in_key_order) {
    auto fwhere = [&] { return where + ".values." + std::string(m.key); };
    if (m.index < 0) return Usage(fwhere(), "unknown field of " + c.table);
    const schema::Field& f = table.fields[static_cast<size_t>(m.index)];
    if (f.central_only && m.value->kind != Scalar::kNull) {
      return MakeError(ErrorCode::kValidation, fwhere() + ": is written by central staff only");
    }
    auto v = TakeValue(f, *m.value, fwhere);
    if (!v) return v.error();
    if (schema::NormalizeInPlace(f, *v)) facts.normalized = true;
    record[static_cast<size_t>(m.index)] = std::move(*v);
  }
  c.fields.reserve(in_key_order.size());
  for (size_t i = 0; i < record.size(); ++i) {
    auto st = schema::ValidateValue(table.fields[i], record[i]);
    if (!st) return MakeError(ErrorCode::kValidation, where + ".values." + st.error().message);
    if (record[i])
      c.fields.push_back(FieldChange{std::string(table.fields[i].name), std::move(record[i]), std::nullopt});
  }
  facts.validated = true;
  return OkStatus();
}

}  // namespace internal

Result<Change> internal::DecodeChange(RawChange& raw, const std::string& where, ChangeFacts& facts) {
  if (!raw.is_object) return Usage(where, "expected an object");
  if (raw.unknown_key) return Usage(where, "unknown key \"" + *raw.unknown_key + "\"");
  Change c;
  RELAIS_TRY(TakeId(raw.id, where, c));
  RELAIS_TRY(CheckString(raw.table, where, "table", 64));
  const schema::Table* table = schema::FindTable(raw.table.text);
  if (!table) return Usage(where + ".table", "unknown table \"" + raw.table.text + "\"");
  c.table = raw.table.text;
  RELAIS_TRY(TakeRecord(raw.record, where, c, facts));
  RELAIS_TRY(CheckString(raw.op, where, "op", 16));
  if (raw.op.text == "create")
    c.op = Op::kCreate;
  else if (raw.op.text == "update")
    c.op = Op::kUpdate;
  else
    return Usage(where + ".op", "must be \"create\" or \"update\"");
  RELAIS_TRY(TakeHlc(raw.hlc, where, c));
  if (raw.base_version.kind != Scalar::kInt) return Usage(where + ".base_version", "missing or not a whole number");
  if (raw.base_version.number < 0) return Usage(where + ".base_version", "must not be negative");
  c.base_version = raw.base_version.number;

  if (c.op == Op::kCreate) {
    // A create makes its record: it has seen no version of it (docs/PROTOCOL.md, "Refusals").
    if (c.base_version != 0) {
      return MakeError(ErrorCode::kValidation,
                       where + ".base_version: a create has base_version 0, not " + std::to_string(c.base_version));
    }
    if (raw.set.kind != Scalar::kMissing || raw.base.kind != Scalar::kMissing) {
      return Usage(where, "a create carries \"values\", not \"set\"/\"base\"");
    }
    if (raw.values.kind != Scalar::kObject) return Usage(where + ".values", "missing or not an object");
    std::vector<CreateValue> values;
    values.reserve(raw.values_members.size());
    for (RawMember* m : InKeyOrder(raw.values_members))
      values.push_back(CreateValue{m->key, table->FieldIndex(m->key), &m->value});
    std::vector<schema::Value> record;
    RELAIS_TRY(TakeCreateValues(*table, values, where, c, facts, record));
    return c;
  }

  if (raw.values.kind != Scalar::kMissing)
    return Usage(where, "an update carries \"set\" and \"base\", not \"values\"");
  if (table->kind == schema::TableKind::kAppendOnly) {
    return MakeError(ErrorCode::kValidation, where + ": " + c.table + " entries are append-only and cannot be edited");
  }
  if (raw.set.kind != Scalar::kObject || raw.set_members.empty())
    return Usage(where + ".set", "missing, empty or not an object");
  if (raw.base.kind != Scalar::kMissing && raw.base.kind != Scalar::kObject)
    return Usage(where + ".base", "not an object");
  static const std::vector<RawMember> kNoMembers;
  const std::vector<RawMember>& base = raw.base.kind == Scalar::kObject ? raw.base_members : kNoMembers;
  for (const RawMember* b : InKeyOrder(base)) {
    if (!FindMember(raw.set_members, b->key))
      return Usage(where + ".base." + b->key, "a base value for a field that is not set");
  }
  c.fields.reserve(raw.set_members.size());
  for (RawMember* m : InKeyOrder(raw.set_members)) {
    auto fwhere = [&] { return where + ".set." + m->key; };
    const schema::Field* f = table->FindField(m->key);
    if (!f) return Usage(fwhere(), "unknown field of " + c.table);
    if (f->central_only) return MakeError(ErrorCode::kValidation, fwhere() + ": is written by central staff only");
    if (f->rule == schema::MergeRule::kImmutable) {
      return MakeError(ErrorCode::kValidation, fwhere() + ": cannot be changed once created");
    }
    auto v = TakeValue(*f, m->value, fwhere);
    if (!v) return v.error();
    schema::Value value = std::move(*v);
    if (schema::NormalizeInPlace(*f, value)) facts.normalized = true;
    auto st = schema::ValidateValue(*f, value);
    if (!st) return MakeError(ErrorCode::kValidation, where + ".set." + st.error().message);
    schema::Value base_value;
    if (const RawMember* b = FindMember(base, m->key)) {
      auto bv = ValueFromScalar(*f, b->value, [&] { return where + ".base." + m->key; });
      if (!bv) return bv.error();
      if (*bv && !IsValidUtf8(**bv)) return Usage(where + ".base." + m->key, "not valid UTF-8");
      base_value = std::move(*bv);
    }
    c.fields.push_back(FieldChange{m->key, std::move(value), std::move(base_value)});
  }
  return c;
}

namespace {

// The SAX events of a push request (sync/json_sax.h). Not thread-safe; one request per reader.
class PushReader {
 public:
  bool null() {
    Put(Scalar::kNull);
    return true;
  }
  bool boolean(bool) {
    Put(Scalar::kBool);
    return true;
  }
  bool number_integer(int64_t n) {
    if (Scalar* s = Put(Scalar::kInt)) s->number = n;
    return true;
  }
  bool number_unsigned(uint64_t n) {
    if (Scalar* s = Put(Scalar::kInt)) s->number = static_cast<int64_t>(n);
    return true;
  }
  bool number_float(double, const std::string&) {
    Put(Scalar::kFloat);
    return true;
  }
  bool string(std::string& text) {
    if (Scalar* s = Put(Scalar::kString)) s->text.assign(text);
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
    Frame& f = stack_.back();
    if (f.role == Role::kColumns) {
      // A column given twice keeps its place and takes its last value.
      column_ = nullptr;
      for (RawColumn& c : raw_.column_members) {
        if (c.name == name) column_ = &c;
      }
      if (!column_) column_ = &raw_.column_members.emplace_back(RawColumn{name, {}, {}});
      column_->cells.clear();
      return true;
    }
    if (f.role != Role::kMembers) {
      f.key.assign(name);
      return true;
    }
    // A member given twice keeps its place and takes its last value.
    member_ = nullptr;
    for (RawMember& m : *f.members) {
      if (m.key == name) member_ = &m;
    }
    if (!member_) member_ = &f.members->emplace_back(RawMember{name, {}});
    return true;
  }

  // The request read, or the first error by the DOM decoder's precedence. `parsed`: whether the
  // text was valid JSON. On success the facts of its changes are in facts().
  Result<PushRequest> Finish(bool parsed) {
    if (!parsed) return MakeError(ErrorCode::kUsage, kNotJson);
    if (document_.kind != Scalar::kObject) return Usage("push", "expected a JSON object");
    RELAIS_TRY(CheckProtocolVersion(protocol_.kind == Scalar::kInt ? &protocol_.number : nullptr));
    if (unknown_key_) return Usage("push", "unknown key \"" + *unknown_key_ + "\"");
    RELAIS_TRY(CheckString(batch_, "push", "batch", 100));
    if (!IsKey(batch_.text)) return Usage("push.batch", "only letters, digits, '-' and '_' are allowed");
    if (changes_.kind != Scalar::kArray) return Usage("push.changes", "missing or not an array");
    if (count_ > kMaxChangesPerPush) {
      return MakeError(ErrorCode::kTooLarge, "push.changes: " + std::to_string(count_) +
                                                 " changes, more than the limit of " +
                                                 std::to_string(kMaxChangesPerPush) + " per batch");
    }
    if (error_) return *error_;
    request_.batch_key = batch_.text;
    return std::move(request_);
  }

  std::vector<ChangeFacts>& facts() { return facts_; }

 private:
  // kColumns: a run's `columns` object; kColumn: one column's array of cells.
  enum class Role { kTop, kChanges, kChange, kMembers, kColumns, kColumn, kSkip };
  struct Frame {
    Role role;
    std::string key;                            // kTop, kChange: the member being read
    std::vector<RawMember>* members = nullptr;  // kMembers
    RawColumn* column = nullptr;                // kColumn
  };

  static std::string Where(size_t index) { return "changes[" + std::to_string(index) + "]"; }

  // Where a value that starts now goes; null when it is not kept.
  Scalar* Target() {
    if (stack_.empty()) return &document_;
    Frame& f = stack_.back();
    switch (f.role) {
      case Role::kTop:
        if (f.key == "protocol") return &protocol_;
        if (f.key == "batch") return &batch_;
        if (f.key == "changes") {
          // Given twice, the last one counts.
          request_.changes.clear();
          facts_.clear();
          ids_.clear();
          count_ = 0;
          elements_ = 0;
          error_.reset();
          return &changes_;
        }
        NoteUnknown(unknown_key_, f.key);
        return nullptr;
      case Role::kChange: {
        const std::string& k = f.key;
        if (k == "id") return &raw_.id;
        if (k == "table") return &raw_.table;
        if (k == "record") return &raw_.record;
        if (k == "op") return &raw_.op;
        if (k == "hlc") return &raw_.hlc;
        if (k == "base_version") return &raw_.base_version;
        if (k == "values") return &raw_.values;
        if (k == "set") return &raw_.set;
        if (k == "base") return &raw_.base;
        if (k == "run") return &raw_.run;
        if (k == "columns") return &raw_.columns;
        NoteUnknown(raw_.unknown_key, k);
        return nullptr;
      }
      case Role::kMembers:
        return &member_->value;
      case Role::kColumns:
        return &column_->value;
      case Role::kColumn:
        return &f.column->cells.emplace_back();
      case Role::kChanges:
      case Role::kSkip:
        return nullptr;
    }
    return nullptr;
  }

  // An element of `changes` starts: true when it is to be read as a change (an object, within the
  // limit, no earlier change refused).
  bool StartChange(bool object) {
    const size_t index = elements_++;
    ++count_;
    if (count_ > kMaxChangesPerPush || error_) return false;
    if (!object) {
      error_ = Usage(Where(index), "expected an object");
      return false;
    }
    raw_.is_object = true;
    raw_.unknown_key.reset();
    for (Scalar* s : {&raw_.id, &raw_.table, &raw_.record, &raw_.op, &raw_.hlc, &raw_.base_version, &raw_.values,
                      &raw_.set, &raw_.base, &raw_.run, &raw_.columns}) {
      s->kind = Scalar::kMissing;
    }
    raw_.column_members.clear();
    return true;
  }

  void EndChange() {
    const size_t index = elements_ - 1;
    if (internal::IsRun(raw_)) {
      // A run counts its changes towards the batch limit (checked by Finish) before it is decoded.
      const size_t length = internal::RunLength(raw_);
      if (length > 1) count_ += length - 1;
      if (count_ > kMaxChangesPerPush) return;
      auto changes = internal::ExpandRun(raw_, Where(index), run_facts_);
      if (!changes) {
        error_ = changes.error();
        return;
      }
      for (size_t k = 0; k < changes->size(); ++k) {
        if (!Keep(std::move((*changes)[k]), run_facts_[k],
                  [&] { return Where(index) + "[" + std::to_string(k) + "]"; }))
          return;
      }
      return;
    }
    ChangeFacts facts;
    auto c = DecodeChange(raw_, Where(index), facts);
    if (!c) {
      error_ = c.error();
      return;
    }
    Keep(std::move(*c), facts, [&] { return Where(index); });
  }

  // Adds a decoded change to the request; false (and the error kept) when its id is already there.
  template <typename WhereFn>
  bool Keep(Change&& c, ChangeFacts facts, WhereFn&& where) {
    if (!ids_.insert(c.change_id).second) {
      error_ = Usage(where() + ".id", "appears twice in the batch");
      return false;
    }
    request_.changes.push_back(std::move(c));
    facts_.push_back(facts);
    return true;
  }

  Scalar* Put(Scalar::Kind kind) {
    if (!stack_.empty() && stack_.back().role == Role::kChanges) {
      StartChange(false);
      return nullptr;
    }
    Scalar* s = Target();
    if (s) s->kind = kind;
    return s;
  }

  void Open(bool object) {
    if (!stack_.empty() && stack_.back().role == Role::kChanges) {
      stack_.push_back(Frame{StartChange(object) ? Role::kChange : Role::kSkip, {}, nullptr, nullptr});
      return;
    }
    const bool in_change = !stack_.empty() && stack_.back().role == Role::kChange;
    const bool in_columns = !stack_.empty() && stack_.back().role == Role::kColumns;
    Scalar* s = Target();
    Frame frame{Role::kSkip, {}, nullptr, nullptr};
    if (s) {
      s->kind = object ? Scalar::kObject : Scalar::kArray;
      if (s == &document_ && object) {
        frame.role = Role::kTop;
      } else if (s == &changes_ && !object) {
        frame.role = Role::kChanges;
      } else if (in_change && object && (s == &raw_.values || s == &raw_.set || s == &raw_.base)) {
        frame.role = Role::kMembers;
        frame.members = s == &raw_.values ? &raw_.values_members
                        : s == &raw_.set  ? &raw_.set_members
                                          : &raw_.base_members;
        frame.members->clear();
      } else if (in_change && object && s == &raw_.columns) {
        frame.role = Role::kColumns;
        raw_.column_members.clear();
      } else if (in_columns && !object) {
        frame.role = Role::kColumn;
        frame.column = column_;
      }
    }
    stack_.push_back(std::move(frame));
  }

  void Close() {
    const Role role = stack_.back().role;
    stack_.pop_back();
    if (role == Role::kChange) EndChange();
  }

  std::vector<Frame> stack_;
  Scalar document_, protocol_, batch_, changes_;
  std::optional<std::string> unknown_key_;
  RawChange raw_;
  RawMember* member_ = nullptr;
  RawColumn* column_ = nullptr;  // the member of a run's columns being read
  size_t elements_ = 0;          // elements of `changes`
  size_t count_ = 0;             // changes they hold (a run holds several)
  std::optional<Error> error_;
  std::unordered_set<std::string> ids_;
  PushRequest request_;
  std::vector<ChangeFacts> facts_;      // one per change of request_
  std::vector<ChangeFacts> run_facts_;  // those of the run being expanded
};

// The fields of a change as the members of one JSON object, in nlohmann's order (by name); a field
// named twice counts once, its last occurrence, as when the members were assigned one by one.
std::vector<const FieldChange*> MembersByName(const std::vector<FieldChange>& fields, bool skip_nulls) {
  std::vector<const FieldChange*> members;
  members.reserve(fields.size());
  for (const FieldChange& f : fields) {
    if (!skip_nulls || f.value) members.push_back(&f);
  }
  std::stable_sort(members.begin(), members.end(),
                   [](const FieldChange* a, const FieldChange* b) { return a->field < b->field; });
  std::vector<const FieldChange*> last;
  last.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    if (i + 1 < members.size() && members[i + 1]->field == members[i]->field) continue;
    last.push_back(members[i]);
  }
  return last;
}

// Appends one change as a DOM of its members would dump it (docs/PROTOCOL.md, "POST /v1/push"):
// members in byte-wise order, integer fields as numbers.
void AppendChange(std::string& out, const Change& c) {
  const schema::Table* table = schema::FindTable(c.table);
  auto value = [&](const std::string& field, const schema::Value& v) {
    const schema::Field* f = table ? table->FindField(field) : nullptr;
    if (!f) {
      if (v)
        AppendJsonString(out, *v);
      else
        out += "null";
      return;
    }
    AppendJsonValue(out, *f, v);
  };
  auto object = [&](const std::vector<const FieldChange*>& members, bool base) {
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i) out += ',';
      AppendJsonString(out, members[i]->field);
      out += ':';
      value(members[i]->field, base ? members[i]->base : members[i]->value);
    }
    out += '}';
  };
  out += '{';
  std::vector<const FieldChange*> members = MembersByName(c.fields, c.op == Op::kCreate);
  if (c.op == Op::kUpdate) {
    out += "\"base\":";
    object(members, true);
    out += ',';
  }
  out += "\"base_version\":";
  AppendJsonInt(out, c.base_version);
  out += ",\"hlc\":";
  AppendJsonString(out, c.hlc);
  out += ",\"id\":";
  AppendJsonString(out, c.change_id);
  out += ",\"op\":";
  AppendJsonString(out, ToString(c.op));
  out += ",\"record\":";
  AppendJsonString(out, c.record_id);
  if (c.op == Op::kUpdate) {
    out += ",\"set\":";
    object(members, false);
  }
  out += ",\"table\":";
  AppendJsonString(out, c.table);
  if (c.op == Op::kCreate) {
    out += ",\"values\":";
    object(members, false);
  }
  out += '}';
}

}  // namespace

void internal::AppendChangeRow(std::string& out, const Change& change) { AppendChange(out, change); }

// ---- push ---------------------------------------------------------------------------------------

std::string EncodePushRequest(const PushRequest& request) {
  // Written directly, in the very bytes the DOM would dump: the centre hashes this text
  // (sync/json_text.h).
  std::string out;
  out.reserve(64 + request.changes.size() * 512);
  out += "{\"batch\":";
  AppendJsonString(out, request.batch_key);
  out += ",\"changes\":[";
  for (size_t i = 0; i < request.changes.size(); ++i) {
    if (i) out += ',';
    AppendChange(out, request.changes[i]);
  }
  out += "],\"protocol\":";
  AppendJsonInt(out, kProtocolVersion);
  out += '}';
  return out;
}

Result<PushRequest> DecodePushRequest(std::string_view text, std::vector<ChangeFacts>& facts) {
  RELAIS_TRY(CheckBody(text));
  PushReader reader;
  const bool parsed = ParseJsonSax(text, reader);
  auto request = reader.Finish(parsed);
  if (request) facts = std::move(reader.facts());
  return request;
}

Result<PushRequest> DecodePushRequest(std::string_view text) {
  std::vector<ChangeFacts> facts;
  return DecodePushRequest(text, facts);
}

// ---- shared with the pull page codec (sync/pull_codec.cc) -----------------------------------------

Status CheckMessageText(std::string_view text) { return CheckBody(text); }

Status CheckMessageProtocol(const int64_t* version) { return CheckProtocolVersion(version); }

// ---- errors and records -------------------------------------------------------------------------

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
      return "bad_request";
    case ErrorCode::kValidation:
      return "validation";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kAuth:
      return "unauthorized";
    case ErrorCode::kWipeOrdered:
      return "revoked_wipe";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kProtocol:
      return "protocol";
    case ErrorCode::kNetwork:
      return "network";
    case ErrorCode::kHttp:
      return "http";
    case ErrorCode::kTooNew:
      return "too_new";
    case ErrorCode::kLocked:
      return "locked";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::string EncodeError(const Error& error, std::string_view change_id) {
  json e = {{"code", ErrorCodeName(error.code)}, {"message", error.message}};
  if (!change_id.empty()) e["change"] = std::string(change_id);
  return json{{"error", std::move(e)}}.dump();
}

Error DecodeError(std::string_view text, ErrorCode fallback) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_object() && doc["error"].is_object() && doc["error"]["message"].is_string()) {
    std::string code;
    (void)OptionalString(doc["error"], "code", code);
    ErrorCode ec = fallback;
    for (ErrorCode c :
         {ErrorCode::kUsage, ErrorCode::kValidation, ErrorCode::kNotFound, ErrorCode::kConflict, ErrorCode::kAuth,
          ErrorCode::kWipeOrdered, ErrorCode::kForbidden, ErrorCode::kTooLarge, ErrorCode::kProtocol,
          ErrorCode::kInternal}) {
      if (code == ErrorCodeName(c)) ec = c;
    }
    std::string message = doc["error"]["message"].get<std::string>();
    if (doc["error"]["change"].is_string()) message += " [change " + doc["error"]["change"].get<std::string>() + "]";
    return MakeError(ec, message);
  }
  return MakeError(fallback, "la réponse n'est pas un message d'erreur d'un centre Relais");
}

std::string EncodeWipeOrder(const std::string& message, const std::string& store_id) {
  json e = {{"code", ErrorCodeName(ErrorCode::kWipeOrdered)}, {"message", message}, {"centre", {{"store_id", store_id}}}};
  return json{{"error", std::move(e)}}.dump();
}

std::optional<std::string> DecodeWipeOrder(std::string_view text) {
  const json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  auto error = doc.find("error");
  if (error == doc.end() || !error->is_object()) return std::nullopt;
  auto code = error->find("code");
  if (code == error->end() || *code != ErrorCodeName(ErrorCode::kWipeOrdered)) return std::nullopt;
  auto centre = error->find("centre");
  if (centre == error->end() || !centre->is_object()) return std::nullopt;
  auto store_id = centre->find("store_id");
  if (store_id == centre->end() || !store_id->is_string() || store_id->get_ref<const std::string&>().empty())
    return std::nullopt;
  return store_id->get<std::string>();
}

std::string EncodeRecordValues(const schema::Table& table, const std::vector<schema::Value>& values) {
  std::string out = "{";
  bool first = true;
  for (size_t i : FieldsByName(table)) {
    if (i >= values.size() || !values[i]) continue;
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, table.fields[i].name);
    out += ':';
    AppendJsonValue(out, table.fields[i], values[i]);
  }
  out += '}';
  return out;
}

Result<std::vector<schema::Value>> DecodeRecordValues(const schema::Table& table, std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return MakeError(ErrorCode::kProtocol, "record is not a JSON object");
  std::vector<schema::Value> values(table.fields.size());
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    int index = table.FieldIndex(it.key());
    if (index < 0) return MakeError(ErrorCode::kProtocol, "record holds unknown field " + it.key());
    auto v = ValueFromJson(table.fields[static_cast<size_t>(index)], it.value(), [&] { return it.key(); });
    if (!v) return MakeError(ErrorCode::kProtocol, v.error().message);
    values[static_cast<size_t>(index)] = *v;
  }
  return values;
}

}  // namespace relais::sync
