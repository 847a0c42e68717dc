#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "sync/pull_codec.h"

using namespace relais;
using namespace relais::sync;

namespace {
const schema::Table& Cases() { return schema::CasesTable(); }
size_t Field(const char* name) { return static_cast<size_t>(Cases().FieldIndex(name)); }

schema::Record ACase(const std::string& id, int64_t version, const std::string& last_name) {
  schema::Record r{id, version, std::vector<schema::Value>(Cases().fields.size())};
  r.values[Field("last_name")] = last_name;
  r.values[Field("service_level")] = "2";
  r.values[Field("territory")] = "hautes-alpes-gap";
  return r;
}

PullPage APage() {
  PullPage page;
  page.since = 3;
  page.next = 12;
  page.more = true;
  page.now_ms = 1763900000000;
  page.records.push_back(
      {"contacts", schema::Record{"0190a1b2-0000-7000-8000-000000000009", 4,
                                  std::vector<schema::Value>(schema::ContactsTable().fields.size())}});
  page.records.push_back({"cases", ACase("0190a1b2-0000-7000-8000-000000000001", 7, "Névache \"l'aînée\" 🚲")});
  page.records.push_back({"cases", ACase("0190a1b2-0000-7000-8000-000000000002", 9, "Roux")});
  page.removed.push_back({"cases", "0190a1b2-0000-7000-8000-000000000003", 5, "corse-bastia"});
  page.removed.push_back({"followups", "0190a1b2-0000-7000-8000-000000000004", 6, ""});
  return page;
}

// The records in the order a decoded page holds them: by table name, then as sent.
std::vector<PulledRecord> ByTable(std::vector<PulledRecord> records) {
  std::stable_sort(records.begin(), records.end(),
                   [](const PulledRecord& a, const PulledRecord& b) { return a.table < b.table; });
  return records;
}

void CheckSameRecords(const std::vector<PulledRecord>& got, const std::vector<PulledRecord>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].table == want[i].table);
    CHECK(got[i].record.id == want[i].record.id);
    CHECK(got[i].record.version == want[i].record.version);
    CHECK(got[i].record.values == want[i].record.values);
  }
}

// A page of one cases table whose members after `columns` are `table_rest`.
std::string CasesPage(const std::string& columns, const std::string& table_rest) {
  return R"({"protocol":1,"since":0,"next":5,"more":false,"tables":{"cases":{"columns":)" + columns + table_rest +
         "}}}";
}
}  // namespace

TEST_CASE("a page laid out by column holds one array per column, in the order of columns", "[codec][pull]") {
  PullPage page = APage();
  const std::string wire = EncodePullPage(page, PullLayout::kColumns);
  CHECK(nlohmann::json::parse(wire).dump() == wire);  // as a DOM dumps it
  auto doc = nlohmann::json::parse(wire);
  const auto& cases = doc["tables"]["cases"];
  CHECK_FALSE(cases.contains("rows"));
  REQUIRE(cases["values"].size() == cases["columns"].size());
  CHECK(cases["columns"][0] == "id");
  CHECK(cases["values"][0] ==
        nlohmann::json({"0190a1b2-0000-7000-8000-000000000001", "0190a1b2-0000-7000-8000-000000000002"}));
  CHECK(cases["values"][1] == nlohmann::json({7, 9}));
  const size_t level = 2 + Field("service_level");
  CHECK(cases["columns"][level] == "service_level");
  CHECK(cases["values"][level] == nlohmann::json({2, 2}));
}

TEST_CASE("both layouts decode to the same page", "[codec][pull]") {
  PullPage page = APage();
  auto rows = DecodePullPage(EncodePullPage(page, PullLayout::kRows));
  auto columns = DecodePullPage(EncodePullPage(page, PullLayout::kColumns));
  REQUIRE(rows.ok());
  REQUIRE(columns.ok());
  CheckSameRecords(rows->records, ByTable(page.records));
  CheckSameRecords(columns->records, ByTable(page.records));
  CHECK(columns->since == 3);
  CHECK(columns->next == 12);
  CHECK(columns->more);
  CHECK(columns->now_ms == 1763900000000);
  REQUIRE(columns->removed.size() == 2);
  CHECK(columns->removed[0].seq == 5);
  CHECK(columns->removed[0].to == "corse-bastia");
  CHECK(columns->removed[1].to.empty());
  CHECK(EncodePullPage(*columns, PullLayout::kRows) == EncodePullPage(*rows, PullLayout::kRows));
}

