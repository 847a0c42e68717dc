// The staff API (docs/PROTOCOL.md, "Staff API"), through a real endpoint on a port the OS picked.
#include <nlohmann/json.hpp>

#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using nlohmann::json;

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

// A served store with a status conflict and a duplicate in Gap, two devices and two staff tokens:
// `staff` for Gap and Bastia, `elsewhere` for Bastia only.
struct StaffWorld {
  ServerFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  Enrolled staff = f.Enrol("siege", {kBastia, kGap}, Role::kStaff);
  Enrolled elsewhere = f.Enrol("siege-corse", {kBastia}, Role::kStaff);
  std::string id = NewId(), twin = NewId(), followup = NewId();
  int64_t field_conflict = 0, duplicate = 0;

  StaffWorld() {
    f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"), {{"status", "demandeur_emploi"}, {"birth_date", "1990-04-12"}})});
    f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"status", "salarie", "demandeur_emploi"}})});
    f.Push(b, {Update("cases", id, 1, Stamp(kT0 + 2, "b"), {{"status", "etudiant", "demandeur_emploi"}})});
    f.Push(b, {CreateCase(twin, kGap, Stamp(kT0 + 3, "b"), {{"birth_date", "1990-04-12"}, {"phone", "0622222222"}}),
               CreateFollowup(followup, twin, Stamp(kT0 + 4, "b"))});
    auto open = f.store().Conflicts({});
    REQUIRE(open->size() == 2);
    field_conflict = (*open)[0].id;
    duplicate = (*open)[1].id;
  }

  httplib::Result Get(const Enrolled& who, const std::string& path) {
    return f.Client()->Get(path, ServerFixture::Headers(who.token));
  }
  httplib::Result Post(const Enrolled& who, const std::string& path, const std::string& body) {
    return f.Client()->Post(path, ServerFixture::Headers(who.token), body, "application/json");
  }
  std::string Conflict(int64_t id, const std::string& action = "") {
    return "/v1/conflicts/" + std::to_string(id) + (action.empty() ? "" : "/" + action);
  }
};

std::string CodeOf(const httplib::Result& r) { return json::parse(r->body)["error"]["code"].get<std::string>(); }

TEST_CASE("a device token is forbidden on every staff endpoint", "[staff]") {
  StaffWorld w;
  for (const auto& path : {std::string("/v1/conflicts"), w.Conflict(w.field_conflict), "/v1/history/" + w.id}) {
    auto r = w.Get(w.a, path);
    REQUIRE(r);
    CHECK(r->status == 403);
    CHECK(CodeOf(r) == "forbidden");
  }
  std::string before = w.f.Dump();
  auto r = w.Post(w.a, w.Conflict(w.field_conflict, "resolve"), R"({"keep":"device"})");
  CHECK(r->status == 403);
  CHECK(w.f.Dump() == before);
}

TEST_CASE("a staff token does not push or pull", "[staff]") {
  StaffWorld w;
  auto pull = w.Get(w.staff, "/v1/pull?since=0");
  CHECK(pull->status == 403);
  auto push = w.Post(w.staff, "/v1/push", sync::EncodePushRequest(Batch({CreateCase(NewId(), kGap, Stamp(kT0, "s"))})));
  CHECK(push->status == 403);
  CHECK(CodeOf(push) == "forbidden");
}

TEST_CASE("staff list the open conflicts of their territories", "[staff]") {
  StaffWorld w;
  auto r = w.Get(w.staff, "/v1/conflicts?status=open");
  REQUIRE(r->status == 200);
  json list = json::parse(r->body)["conflicts"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == w.field_conflict);
  CHECK(list[0]["kind"] == "field");
  CHECK(list[0]["record"] == w.id);
  CHECK(list[0]["field"] == "status");
  CHECK(list[0]["territory"] == kGap);
  CHECK(list[1]["kind"] == "duplicate");
  CHECK(list[1]["other"] == w.id);
  CHECK(json::parse(w.Get(w.staff, "/v1/conflicts?territory=" + kBastia)->body)["conflicts"].empty());
  CHECK(json::parse(w.Get(w.elsewhere, "/v1/conflicts")->body)["conflicts"].empty());
  CHECK(w.Get(w.elsewhere, w.Conflict(w.field_conflict))->status == 403);
  CHECK(w.Get(w.staff, "/v1/conflicts?status=maybe")->status == 400);
}

