// The merge rules (sync/merge.h) as a specification: every field of every table under the rule the
// schema declares for it (schema/model.cc), for disjoint edits, same-field edits, equal stamps,
// values cleared to null, and changes that mix outcomes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sync/merge.h"
#include "tests/sync/builders.h"

using namespace relais;
using namespace relais::sync;
using relais::testing::ACase;
using relais::testing::AnUpdate;

namespace {

const std::string kEarly = "1700000000000-000000-deva";
const std::string kLate = "1700000999000-000000-devb";
const std::string kId = "0190a1b2-0000-7000-8000-000000000001";
constexpr int64_t kBaseVersion = 5;

// One field of one table, named "table.field" in test output.
struct FieldRef {
  const schema::Table* table;
  size_t index;

  const schema::Field& field() const { return table->fields[index]; }
  std::string name() const { return std::string(field().name); }
  std::string label() const { return std::string(table->name) + "." + name(); }
};

// Every field of every table whose declared rule is `rule`.
std::vector<FieldRef> FieldsRuledBy(schema::MergeRule rule) {
  std::vector<FieldRef> out;
  for (const schema::Table& table : schema::Tables()) {
    for (size_t i = 0; i < table.fields.size(); ++i) {
      if (table.fields[i].rule == rule) out.push_back({&table, i});
    }
  }
  return out;
}

std::vector<FieldRef> EveryField() {
  std::vector<FieldRef> out;
  for (auto rule : {schema::MergeRule::kLww, schema::MergeRule::kReview, schema::MergeRule::kImmutable}) {
    auto ruled = FieldsRuledBy(rule);
    out.insert(out.end(), ruled.begin(), ruled.end());
  }
  return out;
}

// A record of `table` at kBaseVersion whose every field holds "<tag> <field>". The merge compares
// values as text and never validates them: plain texts show where each value went.
schema::Record RecordOf(const schema::Table& table, const std::string& tag, int64_t version = kBaseVersion) {
  schema::Record r{kId, version, {}};
  for (const schema::Field& f : table.fields) r.values.emplace_back(tag + " " + std::string(f.name));
  return r;
}

schema::Value& At(schema::Record& r, const FieldRef& f) { return r.values[f.index]; }
schema::Value At(const MergeResult& r, const FieldRef& f) { return r.values[f.index]; }

// An update of `table` by a device stamped `hlc`, based on version `base_version`.
Change UpdateOf(const schema::Table& table, std::string hlc, std::vector<FieldChange> fields,
                int64_t base_version = kBaseVersion) {
  Change c;
  c.change_id = "0190a1b2-0000-7000-8000-0000000000ff";
  c.table = std::string(table.name);
  c.record_id = kId;
  c.op = Op::kUpdate;
  c.base_version = base_version;
  c.hlc = std::move(hlc);
  c.fields = std::move(fields);
  return c;
}

// The server's record after another device changed `f` from the base to `value` at `stamp`.
struct Server {
  schema::Record record;
  FieldStamps stamps;
};
Server ServerWith(const FieldRef& f, schema::Value value, const std::string& stamp) {
  Server s{RecordOf(*f.table, "base", kBaseVersion + 4), {}};
  At(s.record, f) = std::move(value);
  s.stamps[f.name()] = stamp;
  return s;
}

// The fields of `table` other than `f`'s.
FieldRef Another(const FieldRef& f) { return {f.table, (f.index + 1) % f.table->fields.size()}; }

}  // namespace

TEST_CASE("every synced table declares a rule for each field, and the merge knows every rule", "[merge]") {
  // The generated cases below cover the fields by rule: together they must cover every field.
  size_t fields = 0;
  for (const schema::Table& table : schema::Tables()) fields += table.fields.size();
  CHECK(EveryField().size() == fields);
  CHECK_FALSE(FieldsRuledBy(schema::MergeRule::kLww).empty());
  CHECK_FALSE(FieldsRuledBy(schema::MergeRule::kReview).empty());
  CHECK_FALSE(FieldsRuledBy(schema::MergeRule::kImmutable).empty());
}

