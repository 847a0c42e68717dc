// Work pushed on a case that left the device's territories: accepted while the device still held the
// case (docs/PROTOCOL.md, "Work on a case that left the device's territories"), refused once it has
// pulled the move.
#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

using sync::ChangeStatus;

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

// A case of Gap written by `nevache`, moved to Bastia by `hub`, which sees both.
struct MovedCase {
  MovedCase() : nevache(f.Enrol("nevache", {kGap})), hub(f.Enrol("hub", {kGap, kBastia})) {
    f.Push(nevache, {CreateCase(id, kGap, Stamp(kT0, "n"))});
    f.Push(hub, {Update("cases", id, 1, Stamp(kT0 + 1, "h"), {{"territory", kBastia, kGap}})});
  }
  StoreFixture f;
  Enrolled nevache, hub;
  std::string id = NewId();
};

TEST_CASE("a device that has not pulled a case's move has its follow-ups and edits on the case accepted",
          "[push][moves]") {
  MovedCase m;
  auto response = m.f.Push(m.nevache, {CreateFollowup(NewId(), m.id, Stamp(kT0 + 2, "n")),
                                       Update("cases", m.id, 1, Stamp(kT0 + 3, "n"), {{"phone", "0611223344", {}}})});
  CHECK(response.results[0].status == ChangeStatus::kApplied);
  CHECK(response.results[1].status == ChangeStatus::kMerged);
  // The receiving territory has them; the device's scope does not.
  sync::PullPage bastia = m.f.Pull(m.hub);
  CHECK(bastia.records.size() == 2);
  CHECK(m.f.Pull(m.nevache).records.empty());
}

TEST_CASE("a device that has pulled a case's move can no longer write on the case", "[push][moves]") {
  MovedCase m;
  const int64_t last = m.f.Pull(m.hub).next;
  m.f.Pull(m.nevache, last);  // a pull from after the move: the device holds every change up to it
  auto again = m.f.store().Authenticate(m.nevache.token);
  REQUIRE(again.ok());
  CHECK(again->pulled_to == last);
  m.nevache.device = *again;
  auto response = m.f.Push(m.nevache, {CreateFollowup(NewId(), m.id, Stamp(kT0 + 2, "n")),
                                       Update("cases", m.id, 1, Stamp(kT0 + 3, "n"), {{"phone", "0611223344", {}}})});
  CHECK(response.results[0].status == ChangeStatus::kRejected);
  CHECK(response.results[1].status == ChangeStatus::kRejected);
  // Told as for a case nobody holds: where the case went is not named.
  CHECK(response.results[0].code == "unknown_case");
  CHECK(response.results[0].reason == "le dossier " + m.id + " est inconnu ou hors des territoires de cet appareil");
  CHECK(m.f.Pull(m.hub).records.size() == 1);
}

TEST_CASE("a device of a territory the case never was in cannot write on it", "[push][moves]") {
  MovedCase m;
  Enrolled other = m.f.Enrol("ajaccio", {"corse-ajaccio"});
  auto response = m.f.Push(other, {CreateFollowup(NewId(), m.id, Stamp(kT0 + 2, "a"))});
  CHECK(response.results[0].status == ChangeStatus::kRejected);
}

}  // namespace
}  // namespace relais::server::testing