TEST_CASE("staff see a conflict with both values and the record's history", "[staff]") {
  StaffWorld w;
  auto r = w.Get(w.staff, w.Conflict(w.field_conflict));
  REQUIRE(r->status == 200);
  json c = json::parse(r->body);
  CHECK(c["base"] == "demandeur_emploi");
  CHECK(c["server"] == "salarie");
  CHECK(c["server_device"] == "a");
  CHECK(c["device_value"] == "etudiant");
  CHECK(c["device"] == "b");
  CHECK(c["device_hlc"] == Stamp(kT0 + 2, "b"));
  CHECK(c["history"].size() == 3);
  CHECK(c["record_values"]["status"] == "salarie");
  CHECK(w.Get(w.staff, w.Conflict(999))->status == 404);
}

TEST_CASE("staff resolve a conflict once; a second settlement is 409 and changes nothing", "[staff]") {
  StaffWorld w;
  auto r = w.Post(w.staff, w.Conflict(w.field_conflict, "resolve"), R"({"keep":"device"})");
  REQUIRE(r->status == 200);
  json c = json::parse(r->body);
  CHECK(c["status"] == "settled");
  CHECK(c["settlement"] == "device");
  CHECK(c["settled_by"] == "siege");
  CHECK(c["settled_value"] == "etudiant");
  std::string before = w.f.Dump();
  auto again = w.Post(w.staff, w.Conflict(w.field_conflict, "resolve"), R"({"keep":"server"})");
  CHECK(again->status == 409);
  CHECK(CodeOf(again) == "conflict");
  CHECK(w.f.Dump() == before);
}

TEST_CASE("an invalid value is 422 and a malformed decision 400", "[staff]") {
  StaffWorld w;
  std::string before = w.f.Dump();
  auto invalid = w.Post(w.staff, w.Conflict(w.field_conflict, "resolve"), R"({"value":"chomeur"})");
  CHECK(invalid->status == 422);
  CHECK(CodeOf(invalid) == "validation");
  CHECK(w.Post(w.staff, w.Conflict(w.field_conflict, "resolve"), R"({"keep":"both"})")->status == 400);
  CHECK(w.Post(w.staff, w.Conflict(w.field_conflict, "resolve"), R"({"keep":"server","value":"x"})")->status == 400);
  CHECK(w.Post(w.staff, w.Conflict(w.field_conflict, "resolve"), "[")->status == 400);
  CHECK(w.Post(w.staff, w.Conflict(w.duplicate, "resolve"), R"({"keep":"server"})")->status == 400);
  CHECK(w.Post(w.staff, w.Conflict(12345, "dismiss"), "")->status == 404);
  CHECK(w.f.Dump() == before);
}

TEST_CASE("staff merge a duplicate and the history shows the redirect", "[staff]") {
  StaffWorld w;
  auto r = w.Post(w.staff, w.Conflict(w.duplicate, "merge"), R"({"take":["phone"]})");
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->body)["settlement"] == "merged");
  auto h = w.Get(w.staff, "/v1/history/" + w.twin);
  REQUIRE(h->status == 200);
  json history = json::parse(h->body);
  CHECK(history["table"] == "cases");
  CHECK(history["versions"].back()["values"]["merged_into"] == w.id);
  CHECK(history["versions"].back()["device"] == "central:siege");
  CHECK(history["conflicts"].size() == 1);
  auto survivor = json::parse(w.Get(w.staff, "/v1/history/" + w.id)->body);
  CHECK(survivor["versions"].back()["values"]["phone"] == "0622222222");
  auto moved = json::parse(w.Get(w.staff, "/v1/history/" + w.followup)->body);
  CHECK(moved["versions"].back()["values"]["case_id"] == w.id);
  CHECK(w.Post(w.staff, w.Conflict(w.duplicate, "merge"), "{}")->status == 409);
}

TEST_CASE("staff dismiss a duplicate", "[staff]") {
  StaffWorld w;
  auto r = w.Post(w.staff, w.Conflict(w.duplicate, "dismiss"), "");
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->body)["settlement"] == "dismissed");
  CHECK(w.Post(w.staff, w.Conflict(w.field_conflict, "dismiss"), "")->status == 400);
  CHECK(w.Get(w.staff, "/v1/history/" + NewId())->status == 404);
}

}  // namespace
}  // namespace relais::server::testing