TEST_CASE("an edit of a field nobody else changed takes the device's value and stamp, whatever the rule", "[merge]") {
  const FieldRef f = GENERATE(from_range(EveryField()));
  INFO(f.label());
  const schema::Record current = RecordOf(*f.table, "base");
  auto r = MergeUpdate(*f.table, current, {{f.name(), kEarly}},
                       UpdateOf(*f.table, kLate, {{f.name(), "device " + f.name(), "base " + f.name()}}));
  CHECK(r.status == ChangeStatus::kApplied);
  CHECK(At(r, f) == "device " + f.name());
  CHECK(r.stamps.at(f.name()) == kLate);
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].how == Resolution::kTookDevice);
  CHECK(r.outcomes[0].field == static_cast<int>(f.index));
  CHECK(r.changed);
}

TEST_CASE("edits of different fields merge: each side keeps its own, and the change is reported merged", "[merge]") {
  const FieldRef f = GENERATE(from_range(EveryField()));
  const FieldRef other = Another(f);
  INFO(f.label() << " by the device, " << other.label() << " by another device before it");
  Server server = ServerWith(other, "server " + other.name(), kLate);
  auto r = MergeUpdate(*f.table, server.record, server.stamps,
                       UpdateOf(*f.table, kEarly, {{f.name(), "device " + f.name(), "base " + f.name()}}));
  CHECK(r.status == ChangeStatus::kMerged);  // other changes landed since the device's base
  CHECK(At(r, f) == "device " + f.name());
  CHECK(At(r, other) == "server " + other.name());
  CHECK(r.stamps.at(f.name()) == kEarly);  // an older stamp, but nobody else wrote this field
  CHECK(r.stamps.at(other.name()) == kLate);
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].how == Resolution::kTookDevice);
}

TEST_CASE("same-field edits of an lww field: the later stamp wins, and the losing value is reported", "[merge]") {
  const FieldRef f = GENERATE(from_range(FieldsRuledBy(schema::MergeRule::kLww)));
  const bool device_later = GENERATE(true, false);
  INFO(f.label() << (device_later ? ": the device's stamp is later" : ": the server's stamp is later"));
  Server server = ServerWith(f, "server " + f.name(), device_later ? kEarly : kLate);
  auto r = MergeUpdate(
      *f.table, server.record, server.stamps,
      UpdateOf(*f.table, device_later ? kLate : kEarly, {{f.name(), "device " + f.name(), "base " + f.name()}}));
  CHECK(r.status == ChangeStatus::kMerged);
  REQUIRE(r.outcomes.size() == 1);
  const FieldOutcome& out = r.outcomes[0];
  CHECK(out.base == "base " + f.name());
  CHECK(out.server == "server " + f.name());
  CHECK(out.device == "device " + f.name());
  CHECK(out.server_hlc == (device_later ? kEarly : kLate));
  if (device_later) {
    CHECK(out.how == Resolution::kLwwDevice);
    CHECK(At(r, f) == "device " + f.name());
    CHECK(r.stamps.at(f.name()) == kLate);
    CHECK(r.changed);
  } else {
    CHECK(out.how == Resolution::kLwwServer);
    CHECK(At(r, f) == "server " + f.name());
    CHECK(r.stamps.at(f.name()) == kLate);
    CHECK_FALSE(r.changed);
  }
}

