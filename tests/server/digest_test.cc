// The divergence check's digest as the centre keeps it on write (docs/PROTOCOL.md, "Divergence
// check"): after any sequence of writes, the aggregate over the kept per-record digests equals the
// digest hashed from every value.
#include <random>

#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBriancon = "hautes-alpes-brianconnais";
const std::string kBastia = "corse-bastia";

// Forgets every kept digest, so that the next Digest hashes every record from its values.
void ForgetKeptDigests(StoreFixture& f) {
  for (const char* table : {"cases", "followups", "contacts"}) {
    f.ExecuteSql(std::string("UPDATE ") + table + " SET digest_key = NULL, digest_values = NULL");
  }
}

sync::ScopeDigest DigestOf(StoreFixture& f, const Enrolled& who) {
  auto digest = f.store().Digest(who.device);
  if (!digest.ok()) FAIL(digest.error().message);
  return digest->digest;
}

// Every table's count, sum and values, side by side, for a failure to show.
std::string Describe(const sync::ScopeDigest& d) {
  std::string out;
  for (const auto& [name, t] : d.tables) {
    out += name + ": " + std::to_string(t.count) + " " + sync::SumToHex(t.sum) + " " + sync::SumToHex(t.values) + "\n";
  }
  return out;
}

TEST_CASE("the digest kept on write equals the digest hashed from every value, after any writes", "[digest]") {
  StoreFixture f;
  Enrolled both = f.Enrol("both", {kGap, kBriancon});
  Enrolled gap = f.Enrol("gap", {kGap});
  Enrolled bastia = f.Enrol("bastia", {kBastia});
  const std::vector<std::string> territories = {kGap, kBriancon, kBastia};

  std::mt19937 rng(24);
  auto pick = [&](size_t n) { return static_cast<size_t>(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
  struct Held {
    std::string id;
    int64_t version = 0;
  };
  std::vector<Held> cases, contacts;
  int64_t tick = 0;
  auto stamp = [&] { return Stamp(kT0 + ++tick, "staff"); };
  // Pushes one change as `who`, noting the version it made.
  auto push = [&](const Enrolled& who, sync::Change change, Held* held) {
    sync::PushResponse r = f.Push(who, {std::move(change)});
    REQUIRE(r.results.size() == 1);
    if (held && r.results[0].status != sync::ChangeStatus::kRejected) held->version = r.results[0].version;
  };

  for (int step = 0; step < 160; ++step) {
    const size_t what = cases.empty() ? 0 : pick(7);
    if (what == 0) {
      // A new case; one in four is the same person as another (a duplicate, merged below).
      Held c{NewId(), 0};
      const std::string territory = territories[pick(territories.size())];
      const Enrolled& who = territory == kBastia ? bastia : both;
      FieldValues person = {
          {"birth_date", pick(4) == 0 ? "1990-04-12" : "19" + std::to_string(50 + pick(40)) + "-01-02"},
          {"phone", "06" + std::to_string(10000000 + pick(89999999))}};
      push(who, CreateCase(c.id, territory, stamp(), person), &c);
      cases.push_back(c);
    } else if (what == 1) {
      Held& c = cases[pick(cases.size())];
      push(both, CreateFollowup(NewId(), c.id, stamp()), nullptr);
    } else if (what == 2) {
      Held k{NewId(), 0};
      push(gap, CreateContact(k.id, "04" + std::to_string(10000000 + pick(89999999)), stamp()), &k);
      contacts.push_back(k);
    } else if (what == 3 && !contacts.empty()) {
      Held& k = contacts[pick(contacts.size())];
      push(gap, Update("contacts", k.id, k.version, stamp(), {{"role", "conseillère " + std::to_string(step), {}}}),
           &k);
    } else if (what == 4) {
      Held& c = cases[pick(cases.size())];
      push(both, Update("cases", c.id, c.version, stamp(), {{"notes", "note " + std::to_string(step), {}}}), &c);
    } else {
      // A move between the two territories of `both` (its follow-ups follow it), or an edit by a
      // device that does not hold the case (refused, changes nothing).
      Held& c = cases[pick(cases.size())];
      const std::string to = pick(2) ? kGap : kBriancon;
      push(both, Update("cases", c.id, c.version, stamp(), {{"territory", to, {}}}), &c);
    }
  }
  // Staff settle what opened: duplicates merged (the twin's follow-ups move to the survivor), the
  // rest resolved.
  auto open = f.store().Conflicts({});
  REQUIRE(open.ok());
  int settled = 0;
  for (const Conflict& c : *open) {
    if (c.status != "open") continue;
    auto done = c.kind == "duplicate" ? f.store().Merge(c.id, {"phone"}, "camille")
                                      : f.store().Resolve(c.id, Decision{Decision::Keep::kDevice, {}}, "camille");
    if (done.ok()) ++settled;
  }
  INFO(settled << " conflicts settled");

  const std::vector<const Enrolled*> devices = {&both, &gap, &bastia};
  std::vector<sync::ScopeDigest> kept;
  for (const Enrolled* who : devices) kept.push_back(DigestOf(f, *who));
  CHECK(kept[0].tables.at("cases").count > 0);
  CHECK(kept[0].tables.at("followups").count > 0);
  // Follow-ups moved with their case, which the digest hashes until the store fills them.
  const int64_t moved = f.Count("SELECT count(*) FROM followups WHERE digest_values IS NULL");
  INFO(moved << " follow-ups moved");
  ForgetKeptDigests(f);
  for (size_t i = 0; i < devices.size(); ++i) {
    const sync::ScopeDigest hashed = DigestOf(f, *devices[i]);
    INFO(devices[i]->device.name << "\nkept:\n" << Describe(kept[i]) << "hashed:\n" << Describe(hashed));
    CHECK(kept[i] == hashed);
    for (const auto& [name, t] : hashed.tables) {
      CHECK(t.count == kept[i].tables.at(name).count);
      CHECK(t.sum == kept[i].tables.at(name).sum);
      CHECK(t.values == kept[i].tables.at(name).values);
    }
  }
  // The store fills the digests it finds missing when it opens, to the same sums.
  f.Reopen();
  CHECK(f.Count("SELECT count(*) FROM cases WHERE digest_values IS NULL") == 0);
  CHECK(f.Count("SELECT count(*) FROM followups WHERE digest_values IS NULL") == 0);
  for (size_t i = 0; i < devices.size(); ++i) CHECK(DigestOf(f, *devices[i]) == kept[i]);
}

}  // namespace
}  // namespace relais::server::testing