TEST_CASE("a column page accepts the members of a table in any order after columns", "[codec][pull]") {
  auto page = DecodePullPage(
      CasesPage(R"(["id","version","last_name"])",
                R"(,"note":{"x":[1,2]},"values":[["0190a1b2-0000-7000-8000-000000000001"],[4],[null]])"));
  REQUIRE(page.ok());
  REQUIRE(page->records.size() == 1);
  CHECK(page->records[0].record.version == 4);
  CHECK_FALSE(page->records[0].record.values[Field("last_name")].has_value());
}

TEST_CASE("a malformed column page is refused with a message naming what is wrong", "[codec][pull]") {
  const std::string id = R"("0190a1b2-0000-7000-8000-000000000001")";
  auto [page, mention] = GENERATE_COPY(table<std::string, std::string>({
      {CasesPage(R"(["id","version","last_name"])", R"(,"values":[[)" + id + R"(],[4,5],["Roux"]])"),
       "column version of cases holds more values than column id"},
      {CasesPage(R"(["id","version","last_name"])", R"(,"values":[[)" + id + R"(],[4],[]])"),
       "column last_name of cases holds 0 values, column id 1"},
      {CasesPage(R"(["id","version","last_name"])", R"(,"values":[[)" + id + R"(],[4]])"),
       "the values of cases hold 2 columns, its columns name 3"},
      {CasesPage(R"(["id","version"])", R"(,"values":[[)" + id + R"(],[4],[5]])"),
       "hold more columns than its columns name"},
      {CasesPage(R"(["id","version","id"])", R"(,"rows":[])"), "column id of cases named twice"},
      {CasesPage(R"(["id","version","nickname"])", R"(,"values":[[)" + id + R"(],[4],["x"]])"),
       "unknown field cases.nickname"},
      {CasesPage(R"(["id","version","service_level"])", R"(,"values":[[)" + id + R"(],[4],["2"]])"),
       "cases.service_level: expected a whole number"},
      {CasesPage(R"(["id","version","last_name"])", R"(,"values":[[)" + id + R"(],[4],[["Roux"]]])"),
       "cases.last_name: expected a string"},
      {CasesPage(R"(["id","version","last_name"])", R"(,"values":[[)" + id + R"(],[4],"Roux"])"),
       "a column of cases is not an array"},
      {CasesPage(R"(["id","version","last_name"])", R"(,"values":[["x"],[4],["Roux"]])"), "a row has a bad id"},
      {CasesPage(R"(["version","last_name"])", R"(,"values":[[4],["Roux"]])"), "a row has no id"},
      {CasesPage(R"(["id","version"])", R"(,"values":[[)" + id + R"(],[4]],"rows":[])"), "rows or values twice"},
      {CasesPage(R"(["id","version"])", R"(,"values":[[)" + id + R"(],[4]],"columns":["id","version"])"),
       "columns of cases given twice"},
      {R"({"protocol":1,"since":0,"next":5,"more":false,"tables":{"cases":{"values":[[],[]],"columns":["id","version"]}}})",
       "columns must come before values"},
      {R"({"protocol":1,"since":0,"next":5,"more":false,"tables":{"cases":{"columns":["id","version"],"values":[[],[]]},"cases":{"columns":["id","version"],"rows":[]}}})",
       "table cases given twice"},
      {R"({"protocol":1,"since":0,"next":5,"more":false,"tables":{},"tables":{}})", "tables given twice"},
  }));
  CAPTURE(page);
  auto r = DecodePullPage(page);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kProtocol);
  CHECK(r.error().message.find(mention) != std::string::npos);
}

