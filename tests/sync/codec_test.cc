#include <catch2/catch.hpp>

#include "sync/codec.h"
#include "sync/outbox.h"

#include <nlohmann/json.hpp>

#include "sync/json_text.h"

using namespace relais;
using namespace relais::sync;

namespace {
Change ACreate() {
  Change c;
  c.change_id = "0190a1b2-0000-7000-8000-0000000000aa";
  c.table = "cases";
  c.record_id = "0190a1b2-0000-7000-8000-000000000001";
  c.op = Op::kCreate;
  c.hlc = "1700000000000-000000-deva";
  c.fields = {{"last_name", "Névache", {}},
              {"first_name", "Zoé", {}},
              {"opened_on", "2026-03-01", {}},
              {"service_level", "2", {}},
              {"territory", "hautes-alpes-gap", {}}};
  return c;
}
std::string PushWith(const std::string& change_json) {
  return R"({"protocol":1,"batch":"b1","changes":[)" + change_json + "]}";
}
}  // namespace

TEST_CASE("a push request round-trips through the codec", "[codec]") {
  PushRequest req{"batch-1", {ACreate()}};
  std::string wire = EncodePushRequest(req);
  CHECK(wire.find("\"service_level\":2") != std::string::npos);  // integers travel as numbers
  auto back = DecodePushRequest(wire);
  REQUIRE(back.ok());
  REQUIRE(back->changes.size() == 1);
  CHECK(back->changes[0].fields.size() == 5);
  CHECK(back->batch_key == "batch-1");
}

TEST_CASE("the push decoder tells, per change, whether it normalised it and whether it checked a create", "[codec]") {
  Change as_sent = ACreate();
  Change spaced = ACreate();
  spaced.change_id = "0190a1b2-0000-7000-8000-0000000000ab";
  spaced.record_id = "0190a1b2-0000-7000-8000-000000000002";
  spaced.fields[0].value = "Névache  ";  // trailing spaces: taken off
  Change update;
  update.change_id = "0190a1b2-0000-7000-8000-0000000000ac";
  update.table = "cases";
  update.record_id = as_sent.record_id;
  update.op = Op::kUpdate;
  update.base_version = 1;
  update.hlc = "1700000000001-000000-deva";
  update.fields = {{"phone", "0611223344 ", "0600000000"}};
  std::vector<ChangeFacts> facts;
  auto back = DecodePushRequest(EncodePushRequest(PushRequest{"b", {as_sent, spaced, update}}), facts);
  REQUIRE(back.ok());
  REQUIRE(facts.size() == 3);
  CHECK_FALSE(facts[0].normalized);
  CHECK(facts[0].validated);
  CHECK(facts[1].normalized);
  CHECK(facts[1].validated);
  CHECK(back->changes[1].fields[0].value == "Névache");
  CHECK(facts[2].normalized);
  CHECK_FALSE(facts[2].validated);  // only a create is checked whole
}

