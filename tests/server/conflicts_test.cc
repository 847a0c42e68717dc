// Conflict rules through the push path, probable duplicates, settlements and the conflict notices
// devices pull (server/push.h, server/settle.h, docs/PROTOCOL.md "Conflict notices").
#include <nlohmann/json.hpp>

#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using sync::ChangeStatus;

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

schema::Value FieldOf(const schema::Table& table, const schema::Record& r, std::string_view field) {
  return r.values[static_cast<size_t>(table.FieldIndex(field))];
}

std::optional<sync::PulledRecord> Find(const sync::PullPage& page, const std::string& id) {
  std::optional<sync::PulledRecord> found;
  for (const auto& r : page.records) {
    if (r.record.id == id) found = r;
  }
  return found;
}

std::vector<sync::ConflictNotice> NoticesOf(const sync::PullPage& page, int64_t conflict_id) {
  std::vector<sync::ConflictNotice> out;
  for (const auto& n : page.conflicts) {
    if (n.id == conflict_id) out.push_back(n);
  }
  return out;
}

// Two counsellors of Gap share one case: `a` created it (version 1) with a status and notes.
struct SharedCase {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap});
  std::string id = NewId();

  SharedCase() {
    f.Push(a,
           {CreateCase(
               id, kGap, Stamp(kT0, "a"),
               {{"status", "demandeur_emploi"}, {"notes", "Cherche en hôtellerie."}, {"birth_date", "1990-04-12"}})});
  }

  // a sets `field` to `from_a`, then b, still at version 1, sets it to `from_b`.
  sync::PushResponse Race(const std::string& field, const schema::Value& base, const std::string& from_a,
                          const std::string& from_b) {
    f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 10, "a"), {{field, from_a, base}})});
    return f.Push(b, {Update("cases", id, 1, Stamp(kT0 + 20, "b"), {{field, from_b, base}})});
  }

  Conflict OnlyOpenConflict() {
    auto conflicts = f.store().Conflicts({});
    REQUIRE(conflicts.ok());
    REQUIRE(conflicts->size() == 1);
    return (*conflicts)[0];
  }

  schema::Record Current() {
    auto r = Find(f.Pull(a), id);
    REQUIRE(r);
    return r->record;
  }
};

// ---- rules, through the push path --------------------------------------------------------------

TEST_CASE("two versions of the notes are both kept: the server's in the record, the other in a conflict", "[rules]") {
  SharedCase s;
  auto response = s.Race("notes", "Cherche en hôtellerie.", "Cherche en hôtellerie, saison d'hiver.",
                         "Cherche en hôtellerie ; permis B.");
  CHECK(response.results[0].status == ChangeStatus::kReview);
  CHECK(response.results[0].review_fields == std::vector<std::string>{"notes"});
  Conflict c = s.OnlyOpenConflict();
  CHECK(c.field == "notes");
  CHECK(c.server_value == "Cherche en hôtellerie, saison d'hiver.");
  CHECK(c.device_value == "Cherche en hôtellerie ; permis B.");
  CHECK(FieldOf(schema::CasesTable(), s.Current(), "notes") == "Cherche en hôtellerie, saison d'hiver.");
}

TEST_CASE("a review conflict is opened at a real sequence number: the record's new version", "[rules]") {
  SharedCase s;
  auto response = s.Race("status", "demandeur_emploi", "salarie", "etudiant");
  Conflict c = s.OnlyOpenConflict();
  CHECK(c.opened_seq == response.results[0].version);
  CHECK(c.opened_seq == s.Current().version);
}

TEST_CASE("follow-ups written on two devices for one case are all kept", "[rules]") {
  SharedCase s;
  std::string fa = NewId(), fb = NewId();
  auto ra = s.f.Push(s.a, {CreateFollowup(fa, s.id, Stamp(kT0 + 10, "a"))});
  auto rb = s.f.Push(s.b, {CreateFollowup(fb, s.id, Stamp(kT0 + 10, "b"))});
  CHECK(ra.results[0].status == ChangeStatus::kApplied);
  CHECK(rb.results[0].status == ChangeStatus::kApplied);
  sync::PullPage page = s.f.Pull(s.a);
  CHECK(Find(page, fa));
  CHECK(Find(page, fb));
  CHECK(s.f.store().Conflicts({})->empty());
}

