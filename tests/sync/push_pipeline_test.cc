// The push phase (sync/push_pipeline.h) alone: batches resent, formed, ramped, re-formed after a
// refused change, and answers that do not fit. The two-batches-in-flight order and the 409 resend
// are in push_runs_test.cc ("[push-after]").

#include <catch2/catch.hpp>

#include "sync/push_pipeline.h"
#include "tests/sync/fakes.h"

using namespace relais;
using namespace relais::sync;
using namespace relais::sync::testing;

namespace {

struct Push {
  SyncOptions options;
  SyncSummary summary;
  int64_t retries = 0;
  Retrier retrier{options, retries};

  SyncStatus Run(FakeReplica& replica, FakeCentre& centre, CentreTerms terms = {}) {
    PushPipeline push(replica, centre, retrier, options, terms, *replica.PendingCount(), summary);
    return push.Run();
  }
};

FakeCentre ApplyingCentre() {
  return FakeCentre([](const std::string&, const std::string&, const std::string& body) -> Result<HttpReply> {
    return ApplyAll(body);
  });
}

}  // namespace

TEST_CASE("a fast link's batches ramp up from kFirstPushBatch to the batch size; a slow link's are full at once",
          "[push]") {
  BatchRamp fast(5000, /*slow_link=*/false);
  std::vector<size_t> sizes;
  for (int i = 0; i < 6; ++i) sizes.push_back(fast.Next());
  CHECK(sizes == std::vector<size_t>{625, 1250, 2500, 5000, 5000, 5000});
  BatchRamp slow(5000, /*slow_link=*/true);
  CHECK(slow.Next() == 5000);
  BatchRamp small(100, /*slow_link=*/false);
  CHECK(small.Next() == 100);
}

TEST_CASE("an answer's outcomes are counted, with the reasons of the refused", "[push]") {
  PushResponse answer{"b", {}};
  answer.results.push_back({"1", ChangeStatus::kApplied, 3, {}, {}, {}});
  answer.results.push_back({"2", ChangeStatus::kMerged, 4, {}, {}, {}});
  answer.results.push_back({"3", ChangeStatus::kReview, 5, {}, {"status"}, {}});
  answer.results.push_back({"4", ChangeStatus::kRejected, 0, "hors territoire", {}, {}});
  SyncSummary s;
  CountAnswer(answer, s);
  CHECK(s.pushed == 4);
  CHECK(s.applied == 1);
  CHECK(s.merged == 1);
  CHECK(s.review == 1);
  CHECK(s.rejected == 1);
  REQUIRE(s.rejections.size() == 1);
  CHECK(s.rejections[0].change_id == "4");
  CHECK(s.rejections[0].reason == "hors territoire");
}

TEST_CASE("batches an interrupted sync left are resent first, oldest first, each on its own", "[push]") {
  FakeReplica replica;
  replica.unacknowledged.push_back(PushRequest{"old1", {AContactCreate(1)}});
  replica.unacknowledged.push_back(PushRequest{"old2", {AContactCreate(2)}});
  replica.pending.push_back(AContactCreate(3));
  FakeCentre centre = ApplyingCentre();
  Push push;
  REQUIRE(push.Run(replica, centre).ok());
  CHECK(replica.acknowledged == std::vector<std::string>{"old1", "old2", "b1"});
  CHECK(centre.Asked() == std::vector<std::string>{"POST /v1/push", "POST /v1/push", "POST /v1/push"});
  CHECK(push.summary.applied == 3);
  CHECK(push.summary.batches == 3);
}

TEST_CASE("a change the centre refuses (422) is rejected with its reason and the rest is formed anew, in order",
          "[push]") {
  FakeReplica replica;
  for (int i = 1; i <= 5; ++i) replica.pending.push_back(AContactCreate(i));
  const std::string refused = AContactCreate(2).change_id;
  std::vector<std::vector<std::string>> sent;  // the change ids of each batch, as sent
  FakeCentre centre([&](const std::string&, const std::string&, const std::string& body) -> Result<HttpReply> {
    auto request = DecodePushRequest(body);
    REQUIRE(request.ok());
    std::vector<std::string> ids;
    bool holds_refused = false;
    for (const Change& c : request->changes) {
      ids.push_back(c.change_id);
      holds_refused = holds_refused || c.change_id == refused;
    }
    sent.push_back(ids);
    if (holds_refused) {
      return HttpReply{422, EncodeError(MakeError(ErrorCode::kValidation, "organisation: trop longue"), refused), {}};
    }
    return ApplyAll(body);
  });
  Push push;
  push.options.push_batch = 3;
  REQUIRE(push.Run(replica, centre).ok());
  REQUIRE(replica.rejected.size() == 1);
  CHECK(replica.rejected[0].batch_key == "b1");
  CHECK(replica.rejected[0].change_id == refused);
  CHECK(replica.rejected[0].reason.find("organisation: trop longue") != std::string::npos);
  REQUIRE(sent.size() == 3);
  CHECK(sent[0].size() == 3);
  // The first batch's other changes first, then the rest, none lost, none twice.
  CHECK(sent[1] == std::vector<std::string>{AContactCreate(1).change_id, AContactCreate(3).change_id,
                                            AContactCreate(4).change_id});
  CHECK(sent[2] == std::vector<std::string>{AContactCreate(5).change_id});
  CHECK(push.summary.rejected == 1);
  CHECK(push.summary.applied == 4);
  CHECK(replica.pending.empty());
}

TEST_CASE("an answer that is not for the batch sent stops the push and acknowledges nothing", "[push]") {
  FakeReplica replica;
  replica.pending.push_back(AContactCreate(1));
  FakeCentre centre([](const std::string&, const std::string&, const std::string&) -> Result<HttpReply> {
    return HttpReply{200, EncodePushResponse(PushResponse{"another", {}}), {}};
  });
  Push push;
  auto pushed = push.Run(replica, centre);
  REQUIRE_FALSE(pushed.ok());
  CHECK(pushed.error().failure == SyncFailure::kAnswerNotForBatch);
  CHECK(pushed.error().code == ErrorCode::kProtocol);
  CHECK(pushed.error().exchange == Exchange::kPush);
  CHECK(replica.acknowledged.empty());
  CHECK(push.summary.pushed == 0);
}

TEST_CASE("a push the centre refuses (413) stops with its status, the batch left to the next sync", "[push]") {
  FakeReplica replica;
  replica.pending.push_back(AContactCreate(1));
  FakeCentre centre([](const std::string&, const std::string&, const std::string&) -> Result<HttpReply> {
    return HttpReply{413, EncodeError(MakeError(ErrorCode::kTooLarge, "body too large")), {}};
  });
  Push push;
  auto pushed = push.Run(replica, centre);
  REQUIRE_FALSE(pushed.ok());
  CHECK(pushed.error().failure == SyncFailure::kRefused);
  CHECK(pushed.error().http_status == 413);
  CHECK(pushed.error().code == ErrorCode::kTooLarge);
  CHECK(replica.acknowledged.empty());
  CHECK(replica.formed.size() == 1);  // still formed: resent as it was by the next sync
}