TEST_CASE("hostile push requests are refused with a message naming the place", "[codec]") {
  const std::string good_head =
      R"({"id":"0190a1b2-0000-7000-8000-0000000000aa","record":"0190a1b2-0000-7000-8000-000000000001","hlc":"1700000000000-000000-deva","base_version":0,)";
  struct Case {
    std::string body;
    ErrorCode code;
    std::string mention;
  };
  auto c = GENERATE_REF(values<Case>({
      {"not json", ErrorCode::kUsage, "not valid JSON"},
      {R"({"protocol":2,"batch":"b","changes":[]})", ErrorCode::kProtocol, "version 2"},
      {R"({"batch":"b","changes":[]})", ErrorCode::kProtocol, "protocol"},
      {R"({"protocol":1,"batch":"b","changes":{}})", ErrorCode::kUsage, "changes"},
      {R"({"protocol":1,"batch":"b c","changes":[]})", ErrorCode::kUsage, "batch"},
      {PushWith(good_head + R"("table":"secrets","op":"create","values":{}})"), ErrorCode::kUsage, "unknown table"},
      {PushWith(
           good_head +
           R"("table":"cases","op":"create","values":{"last_name":"A","first_name":"B","opened_on":"2026-01-01","shoe_size":42}})"),
       ErrorCode::kUsage, "shoe_size"},
      {PushWith(
           good_head +
           R"("table":"cases","op":"create","values":{"last_name":"A","first_name":"B","opened_on":"2026-02-30"}})"),
       ErrorCode::kValidation, "opened_on"},
      {PushWith(good_head + R"("table":"cases","op":"create","values":{"first_name":"B","opened_on":"2026-01-01"}})"),
       ErrorCode::kValidation, "last_name: obligatoire (ne peut pas être vide)"},
      {PushWith(good_head +
                R"("table":"cases","op":"create","values":{"last_name":1,"first_name":"B","opened_on":"2026-01-01"}})"),
       ErrorCode::kValidation, "expected a string"},
      {PushWith(good_head + R"("table":"followups","op":"update","set":{"text":"x"},"base":{}})"),
       ErrorCode::kValidation, "append-only"},
      {PushWith(good_head + R"("table":"cases","op":"update","set":{},"base":{}})"), ErrorCode::kUsage, "set"},
      {PushWith(R"({"id":"x","table":"cases"})"), ErrorCode::kUsage, "changes[0]"},
      {std::string(40, '[') + std::string(40, ']'), ErrorCode::kUsage, "nested"},
      {std::string("{\"protocol\":1,\"batch\":\"\xff\"}"), ErrorCode::kUsage, "UTF-8"},
  }));
  auto r = DecodePushRequest(c.body);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == c.code);
  CHECK(r.error().message.find(c.mention) != std::string::npos);
}

TEST_CASE("a pull page round-trips with typed values and removals", "[codec]") {
  PullPage page;
  page.since = 10;
  page.next = 20;
  page.more = true;
  schema::Record r{"0190a1b2-0000-7000-8000-000000000001", 15,
                   std::vector<schema::Value>(schema::CasesTable().fields.size())};
  r.values[0] = "Lefèvre";
  r.values[1] = "Inès";
  r.values[static_cast<size_t>(schema::CasesTable().FieldIndex("service_level"))] = "3";
  page.records.push_back({"cases", r});
  page.removed.push_back({"cases", "0190a1b2-0000-7000-8000-000000000002", 18});
  auto back = DecodePullPage(EncodePullPage(page));
  REQUIRE(back.ok());
  CHECK(back->next == 20);
  CHECK(back->more);
  REQUIRE(back->records.size() == 1);
  CHECK(back->records[0].record.values == r.values);
  CHECK(back->records[0].record.version == 15);
  REQUIRE(back->removed.size() == 1);
  CHECK(back->removed[0].seq == 18);
}

TEST_CASE("outbox fields round-trip for creates and updates", "[codec]") {
  std::vector<FieldChange> update = {{"phone", "0611", "0622"}, {"email", std::nullopt, "a@b.fr"}};
  auto back = DecodeOutboxFields(Op::kUpdate, EncodeOutboxFields(Op::kUpdate, update));
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  for (const FieldChange& f : *back) {
    if (f.field != "email") continue;
    CHECK(f.base == std::optional<std::string>("a@b.fr"));
    CHECK_FALSE(f.value.has_value());
  }
}

TEST_CASE("error bodies carry a code, a message and the change", "[codec]") {
  Error e = DecodeError(EncodeError(MakeError(ErrorCode::kValidation, "birth_date: bad"), "abc"), ErrorCode::kHttp);
  CHECK(e.code == ErrorCode::kValidation);
  CHECK(e.message.find("birth_date: bad") != std::string::npos);
}

TEST_CASE("conflict notices travel in pull pages", "[codec]") {
  PullPage page;
  page.next = 30;
  ConflictNotice n;
  n.id = 7;
  n.kind = "field";
  n.status = "settled";
  n.table = "cases";
  n.record_id = "0190a1b2-0000-7000-8000-000000000001";
  n.field = "status";
  n.server_value = "salarie";
  n.device_value = "independant";
  n.device = "pae-gap";
  n.settled_value = "independant";
  n.settlement = "device";
  n.seq = 29;
  page.conflicts.push_back(n);
  auto back = DecodePullPage(EncodePullPage(page));
  REQUIRE(back.ok());
  REQUIRE(back->conflicts.size() == 1);
  CHECK(back->conflicts[0].settled_value == std::optional<std::string>("independant"));
  CHECK(back->conflicts[0].settlement == "device");
  CHECK(back->conflicts[0].seq == 29);
}