TEST_CASE("an edit that meets a closed case applies and the case stays closed", "[rules]") {
  SharedCase s;
  s.f.Push(s.a, {Update("cases", s.id, 1, Stamp(kT0 + 10, "a"),
                        {{"closed_on", "2027-01-02", std::nullopt}, {"close_reason", "Emploi trouvé", std::nullopt}})});
  auto response =
      s.f.Push(s.b, {Update("cases", s.id, 1, Stamp(kT0 + 20, "b"), {{"phone", "0611223344", std::nullopt}})});
  CHECK(response.results[0].status == ChangeStatus::kMerged);
  schema::Record r = s.Current();
  CHECK(FieldOf(schema::CasesTable(), r, "phone") == "0611223344");
  CHECK(FieldOf(schema::CasesTable(), r, "closed_on") == "2027-01-02");
}

// ---- duplicates ----------------------------------------------------------------------------------

TEST_CASE("a case created for a person the server holds opens one duplicate conflict and is applied", "[duplicates]") {
  SharedCase s;
  std::string twin = NewId();
  auto response = s.f.Push(s.b, {Create("cases", twin,
                                        {{"last_name", "MARTIN"},
                                         {"first_name", "Elodie"},
                                         {"birth_date", "1990-04-12"},
                                         {"opened_on", "2027-01-03"},
                                         {"territory", kGap}},
                                        Stamp(kT0 + 30, "b"))});
  CHECK(response.results[0].status == ChangeStatus::kApplied);
  Conflict c = s.OnlyOpenConflict();
  CHECK(c.kind == "duplicate");
  CHECK(c.record_id == twin);
  CHECK(c.other_id == s.id);
  CHECK(c.territory == kGap);
  CHECK(c.device == "b");
  CHECK(c.opened_seq == response.results[0].version);
  CHECK(Find(s.f.Pull(s.a), twin));
}

TEST_CASE("a case matching several is flagged against the earliest opened one, once", "[duplicates]") {
  SharedCase s;  // opened on 2026-01-05
  auto twin = [&](const std::string& opened_on, int64_t at) {
    std::string id = NewId();
    s.f.Push(s.b, {Create("cases", id,
                          {{"last_name", "Martin"},
                           {"first_name", "Élodie"},
                           {"birth_date", "1990-04-12"},
                           {"opened_on", opened_on},
                           {"territory", kGap}},
                          Stamp(kT0 + at, "b"))});
    return id;
  };
  std::string earlier = twin("2025-06-30", 30);  // flagged against s.id, the only match then
  std::string later = twin("2027-02-01", 40);    // three cases match now: flagged against `earlier`
  auto conflicts = s.f.store().Conflicts({});
  REQUIRE(conflicts.ok());
  REQUIRE(conflicts->size() == 2);
  for (const Conflict& c : *conflicts) {
    CHECK(c.kind == "duplicate");
    if (c.record_id == earlier)
      CHECK(c.other_id == s.id);
    else
      CHECK((c.record_id == later && c.other_id == earlier));
  }
}

TEST_CASE("no duplicate is flagged without a birth date or for another birth date", "[duplicates]") {
  SharedCase s;
  s.f.Push(s.b, {CreateCase(NewId(), kGap, Stamp(kT0 + 30, "b"))});
  s.f.Push(s.b, {CreateCase(NewId(), kGap, Stamp(kT0 + 31, "b"), {{"birth_date", "1991-04-12"}})});
  CHECK(s.f.store().Conflicts({})->empty());
}

// The case of `a` (Gap) with two follow-ups, and its twin created at Bastia with one follow-up.
struct Twins {
  StoreFixture f;
  Enrolled gap = f.Enrol("gap", {kGap});
  Enrolled bastia = f.Enrol("bastia", {kBastia});
  std::string existing = NewId(), twin = NewId(), f1 = NewId(), f2 = NewId(), f3 = NewId();
  int64_t conflict_id = 0;

  Twins() {
    f.Push(gap,
           {CreateCase(existing, kGap, Stamp(kT0, "gap"), {{"birth_date", "1990-04-12"}, {"phone", "0611111111"}}),
            CreateFollowup(f1, existing, Stamp(kT0 + 1, "gap")), CreateFollowup(f2, existing, Stamp(kT0 + 2, "gap"))});
    f.Push(bastia,
           {CreateCase(twin, kBastia, Stamp(kT0 + 3, "bastia"),
                       {{"birth_date", "1990-04-12"}, {"phone", "0622222222"}, {"email", "e.martin@exemple.fr"}}),
            CreateFollowup(f3, twin, Stamp(kT0 + 4, "bastia"))});
    auto conflicts = f.store().Conflicts({});
    REQUIRE(conflicts->size() == 1);
    conflict_id = (*conflicts)[0].id;
  }
};