TEST_CASE("same-field edits of a review field: the server keeps its value and the device's goes to review", "[merge]") {
  const FieldRef f = GENERATE(from_range(FieldsRuledBy(schema::MergeRule::kReview)));
  // Whichever stamp is later: review fields are never settled by the clock.
  const std::string device_stamp = GENERATE(kEarly, kLate);
  const std::string server_stamp = device_stamp == kEarly ? kLate : kEarly;
  INFO(f.label() << ", device stamped " << device_stamp);
  Server server = ServerWith(f, "server " + f.name(), server_stamp);
  auto r = MergeUpdate(*f.table, server.record, server.stamps,
                       UpdateOf(*f.table, device_stamp, {{f.name(), "device " + f.name(), "base " + f.name()}}));
  CHECK(r.status == ChangeStatus::kReview);
  CHECK(At(r, f) == "server " + f.name());
  CHECK(r.stamps.at(f.name()) == server_stamp);
  CHECK_FALSE(r.changed);
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].how == Resolution::kForReview);
  CHECK(r.outcomes[0].device == "device " + f.name());
  CHECK(r.outcomes[0].server == "server " + f.name());
}

TEST_CASE("same-field edits of an immutable field are never settled by overwriting: they go to review", "[merge]") {
  // Devices' edits of these fields are refused before any merge (append-only tables, fields only
  // the centre writes); should one reach the merge, the server's value stays.
  const FieldRef f = GENERATE(from_range(FieldsRuledBy(schema::MergeRule::kImmutable)));
  INFO(f.label());
  Server server = ServerWith(f, "server " + f.name(), kEarly);
  auto r = MergeUpdate(*f.table, server.record, server.stamps,
                       UpdateOf(*f.table, kLate, {{f.name(), "device " + f.name(), "base " + f.name()}}));
  CHECK(r.status == ChangeStatus::kReview);
  CHECK(At(r, f) == "server " + f.name());
  CHECK(r.outcomes[0].how == Resolution::kForReview);
  CHECK_FALSE(r.changed);
}

TEST_CASE("equal stamps on an lww field: the server's value stays, whichever value sorts first", "[merge]") {
  // A tie must be broken the same way on every run and for either order of the two values, or two
  // centres (or a retry) could settle it differently.
  const FieldRef f = GENERATE(from_range(FieldsRuledBy(schema::MergeRule::kLww)));
  const bool server_value_sorts_first = GENERATE(true, false);
  INFO(f.label() << (server_value_sorts_first ? ": server's value sorts first" : ": device's value sorts first"));
  const std::string low = "a " + f.name(), high = "z " + f.name();
  const std::string server_value = server_value_sorts_first ? low : high;
  const std::string device_value = server_value_sorts_first ? high : low;
  Server server = ServerWith(f, server_value, kLate);
  const Change change = UpdateOf(*f.table, kLate, {{f.name(), device_value, "base " + f.name()}});
  auto r = MergeUpdate(*f.table, server.record, server.stamps, change);
  CHECK(r.outcomes[0].how == Resolution::kLwwServer);
  CHECK(At(r, f) == server_value);
  CHECK(r.stamps.at(f.name()) == kLate);
  CHECK_FALSE(r.changed);
  // The same inputs, the same result.
  auto again = MergeUpdate(*f.table, server.record, server.stamps, change);
  CHECK(again.values == r.values);
  CHECK(again.stamps == r.stamps);
  CHECK(again.outcomes[0].how == r.outcomes[0].how);
}

TEST_CASE("a device's value equal to the server's changes nothing and keeps the later of the two stamps", "[merge]") {
  const FieldRef f = GENERATE(from_range(EveryField()));
  const std::string device_stamp = GENERATE(kEarly, kLate);
  const std::string server_stamp = device_stamp == kEarly ? kLate : kEarly;
  INFO(f.label() << ", device stamped " << device_stamp);
  Server server = ServerWith(f, "same " + f.name(), server_stamp);
  auto r = MergeUpdate(*f.table, server.record, server.stamps,
                       UpdateOf(*f.table, device_stamp, {{f.name(), "same " + f.name(), "base " + f.name()}}));
  CHECK(r.outcomes[0].how == Resolution::kSame);
  CHECK(r.values == server.record.values);
  CHECK_FALSE(r.changed);
  CHECK(r.stamps.at(f.name()) == kLate);
  CHECK(r.status == ChangeStatus::kMerged);  // the server's version moved on since the device's base
}