TEST_CASE("a device may not write a field reserved to central staff", "[codec]") {
  const std::string body =
      R"({"protocol":1,"batch":"b1","changes":[{"id":"0190a1b2-0000-7000-8000-0000000000aa","record":"0190a1b2-0000-7000-8000-000000000001","hlc":"1700000000000-000000-deva","base_version":3,"table":"cases","op":"update","set":{"merged_into":"0190a1b2-0000-7000-8000-000000000002"},"base":{}}]})";
  auto r = DecodePushRequest(body);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kValidation);
  CHECK(r.error().message.find("central staff") != std::string::npos);
}

TEST_CASE("the last page carries the scope digest; a malformed one is refused", "[codec][digest]") {
  PullPage page;
  page.next = 40;
  ScopeDigest d;
  d["cases"].Add("0190a1b2-0000-7000-8000-000000000001", 12, 0x5eed12);
  d["cases"].Add("0190a1b2-0000-7000-8000-000000000002", 13, 0x5eed13);
  d["contacts"];
  page.digest = d;
  auto back = DecodePullPage(EncodePullPage(page));
  REQUIRE(back.ok());
  REQUIRE(back->digest);
  CHECK(*back->digest == d);
  CHECK(back->digest->tables.at("cases").count == 2);

  auto refused = [](const std::string& digest) {
    auto r = DecodePullPage(R"({"protocol":1,"since":0,"next":5,"more":false,"tables":{},"removed":[],"digest":)" +
                            digest + "}");
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(refused(R"({"cases":{"count":1,"sum":"12"}})").find("malformed digest of cases") != std::string::npos);
  CHECK(refused(R"({"cases":{"count":-1,"sum":"0000000000000001"}})").find("malformed digest") != std::string::npos);
  CHECK(refused(R"({"notes":{"count":1,"sum":"0000000000000001"}})").find("unknown table notes") != std::string::npos);
  CHECK(refused(R"([1])").find("not an object") != std::string::npos);
  CHECK(refused(R"({"cases":{"count":1,"sum":"0000000000000001","values":7}})").find("malformed digest of cases") !=
        std::string::npos);
  CHECK(back->digest->tables.at("cases").values == 0x5eed12 + 0x5eed13);
  // A centre written before `values`: ids and versions only.
  auto older = DecodePullPage(
      R"({"protocol":1,"since":0,"next":5,"more":false,"tables":{},"removed":[],"digest":{"cases":{"count":1,"sum":"0000000000000001"}}})");
  REQUIRE(older.ok());
  CHECK_FALSE(older->digest->tables.at("cases").has_values);
}

TEST_CASE("a digest depends on the set of (id, version), not on its order", "[digest]") {
  TableDigest a, b, c;
  a.Add("x", 1, 0x5eed1);
  a.Add("y", 2, 0x5eed2);
  b.Add("y", 2, 0x5eed2);
  b.Add("x", 1, 0x5eed1);
  c.Add("x", 1, 0x5eed1);
  c.Add("y", 3, 0x5eed3);
  CHECK(a == b);
  CHECK_FALSE(a == c);
  ScopeDigest here, there;
  here["cases"] = a;
  there["cases"] = c;
  CHECK(Differences(here, there) == std::vector<TableDifference>{{"cases", 2, 2}});  // same count, other versions
  there["cases"].Add("z", 1, 0x5eed1);
  there["followups"];  // an empty table equals an absent one
  CHECK(Differences(here, there) == std::vector<TableDifference>{{"cases", 2, 3}});
  CHECK(Differences(here, here).empty());
  CHECK(here == here);
  CHECK_FALSE(here == there);
}

TEST_CASE("a page goes back behind the cursor only when it is empty and last", "[codec]") {
  // A centre behind the device's cursor (restored from a backup) answers an empty last page whose
  // `next` is its own last sequence number; anything else going backwards is refused.
  auto empty = DecodePullPage(R"({"protocol":1,"since":6000,"next":1200,"more":false,"tables":{}})");
  REQUIRE(empty.ok());
  CHECK(empty->next == 1200);
  const std::string head = R"({"protocol":1,"since":6000,"next":1200,)";
  std::string body = GENERATE(
      as<std::string>{}, R"("more":true,"tables":{}})",
      R"("more":false,"tables":{},"removed":[{"table":"cases","id":"x","seq":1}]})",
      R"("more":false,"tables":{},"conflicts":[{"id":12,"kind":"field","status":"open","table":"cases","record":"r","seq":1043}]})");
  CAPTURE(body);
  auto page = DecodePullPage(head + body);
  REQUIRE_FALSE(page.ok());
  CHECK(page.error().message.find("before since") != std::string::npos);
}

TEST_CASE("a pull page with members missing or of the wrong type is refused, not read past", "[codec]") {
  // Each of these once reached nlohmann's const operator[] on a missing key (undefined behaviour)
  // or json::value() on a member of another type (an exception out of a decoder).
  const std::string head = R"({"protocol":1,"since":0,"next":1,"more":false,)";
  std::string body = GENERATE(
      as<std::string>{}, R"("tables":{"cases":{}}})", R"("tables":{"cases":{"rows":[]}}})", R"("tables":{"cases":[]}})",
      R"("tables":{"cases":7}})", R"("tables":{},"removed":[{}]})", R"("tables":{},"removed":[{"table":"cases"}]})",
      R"("tables":{},"conflicts":[{}]})", R"("tables":{},"conflicts":[{"id":1,"kind":"field"}]})",
      R"("tables":{},"conflicts":[{"id":1,"kind":"field","status":"open","table":"cases","record":"r","seq":1,"field":5}]})",
      R"("tables":{},"conflicts":[{"id":1,"kind":"field","status":"open","table":"cases","record":"r","seq":1,"base":[5]}]})");
  CAPTURE(body);
  auto page = DecodePullPage(head + body);
  REQUIRE_FALSE(page.ok());
  CHECK(page.error().code == ErrorCode::kProtocol);
}

TEST_CASE("a push answer with members of the wrong type is refused", "[codec]") {
  std::string result = GENERATE(as<std::string>{}, R"({"id":"x","status":"applied","version":"7"})",
                                R"({"id":"x","status":"rejected","reason":5})");
  CAPTURE(result);
  auto response = DecodePushResponse(R"({"protocol":1,"batch":"b","results":[)" + result + "]}");
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().code == ErrorCode::kProtocol);
}