TEST_CASE("merging a duplicate moves the follow-ups to the existing case and leaves a redirect", "[duplicates]") {
  Twins t;
  auto merged = t.f.store().Merge(t.conflict_id, {"phone", "email"}, "camille");
  REQUIRE(merged.ok());
  CHECK(merged->status == "settled");
  CHECK(merged->settlement == "merged");
  CHECK(merged->settled_value == t.existing);
  CHECK(merged->settled_by == "camille");

  sync::PullPage gap = t.f.Pull(t.gap);
  const schema::Table& cases = schema::CasesTable();
  auto survivor = Find(gap, t.existing);
  REQUIRE(survivor);
  CHECK(FieldOf(cases, survivor->record, "phone") == "0622222222");
  CHECK(FieldOf(cases, survivor->record, "email") == "e.martin@exemple.fr");
  auto moved = Find(gap, t.f3);
  REQUIRE(moved);
  CHECK(FieldOf(schema::FollowupsTable(), moved->record, "case_id") == t.existing);

  sync::PullPage bastia = t.f.Pull(t.bastia);
  auto redirect = Find(bastia, t.twin);
  REQUIRE(redirect);
  CHECK(FieldOf(cases, redirect->record, "merged_into") == t.existing);
  CHECK(FieldOf(cases, redirect->record, "closed_on") == IsoDate(kT0));
  CHECK(FieldOf(cases, redirect->record, "close_reason") == "fusionné avec " + t.existing);
  // The follow-up left Bastia with its new case: Bastia's devices remove it.
  CHECK(std::any_of(bastia.removed.begin(), bastia.removed.end(),
                    [&](const sync::Removal& r) { return r.record_id == t.f3; }));
  CHECK_FALSE(Find(bastia, t.f3));
  auto history = t.f.store().History("cases", t.existing);
  CHECK(history->back().device == "central:camille");
  CHECK(nlohmann::json::parse(*history->back().lost)["phone"]["value"] == "0611111111");
}

TEST_CASE("a follow-up written offline on a case merged since goes to the surviving case", "[duplicates]") {
  Twins t;
  Enrolled both = t.f.Enrol("both", {kGap, kBastia});
  REQUIRE(t.f.store().Merge(t.conflict_id, {}, "camille").ok());
  const std::string late = NewId();
  sync::PushResponse r = t.f.Push(both, {CreateFollowup(late, t.twin, Stamp(kT0 + 60, "both"))});
  REQUIRE(r.results.size() == 1);
  CHECK(r.results[0].status == ChangeStatus::kApplied);
  auto stored = Find(t.f.Pull(t.gap), late);
  REQUIRE(stored);
  CHECK(FieldOf(schema::FollowupsTable(), stored->record, "case_id") == t.existing);

  // Bastia's device held the twin: its entry follows to Gap's case, unnamed in the answer, and a
  // scope exit in Bastia takes it off that device (docs/PROTOCOL.md, "Edits of a case merged away").
  const std::string from_bastia = NewId();
  sync::PushResponse followed = t.f.Push(t.bastia, {CreateFollowup(from_bastia, t.twin, Stamp(kT0 + 70, "bastia"))});
  REQUIRE(followed.results.size() == 1);
  CHECK(followed.results[0].status == ChangeStatus::kApplied);
  CHECK(followed.results[0].reason.empty());
  auto moved = Find(t.f.Pull(t.gap), from_bastia);
  REQUIRE(moved);
  CHECK(FieldOf(schema::FollowupsTable(), moved->record, "case_id") == t.existing);
  bool removed = false;
  for (const sync::Removal& gone : t.f.Pull(t.bastia).removed) removed = removed || gone.record_id == from_bastia;
  CHECK(removed);
}

TEST_CASE("a merged case is no longer matched by a later create", "[duplicates]") {
  Twins t;
  REQUIRE(t.f.store().Merge(t.conflict_id, {}, "camille").ok());
  t.f.Push(t.gap, {CreateCase(NewId(), kGap, Stamp(kT0 + 50, "gap"), {{"birth_date", "1990-04-12"}})});
  auto open = t.f.store().Conflicts({});
  REQUIRE(open->size() == 1);
  CHECK((*open)[0].other_id == t.existing);
}