TEST_CASE("a field cleared to null by the device is merged as any other value", "[merge]") {
  const FieldRef f = GENERATE(from_range(EveryField()));
  INFO(f.label());
  SECTION("nobody else changed it: it is cleared") {
    const schema::Record current = RecordOf(*f.table, "base");
    auto r =
        MergeUpdate(*f.table, current, {}, UpdateOf(*f.table, kLate, {{f.name(), std::nullopt, "base " + f.name()}}));
    CHECK(r.outcomes[0].how == Resolution::kTookDevice);
    CHECK(At(r, f) == std::nullopt);
    CHECK(r.changed);
  }
  SECTION("the server changed it too: the field's rule decides, the clearing is a value like another") {
    Server server = ServerWith(f, "server " + f.name(), kEarly);
    auto r = MergeUpdate(*f.table, server.record, server.stamps,
                         UpdateOf(*f.table, kLate, {{f.name(), std::nullopt, "base " + f.name()}}));
    if (f.field().rule == schema::MergeRule::kLww) {
      CHECK(r.outcomes[0].how == Resolution::kLwwDevice);
      CHECK(At(r, f) == std::nullopt);
      CHECK(r.outcomes[0].server == "server " + f.name());  // the lost value is reported
    } else {
      CHECK(r.outcomes[0].how == Resolution::kForReview);
      CHECK(At(r, f) == "server " + f.name());
      CHECK(r.outcomes[0].device == std::nullopt);
    }
  }
  SECTION("the server cleared it and the device set it from the same base: a concurrent edit") {
    Server server = ServerWith(f, std::nullopt, kLate);
    auto r = MergeUpdate(*f.table, server.record, server.stamps,
                         UpdateOf(*f.table, kEarly, {{f.name(), "device " + f.name(), "base " + f.name()}}));
    CHECK(r.outcomes[0].how ==
          (f.field().rule == schema::MergeRule::kLww ? Resolution::kLwwServer : Resolution::kForReview));
    CHECK(At(r, f) == std::nullopt);  // the server's later clearing stands
  }
  SECTION("both cleared it: the same value") {
    Server server = ServerWith(f, std::nullopt, kEarly);
    auto r = MergeUpdate(*f.table, server.record, server.stamps,
                         UpdateOf(*f.table, kLate, {{f.name(), std::nullopt, "base " + f.name()}}));
    CHECK(r.outcomes[0].how == Resolution::kSame);
    CHECK_FALSE(r.changed);
  }
  SECTION("set from null on the device while the server kept null: taken") {
    schema::Record current = RecordOf(*f.table, "base");
    At(current, f) = std::nullopt;
    auto r = MergeUpdate(*f.table, current, {},
                         UpdateOf(*f.table, kEarly, {{f.name(), "device " + f.name(), std::nullopt}}));
    CHECK(r.outcomes[0].how == Resolution::kTookDevice);
    CHECK(At(r, f) == "device " + f.name());
  }
}