TEST_CASE("an error body whose code is not text still decodes", "[codec]") {
  Error e = DecodeError(R"({"error":{"code":5,"message":"boom"}})", ErrorCode::kHttp);
  CHECK(e.code == ErrorCode::kHttp);
  CHECK(e.message == "boom");
}

TEST_CASE("a message of more JSON values than the limit is refused before it is parsed", "[codec]") {
  std::string changes = "[";
  for (size_t i = 0; i <= kMaxJsonValues; ++i) changes += i ? ",{}" : "{}";
  changes += "]";
  auto request = DecodePushRequest(R"({"protocol":1,"batch":"b","changes":)" + changes + "}");
  REQUIRE_FALSE(request.ok());
  CHECK(request.error().code == ErrorCode::kTooLarge);
  CHECK(request.error().message.find("JSON values") != std::string::npos);
}

// The push decoder reads the text without building a DOM (nlohmann's SAX parser): it must take what
// a DOM would hold — a key given twice counts once with its last value, members in key order — and
// report errors with the same precedence.
TEST_CASE("the push decoder reads a request as its DOM would hold it", "[codec]") {
  const std::string head =
      R"({"id":"0190a1b2-0000-7000-8000-0000000000aa","record":"0190a1b2-0000-7000-8000-000000000001","hlc":"1700000000000-000000-deva",)";
  SECTION("a member given twice takes its last value") {
    auto r = DecodePushRequest(
        PushWith(head + R"("base_version":1,"base_version":4,"table":"cases","op":"update",)"
                        R"("set":{"phone":"0611111111","email":"a@b.fr","phone":"0622222222"},"base":{}})"));
    REQUIRE(r.ok());
    const Change& c = r->changes.at(0);
    CHECK(c.base_version == 4);
    REQUIRE(c.fields.size() == 2);
    CHECK(c.fields[0].field == "email");  // in key order, as a DOM iterates
    CHECK(c.fields[1].field == "phone");
    CHECK(c.fields[1].value == std::optional<std::string>("0622222222"));
  }
  SECTION("changes given twice: the last array counts, errors of the first included") {
    auto r = DecodePushRequest(R"({"protocol":1,"batch":"b","changes":[{"id":"x"}],"changes":[]})");
    REQUIRE(r.ok());
    CHECK(r->changes.empty());
  }
  SECTION("the protocol is checked before the changes, wherever it stands") {
    auto r = DecodePushRequest(R"({"batch":"b","changes":[{"id":"x"}],"protocol":2})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kProtocol);
  }
  SECTION("syntax is checked before anything else") {
    auto r = DecodePushRequest(R"({"protocol":2,"batch":"b","changes":[]})"
                               " x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("not valid JSON") != std::string::npos);
  }
  SECTION("the first unknown key in key order is named, an empty one too") {
    auto r = DecodePushRequest(
        PushWith(head + R"("zz":1,"":2,"table":"cases","op":"create","base_version":0,"values":{}})"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "changes[0]: unknown key \"\"");
  }
  SECTION("a second bad change is not reached") {
    auto r = DecodePushRequest(R"({"protocol":1,"batch":"b","changes":[1,{"id":"x"}]})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "changes[0]: expected an object");
  }
}

// The messages are written as text directly (sync/json_text.h), not through a JSON DOM; the centre
// hashes a push request's text to recognise a retried batch, so it must stay byte for byte what
// the DOM wrote before (and still writes): parsing it and dumping it again changes nothing.
namespace {
std::string Redumped(const std::string& text) { return nlohmann::json::parse(text).dump(); }

// Characters that JSON escapes, some that it does not, and UTF-8 of 2, 3 and 4 bytes: what a
// record's text may hold (validation refuses control characters in values).
std::string Awkward() { return "Zoé \"l'aînée\" \\ / \x7f 🚲 €"; }
}  // namespace

TEST_CASE("strings are escaped as a JSON DOM escapes them, control characters included", "[codec]") {
  std::string every = Awkward();
  for (char c = 1; c < 0x20; ++c) every += c;
  for (const std::string& s : {std::string(), every, std::string("\x00x", 2), std::string(300, 'a') + "\"\n"}) {
    std::string out;
    AppendJsonString(out, s);
    CHECK(out == nlohmann::json(s).dump());
  }
  std::string n;
  AppendJsonInt(n, -9223372036854775807LL - 1);
  CHECK(n == nlohmann::json(-9223372036854775807LL - 1).dump());
}

TEST_CASE("strings of any bytes, at any place in a word, are escaped as one byte at a time would", "[codec]") {
  // The reference: each byte on its own. AppendJsonString reads eight bytes at a time while none
  // needs escaping; an escape at each offset of a word, and bytes of 0x80 and above beside them
  // (which a word test may confuse with a small byte), must come out the same.
  auto one_by_one = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"')
        out += "\\\"";
      else if (c == '\\')
        out += "\\\\";
      else if (c == '\b')
        out += "\\b";
      else if (c == '\f')
        out += "\\f";
      else if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else if (c == '\t')
        out += "\\t";
      else if (c < 0x20)
        out += "\\u00" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 0xF];
      else
        out += static_cast<char>(c);
    }
    return out + "\"";
  };
  const std::string specials =
      std::string("\"\\\x01\x1f\x20\x21\x7f\x80\x9f\xa0\xa2\xdc\xff\n", 14) + std::string(1, '\0');
  uint64_t seed = 42;
  auto next = [&] { return (seed = seed * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (int round = 0; round < 20000; ++round) {
    std::string s(next() % 40, 'a');
    for (char& c : s) c = next() % 3 == 0 ? specials[next() % specials.size()] : static_cast<char>('a' + next() % 26);
    std::string out = "prefix";
    AppendJsonString(out, s);
    REQUIRE(out == "prefix" + one_by_one(s));
  }
  for (size_t at = 0; at < 24; ++at) {
    for (char c : specials) {
      std::string s(24, 'x');
      s[at] = c;
      std::string out;
      AppendJsonString(out, s);
      CHECK(out == one_by_one(s));
    }
  }
}

TEST_CASE("a push request is written in the very bytes a JSON DOM dumps", "[codec]") {
  Change create = ACreate();
  create.fields.push_back({"notes", Awkward(), {}});
  create.fields.push_back({"phone", std::nullopt, {}});  // a null is left out of a create
  create.fields.push_back({"service_level", "3", {}});   // named twice: the last counts
  Change update = create;
  update.op = Op::kUpdate;
  update.change_id = "0190a1b2-0000-7000-8000-0000000000bb";
  update.base_version = 41;
  update.fields = {{"phone", "0611223344", std::nullopt},
                   {"email", std::nullopt, "a@b.fr"},
                   {"service_level", "2", "1"},
                   {"notes", "x", Awkward()}};
  PushRequest req{"batch_2-x", {create, update}};
  std::string wire = EncodePushRequest(req);
  CHECK(Redumped(wire) == wire);
  CHECK(wire.find("\"service_level\":3") != std::string::npos);
  CHECK(wire.find("\"phone\":null") != std::string::npos);  // an update's null is written
  CHECK(EncodePushRequest(PushRequest{"empty", {}}) == R"({"batch":"empty","changes":[],"protocol":1})");
  auto back = DecodePushRequest(wire);
  INFO((back.ok() ? std::string() : back.error().message));
  REQUIRE(back.ok());
  CHECK(EncodePushRequest(*back) == wire);
}

TEST_CASE("a push answer is written in the very bytes a JSON DOM dumps", "[codec]") {
  PushResponse response{"batch_2-x", {}};
  response.results.push_back({"0190a1b2-0000-7000-8000-0000000000aa", ChangeStatus::kApplied, 1042, "", {}, {}});
  response.results.push_back(
      {"0190a1b2-0000-7000-8000-0000000000bb", ChangeStatus::kReview, 1043, "", {"status", "notes"}, {}});
  response.results.push_back({"0190a1b2-0000-7000-8000-0000000000cc", ChangeStatus::kRejected, 0, Awkward(), {}, {}});
  std::string wire = EncodePushResponse(response);
  CHECK(Redumped(wire) == wire);
  CHECK(EncodePushResponse(PushResponse{"empty", {}}) == R"({"batch":"empty","protocol":1,"results":[]})");
  auto back = DecodePushResponse(wire);
  REQUIRE(back.ok());
  REQUIRE(back->results.size() == 3);
  CHECK(back->results[1].review_fields == std::vector<std::string>{"status", "notes"});
  CHECK(back->results[2].reason == Awkward());
  CHECK(EncodePushResponse(*back) == wire);
}

TEST_CASE("a pull page and a record's values are written as a JSON DOM dumps them", "[codec]") {
  const schema::Table& cases = schema::CasesTable();
  PullPage page;
  page.since = 3;
  page.next = 9;
  page.more = false;
  page.now_ms = 1763900000000;
  schema::Record r{"0190a1b2-0000-7000-8000-000000000001", 7, std::vector<schema::Value>(cases.fields.size())};
  r.values[static_cast<size_t>(cases.FieldIndex("last_name"))] = Awkward();
  r.values[static_cast<size_t>(cases.FieldIndex("service_level"))] = "2";
  page.records.push_back({"cases", r});
  page.records.push_back(
      {"contacts", schema::Record{"0190a1b2-0000-7000-8000-000000000002", 8,
                                  std::vector<schema::Value>(schema::ContactsTable().fields.size())}});
  page.removed.push_back({"cases", "0190a1b2-0000-7000-8000-000000000003", 5});
  ConflictNotice n;
  n.id = 4;
  n.kind = "field";
  n.status = "open";
  n.table = "cases";
  n.record_id = r.id;
  n.field = "status";
  n.seq = 7;
  page.conflicts.push_back(n);
  page.digest = ScopeDigest{};
  std::string wire = EncodePullPage(page);
  CHECK(Redumped(wire) == wire);
  auto back = DecodePullPage(wire);
  REQUIRE(back.ok());
  CHECK(EncodePullPage(*back) == wire);

  std::string values = EncodeRecordValues(cases, r.values);
  CHECK(Redumped(values) == values);
  CHECK(values.find("\"service_level\":2") != std::string::npos);
  CHECK(EncodeRecordValues(cases, std::vector<schema::Value>(cases.fields.size())) == "{}");
}