TEST_CASE("dismissing a duplicate settles it and changes no record", "[duplicates]") {
  Twins t;
  int64_t before = t.f.Pull(t.gap).next;
  auto dismissed = t.f.store().Dismiss(t.conflict_id, "camille");
  REQUIRE(dismissed.ok());
  CHECK(dismissed->settlement == "dismissed");
  sync::PullPage page = t.f.Pull(t.bastia, before);
  CHECK(page.records.empty());
  REQUIRE(page.conflicts.size() == 1);
  CHECK(page.conflicts[0].status == "settled");
  CHECK(page.conflicts[0].settlement == "dismissed");
  CHECK(page.conflicts[0].other_id.empty());  // Gap's case: not for Bastia's eyes
}

TEST_CASE("a field conflict cannot be merged and a duplicate cannot be resolved", "[duplicates]") {
  Twins t;
  auto resolved = t.f.store().Resolve(t.conflict_id, Decision{}, "camille");
  REQUIRE_FALSE(resolved.ok());
  CHECK(resolved.error().code == ErrorCode::kUsage);
  auto bad_field = t.f.store().Merge(t.conflict_id, {"merged_into"}, "camille");
  REQUIRE_FALSE(bad_field.ok());
  CHECK(bad_field.error().code == ErrorCode::kUsage);
}

// ---- settlements -------------------------------------------------------------------------------

TEST_CASE("keeping the device's value is a change that every device pulls with the settled notice", "[settle]") {
  SharedCase s;
  s.Race("status", "demandeur_emploi", "salarie", "etudiant");
  Conflict open = s.OnlyOpenConflict();
  int64_t cursor = s.f.Pull(s.b).next;
  int64_t version_before = s.Current().version;

  auto settled = s.f.store().Resolve(open.id, Decision{Decision::Keep::kDevice, {}}, "camille");
  REQUIRE(settled.ok());
  sync::PullPage page = s.f.Pull(s.b, cursor);
  auto record = Find(page, s.id);
  REQUIRE(record);
  CHECK(record->record.version > version_before);
  CHECK(FieldOf(schema::CasesTable(), record->record, "status") == "etudiant");
  auto notices = NoticesOf(page, open.id);
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].status == "settled");
  CHECK(notices[0].settlement == "device");
  CHECK(notices[0].settled_value == "etudiant");
  CHECK(notices[0].device == "b");
  CHECK(notices[0].seq == settled->settled_seq);
  CHECK(notices[0].seq > record->record.version);  // the record comes before the notice that explains it
  auto history = s.f.store().History("cases", s.id);
  CHECK(history->back().device == "central:camille");
  CHECK(nlohmann::json::parse(*history->back().lost)["status"]["value"] == "salarie");
}

TEST_CASE("keeping the server's value settles without a new version of the record", "[settle]") {
  SharedCase s;
  s.Race("status", "demandeur_emploi", "salarie", "etudiant");
  Conflict open = s.OnlyOpenConflict();
  int64_t version_before = s.Current().version;
  auto settled = s.f.store().Resolve(open.id, Decision{Decision::Keep::kServer, {}}, "camille");
  REQUIRE(settled.ok());
  CHECK(settled->settled_value == "salarie");
  CHECK(s.Current().version == version_before);
  CHECK(s.f.store().Conflicts({})->empty());
}

TEST_CASE("another value is validated, written and flows like any change", "[settle]") {
  SharedCase s;
  s.Race("notes", "Cherche en hôtellerie.", "Version A.", "Version B.");
  Conflict open = s.OnlyOpenConflict();
  auto settled = s.f.store().Resolve(open.id, Decision{Decision::Keep::kValue, "Version A.\nVersion B."}, "camille");
  REQUIRE(settled.ok());
  CHECK(settled->settlement == "value");
  CHECK(FieldOf(schema::CasesTable(), s.Current(), "notes") == "Version A.\nVersion B.");
}

TEST_CASE("a value that fails the field's validation is refused and changes nothing", "[settle]") {
  SharedCase s;
  s.Race("status", "demandeur_emploi", "salarie", "etudiant");
  Conflict open = s.OnlyOpenConflict();
  std::string before = s.f.Dump();
  auto refused = s.f.store().Resolve(open.id, Decision{Decision::Keep::kValue, "chomeur"}, "camille");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kValidation);
  CHECK(refused.error().message.find("status") != std::string::npos);
  CHECK(s.f.Dump() == before);
}