TEST_CASE("one change can mix outcomes: each field is settled on its own, in the change's order", "[merge]") {
  const schema::Table& cases = schema::CasesTable();
  auto ref = [&](std::string_view name) { return FieldRef{&cases, static_cast<size_t>(cases.FieldIndex(name))}; };
  const FieldRef commune = ref("commune"), phone = ref("phone"), email = ref("email"), sector = ref("sector"),
                 status = ref("status"), notes = ref("notes");
  REQUIRE(phone.field().rule == schema::MergeRule::kLww);
  REQUIRE(status.field().rule == schema::MergeRule::kReview);
  // The server: phone changed earlier, email later, sector to what the device also sends, status.
  schema::Record current = RecordOf(cases, "base", kBaseVersion + 3);
  At(current, phone) = "server phone";
  At(current, email) = "server email";
  At(current, sector) = "same sector";
  At(current, status) = "server status";
  const FieldStamps stamps = {{"phone", kEarly}, {"email", "1700000999999-000000-devc"}, {"status", kEarly}};
  const bool with_review = GENERATE(true, false);
  std::vector<FieldChange> fields = {
      {"commune", "device commune", "base commune"},  // nobody else: taken
      {"phone", "device phone", "base phone"},        // lww, device later: taken, server's reported
      {"email", "device email", "base email"},        // lww, server later: kept
      {"sector", "same sector", "base sector"},       // the same value
      {"notes", std::nullopt, "base notes"},          // cleared, nobody else: taken
  };
  if (with_review) fields.push_back({"status", "device status", "base status"});  // review
  INFO((with_review ? "with a review field" : "without a review field"));
  auto r = MergeUpdate(cases, current, stamps, UpdateOf(cases, kLate, fields));

  std::vector<Resolution> how;
  for (const FieldOutcome& o : r.outcomes) how.push_back(o.how);
  std::vector<Resolution> expected = {Resolution::kTookDevice, Resolution::kLwwDevice, Resolution::kLwwServer,
                                      Resolution::kSame, Resolution::kTookDevice};
  if (with_review) expected.push_back(Resolution::kForReview);
  CHECK(how == expected);
  CHECK(r.status == (with_review ? ChangeStatus::kReview : ChangeStatus::kMerged));
  CHECK(At(r, commune) == "device commune");
  CHECK(At(r, phone) == "device phone");
  CHECK(At(r, email) == "server email");
  CHECK(At(r, sector) == "same sector");
  CHECK(At(r, notes) == std::nullopt);
  CHECK(At(r, status) == "server status");
  CHECK(r.changed);  // a review field held back does not hold back the others
  CHECK(r.stamps.at("commune") == kLate);
  CHECK(r.stamps.at("phone") == kLate);
  CHECK(r.stamps.at("email") == "1700000999999-000000-devc");
  CHECK(r.stamps.at("sector") == kLate);
  CHECK(r.stamps.at("status") == kEarly);
  // Fields the change did not name are the server's, untouched.
  const FieldRef untouched = ref("referent");
  CHECK(At(r, untouched) == At(current, untouched));
  CHECK(r.stamps.count("referent") == 0);
}

TEST_CASE("a change on the current version with no concurrent edit is applied, not merged", "[merge]") {
  ACase base;
  auto r = MergeUpdate(schema::CasesTable(), base.record(), {}, AnUpdate(base, "phone", "0622334455", kLate));
  CHECK(r.status == ChangeStatus::kApplied);
  CHECK(r.values[static_cast<size_t>(schema::CasesTable().FieldIndex("phone"))] == "0622334455");
}

TEST_CASE("a field the table does not declare is left out of the merge", "[merge]") {
  const schema::Record current = RecordOf(schema::ContactsTable(), "base");
  auto r = MergeUpdate(schema::ContactsTable(), current, {},
                       UpdateOf(schema::ContactsTable(), kLate, {{"shoe_size", "42", std::nullopt}}));
  CHECK(r.outcomes.empty());
  CHECK(r.values == current.values);
  CHECK_FALSE(r.changed);
}

TEST_CASE("rebasing keeps pending local fields on top of pulled values", "[merge]") {
  const schema::Table& cases = schema::CasesTable();
  ACase local, pulled;
  local.With("phone", "0700000000");
  pulled.With("phone", "0611111111").With("email", "nouveau@exemple.fr");
  auto out = RebaseLocal(cases, pulled.record().values, local.record().values, {"phone"});
  CHECK(out[static_cast<size_t>(cases.FieldIndex("phone"))] == std::optional<std::string>("0700000000"));
  CHECK(out[static_cast<size_t>(cases.FieldIndex("email"))] == std::optional<std::string>("nouveau@exemple.fr"));
}