TEST_CASE("a pull page's text is checked before it is read", "[codec][pull]") {
  auto not_json =
      DecodePullPage(R"({"protocol":1,"since":0,"next":5,"more":false,"tables":{"cases":{"columns":["id","version"],)");
  REQUIRE_FALSE(not_json.ok());
  CHECK(not_json.error().code == ErrorCode::kUsage);
  auto not_utf8 = DecodePullPage("{\"protocol\":1,\"since\":0,\"next\":5,\"more\":false,\"tables\":{},\"x\":\"\xff\"}");
  REQUIRE_FALSE(not_utf8.ok());
  CHECK(not_utf8.error().message.find("UTF-8") != std::string::npos);
  auto old = DecodePullPage(R"({"protocol":2,"since":0,"next":5,"more":false,"tables":{"cases":7}})");
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().message.find("protocol: version 2") != std::string::npos);
}

TEST_CASE("a conflict notice types its values as records do: a whole-number field's as numbers", "[codec][pull]") {
  PullPage page;
  page.since = 0;
  page.next = 5;
  ConflictNotice n;
  n.id = 3;
  n.kind = "field";
  n.status = "settled";
  n.table = "cases";
  n.record_id = "0190a1b2-0000-7000-8000-000000000001";
  n.seq = 5;
  n.field = "service_level";
  n.base_value = "1";
  n.server_value = "2";
  n.device_value = "3";
  n.settled_value = "3";
  n.settlement = "device";
  page.conflicts.push_back(n);
  ConflictNotice text_field = n;
  text_field.id = 4;
  text_field.field = "status";
  text_field.base_value = "salarie";
  text_field.server_value.reset();
  text_field.device_value = "etudiant";
  text_field.settled_value = "etudiant";
  page.conflicts.push_back(text_field);
  const std::string text = EncodePullPage(page, PullLayout::kRows);
  nlohmann::json doc = nlohmann::json::parse(text);
  CHECK(doc["conflicts"][0]["base"] == 1);
  CHECK(doc["conflicts"][0]["server"] == 2);
  CHECK(doc["conflicts"][0]["device_value"] == 3);
  CHECK(doc["conflicts"][0]["settled_value"] == 3);
  CHECK(doc["conflicts"][1]["base"] == "salarie");
  CHECK(doc["conflicts"][1]["server"].is_null());
  auto read = DecodePullPage(text);
  REQUIRE(read.ok());
  REQUIRE(read->conflicts.size() == 2);
  CHECK(read->conflicts[0].server_value == schema::Value("2"));
  CHECK(read->conflicts[0].settled_value == schema::Value("3"));
  CHECK(read->conflicts[1].device_value == schema::Value("etudiant"));
  // A centre from before sent every value as text: still read.
  doc["conflicts"][0]["server"] = "2";
  auto older = DecodePullPage(doc.dump());
  REQUIRE(older.ok());
  CHECK(older->conflicts[0].server_value == schema::Value("2"));
}

TEST_CASE("a removal says where the record went in `to`, and its members unknown are left aside", "[codec][pull]") {
  const std::string head = R"({"protocol":1,"since":0,"next":5,"more":false,"tables":{},"removed":[)";
  auto page = DecodePullPage(
      head + R"({"id":"0190a1b2-0000-7000-8000-000000000001","seq":4,"table":"cases","to":"corse-bastia"},)" +
      R"({"id":"0190a1b2-0000-7000-8000-000000000002","seq":5,"table":"followups","to":null,"why":"x"}]})");
  REQUIRE(page.ok());
  REQUIRE(page->removed.size() == 2);
  CHECK(page->removed[0].to == "corse-bastia");
  CHECK(page->removed[1].to.empty());
  // A centre from before `to` sends none; the removal is read as it always was.
  const std::string wire = EncodePullPage(*page, PullLayout::kRows);
  CHECK(nlohmann::json::parse(wire)["removed"][1].count("to") == 0);
  auto bad = DecodePullPage(head + R"({"id":"0190a1b2-0000-7000-8000-000000000001","seq":4,"table":"cases","to":7}]})");
  CHECK_FALSE(bad.ok());
}
