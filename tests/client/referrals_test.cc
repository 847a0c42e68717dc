// Referrals to partners on the device (client/referrals.h): the sharing consent they need, the
// status moves declared in schema/model.cc, and the refusals, each of which leaves the whole replica
// as it was (its content hash). Consent on cases (client/cases.h) and the participants of a
// tripartite meeting.
#include <catch2/catch.hpp>

#include "client/cases.h"
#include "client/referrals.h"
#include "tests/client/fixture.h"

namespace relais::client::testing {
namespace {

struct WithCase {
  WithCase() {
    auto person = r.records().Create(schema::CasesTable(), ACase());
    REQUIRE(person);
    case_id = person->id;
    auto partner = r.records().Create(schema::ContactsTable(), {{"organisation", std::string("GRETA Alpes")}});
    REQUIRE(partner);
    organisation = partner->id;
  }
  void Consent(const std::string& answer) {
    FieldValues consent = {{"consent_sharing", answer}};
    REQUIRE(CompleteConsent(consent, "2026-03-02", "pae-briancon"));
    REQUIRE(r.records().Edit(schema::CasesTable(), case_id, consent));
  }
  ReferralInput Input() const {
    ReferralInput in;
    in.case_id = case_id;
    in.organisation = organisation;
    in.service = "bilan_competences";
    in.due_on = "2026-03-20";
    return in;
  }
  TestReplica r;
  std::string case_id, organisation;
};

std::string Status(TestReplica& r, const std::string& id) {
  return r.Text("SELECT status FROM referrals WHERE id = '" + id + "'");
}

}  // namespace

TEST_CASE("a consent given as yes or oui is stored as oui, dated today and signed by its collector", "[referrals]") {
  FieldValues values = {{"consent_sharing", std::string("YES")}, {"consent_processing", std::string("non")}};
  REQUIRE(CompleteConsent(values, "2026-03-02", "pae-briancon"));
  FieldValues expected = {{"consent_sharing", std::string("oui")},
                          {"consent_processing", std::string("non")},
                          {"consent_processing_on", std::string("2026-03-02")},
                          {"consent_processing_by", std::string("pae-briancon")},
                          {"consent_sharing_on", std::string("2026-03-02")},
                          {"consent_sharing_by", std::string("pae-briancon")}};
  CHECK(values == expected);
  FieldValues wrong = {{"consent_sharing", std::string("peut-être")}};
  auto refused = CompleteConsent(wrong, "2026-03-02", "pae-briancon");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("consent_sharing: « peut-être »") != std::string::npos);
}

TEST_CASE("a referral without the person's sharing consent is refused and changes nothing", "[referrals]") {
  WithCase w;
  for (const char* answer : {"", "non"}) {
    if (*answer) w.Consent(answer);
    const std::string before = w.r.ContentHash();
    auto refused = AddReferral(w.r.records(), w.Input());
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kValidation);
    CHECK(refused.error().message.find("relais case edit " + w.case_id + " --consent-sharing oui") !=
          std::string::npos);
    CHECK(w.r.ContentHash() == before);
  }
  w.Consent("oui");
  auto sent = AddReferral(w.r.records(), w.Input());
  REQUIRE(sent);
  CHECK(Status(w.r, sent->id) == "envoyee");
  CHECK(w.r.Text("SELECT sent_on FROM referrals") == "2026-03-02");
}

TEST_CASE("a referral moves only along the declared transitions; a refused move changes nothing", "[referrals]") {
  WithCase w;
  w.Consent("oui");
  auto sent = AddReferral(w.r.records(), w.Input());
  REQUIRE(sent);
  const std::string id = sent->id;
  auto refuse_move = [&](const ReferralUpdate& update, const std::string& words) {
    const std::string before = w.r.ContentHash();
    auto refused = UpdateReferral(w.r.records(), id, update);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kValidation);
    INFO(refused.error().message);
    CHECK(refused.error().message.find(words) != std::string::npos);
    CHECK(w.r.ContentHash() == before);
  };
  // Done before the partner said yes; refused without its reason.
  refuse_move({"realisee", "", ""}, "passer de « envoyee » à « realisee » n'est pas permis");
  refuse_move({"refusee", "", ""}, "reason: un refus du partenaire se note avec son motif");
  REQUIRE(UpdateReferral(w.r.records(), id, {"acceptee", "", ""}));
  refuse_move({"refusee", "Complet", ""}, "permis : realisee, abandonnee");
  REQUIRE(UpdateReferral(w.r.records(), id, {"realisee", "", "Bilan remis le 15 mars."}));
  refuse_move({"acceptee", "", ""}, "plus aucun changement permis depuis « realisee »");
  CHECK(Status(w.r, id) == "realisee");
  // The create (written to the outbox by the first edit), then one update per move.
  CHECK(w.r.Scalar("SELECT count(*) FROM outbox WHERE tbl = 'referrals'") == 3);
}

TEST_CASE("a referral is overdue once its due date has passed while the partner's work is not over", "[referrals]") {
  WithCase w;
  w.Consent("oui");
  ReferralInput late = w.Input();
  late.due_on = "2026-03-01";
  auto sent = AddReferral(w.r.records(), late);
  REQUIRE(sent);
  REQUIRE(AddReferral(w.r.records(), w.Input()));  // due on the 20th
  ReferralFilter overdue;
  overdue.overdue_only = true;
  auto found = ListReferrals(w.r.records(), overdue);
  REQUIRE(found);
  REQUIRE(found->size() == 1);
  CHECK(found->front().referral.id == sent->id);
  CHECK(found->front().case_name == "Lefèvre Élodie");
  CHECK(found->front().organisation_name == "GRETA Alpes");
  // The agenda's week: the late one, and the one due within it.
  auto due = DueReferrals(w.r.records(), "2026-03-16", "2026-03-22");
  REQUIRE(due);
  CHECK(due->size() == 2);
  REQUIRE(UpdateReferral(w.r.records(), sent->id, {"refusee", "Hors zone", ""}));
  found = ListReferrals(w.r.records(), overdue);
  REQUIRE(found);
  CHECK(found->empty());
  CHECK(!IsOverdue("realisee", "2026-03-01", "2026-03-02"));
  CHECK(IsOverdue("acceptee", "2026-03-01", "2026-03-02"));
}

TEST_CASE("a tripartite meeting names the partner and the person, or is refused", "[referrals]") {
  WithCase w;
  const std::string before = w.r.ContentHash();
  for (const FieldValues& values :
       {FieldValues{{"kind", "tripartite"}, {"text", "Réunion."}},
        FieldValues{{"kind", "tripartite"}, {"text", "Réunion."}, {"participants", "Mme Roux (GRETA Alpes)"}}}) {
    auto refused = AddFollowup(w.r.records(), w.case_id, values);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("participants: une réunion tripartite") != std::string::npos);
    CHECK(w.r.ContentHash() == before);
  }
  auto joined = JoinParticipants({"Mme Roux (GRETA Alpes)", " Élodie Lefèvre "});
  REQUIRE(joined);
  CHECK(*joined == "Mme Roux (GRETA Alpes); Élodie Lefèvre");
  CHECK_FALSE(JoinParticipants({"A; B"}));
  auto met =
      AddFollowup(w.r.records(), w.case_id, {{"kind", "tripartite"}, {"text", "Réunion."}, {"participants", *joined}});
  REQUIRE(met);
}

}  // namespace relais::client::testing