TEST_CASE("settling a conflict twice is refused and changes nothing", "[settle]") {
  SharedCase s;
  s.Race("status", "demandeur_emploi", "salarie", "etudiant");
  Conflict open = s.OnlyOpenConflict();
  REQUIRE(s.f.store().Resolve(open.id, Decision{Decision::Keep::kDevice, {}}, "camille").ok());
  std::string before = s.f.Dump();
  auto again = s.f.store().Resolve(open.id, Decision{Decision::Keep::kServer, {}}, "dominique");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kConflict);
  CHECK(again.error().message.find("camille") != std::string::npos);
  auto dismissed = s.f.store().Dismiss(open.id, "dominique");
  CHECK(dismissed.error().code == ErrorCode::kConflict);
  CHECK(s.f.Dump() == before);
}

TEST_CASE("an unknown conflict is not found", "[settle]") {
  StoreFixture f;
  CHECK(f.store().Resolve(42, Decision{}, "camille").error().code == ErrorCode::kNotFound);
  CHECK(f.store().Merge(42, {}, "camille").error().code == ErrorCode::kNotFound);
  CHECK(f.store().Dismiss(42, "camille").error().code == ErrorCode::kNotFound);
  CHECK(f.store().GetConflict(42).error().code == ErrorCode::kNotFound);
}

TEST_CASE("settling a territory conflict in favour of the device moves the case", "[settle]") {
  StoreFixture f;
  Enrolled a = f.Enrol("a", {kGap});
  Enrolled b = f.Enrol("b", {kGap, kBastia, "hautes-alpes-briancon"});
  Enrolled c = f.Enrol("c", {kBastia});
  std::string id = NewId();
  f.Push(a, {CreateCase(id, kGap, Stamp(kT0, "a"))});
  f.Push(a, {Update("cases", id, 1, Stamp(kT0 + 1, "a"), {{"territory", "hautes-alpes-briancon", kGap}})});
  f.Push(b, {Update("cases", id, 1, Stamp(kT0 + 2, "b"), {{"territory", kBastia, kGap}})});
  auto open = f.store().Conflicts({});
  REQUIRE(open->size() == 1);
  REQUIRE(f.store().Resolve((*open)[0].id, Decision{Decision::Keep::kDevice, {}}, "camille").ok());
  auto pulled = Find(f.Pull(c), id);
  REQUIRE(pulled);
  CHECK(FieldOf(schema::CasesTable(), pulled->record, "territory") == kBastia);
}

// ---- notices in pull -------------------------------------------------------------------------------

TEST_CASE("conflict notices reach only the devices whose scope holds the record", "[notices]") {
  SharedCase s;
  Enrolled far = s.f.Enrol("far", {kBastia});
  s.Race("status", "demandeur_emploi", "salarie", "etudiant");
  sync::PullPage near = s.f.Pull(s.b);
  REQUIRE(near.conflicts.size() == 1);
  CHECK(near.conflicts[0].status == "open");
  CHECK(near.conflicts[0].field == "status");
  CHECK(near.conflicts[0].device_value == "etudiant");
  CHECK(near.conflicts[0].server_value == "salarie");
  CHECK(near.conflicts[0].device == "b");
  CHECK(near.conflicts[0].server_device == "a");
  CHECK(s.f.Pull(far).conflicts.empty());
}

TEST_CASE("a conflict appears once per page, in its latest state", "[notices]") {
  SharedCase s;
  s.Race("status", "demandeur_emploi", "salarie", "etudiant");
  Conflict open = s.OnlyOpenConflict();
  REQUIRE(s.f.store().Resolve(open.id, Decision{Decision::Keep::kServer, {}}, "camille").ok());
  sync::PullPage page = s.f.Pull(s.b);
  auto notices = NoticesOf(page, open.id);
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].status == "settled");
  CHECK(notices[0].settlement == "server");
}

TEST_CASE("pages never split a sequence number between a record and the conflict opened with it", "[notices]") {
  SharedCase s;
  s.Race("status", "demandeur_emploi", "salarie", "etudiant");
  Conflict open = s.OnlyOpenConflict();
  // Walk the whole log one item at a time: every record version and the notice still arrive.
  int64_t cursor = 0;
  bool saw_notice = false;
  for (int pages = 0; pages < 20; ++pages) {
    sync::PullPage page = s.f.Pull(s.b, cursor, 1);
    for (const auto& n : page.conflicts) saw_notice = saw_notice || n.id == open.id;
    cursor = page.next;
    if (!page.more) break;
  }
  CHECK(saw_notice);
  CHECK(cursor == s.Current().version);
}

}  // namespace
}  // namespace relais::server::testing
