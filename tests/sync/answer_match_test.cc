// sync::MatchAnswer and sync::TakesCentreVersion: how the centre's answer to a push batch is matched
// to the batch's outbox entries and changes ("nothing is lost": each entry acknowledged at most once,
// the entries the answer does not mention released).

#include <catch2/catch.hpp>

#include "sync/answer_match.h"

using namespace relais::sync;

namespace {

PushRequest ABatch(const std::vector<std::string>& ids) {
  PushRequest r{"batch", {}};
  for (const std::string& id : ids) {
    Change c;
    c.change_id = id;
    r.changes.push_back(c);
  }
  return r;
}

PushResponse AnAnswer(const std::vector<std::string>& ids) {
  PushResponse a{"batch", {}};
  for (const std::string& id : ids) a.results.push_back({id, ChangeStatus::kApplied, 7, {}, {}, {}});
  return a;
}

// (result, entry, change) of each match, in order.
std::vector<std::tuple<size_t, size_t, size_t>> Pairs(const AnswerMatch& m) {
  std::vector<std::tuple<size_t, size_t, size_t>> out;
  for (const AnswerMatch::Answered& a : m.answered) out.emplace_back(a.result, a.entry, a.change);
  return out;
}

}  // namespace

TEST_CASE("an answer in the batch's order matches each result to the entry and change at its position",
          "[answer_match]") {
  const std::vector<std::string> ids{"a", "b", "c"};
  AnswerMatch m = MatchAnswer(ids, ABatch(ids), AnAnswer(ids));
  CHECK(Pairs(m) == std::vector<std::tuple<size_t, size_t, size_t>>{{0, 0, 0}, {1, 1, 1}, {2, 2, 2}});
  CHECK(m.unanswered.empty());
}

TEST_CASE("an answer in another order is matched by change id", "[answer_match]") {
  const std::vector<std::string> ids{"a", "b", "c"};
  AnswerMatch m = MatchAnswer(ids, ABatch({"c", "a", "b"}), AnAnswer({"b", "c", "a"}));
  CHECK(Pairs(m) == std::vector<std::tuple<size_t, size_t, size_t>>{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}});
  CHECK(m.unanswered.empty());
}

TEST_CASE("entries the answer does not mention are unanswered, in their order", "[answer_match]") {
  const std::vector<std::string> ids{"a", "b", "c", "d"};
  AnswerMatch m = MatchAnswer(ids, ABatch(ids), AnAnswer({"c", "a"}));
  CHECK(Pairs(m) == std::vector<std::tuple<size_t, size_t, size_t>>{{0, 2, 2}, {1, 0, 0}});
  CHECK(m.unanswered == std::vector<size_t>{1, 3});
}

TEST_CASE("a result for no entry of the batch, and a second result for an entry, are left out", "[answer_match]") {
  const std::vector<std::string> ids{"a", "b"};
  PushResponse answer = AnAnswer({"b", "zzz", "b", "a"});
  answer.results[0].status = ChangeStatus::kApplied;
  answer.results[2].status = ChangeStatus::kRejected;
  AnswerMatch m = MatchAnswer(ids, ABatch(ids), answer);
  // The first result for b counts, not the second.
  CHECK(Pairs(m) == std::vector<std::tuple<size_t, size_t, size_t>>{{0, 1, 1}, {3, 0, 0}});
  CHECK(m.unanswered.empty());
}

TEST_CASE("an entry whose change the request does not hold is matched without a change", "[answer_match]") {
  const std::vector<std::string> ids{"a", "b"};
  AnswerMatch m = MatchAnswer(ids, ABatch({"a"}), AnAnswer({"a", "b"}));
  CHECK(Pairs(m) == std::vector<std::tuple<size_t, size_t, size_t>>{{0, 0, 0}, {1, 1, kUnmatched}});
}

TEST_CASE("an empty answer leaves every entry unanswered", "[answer_match]") {
  const std::vector<std::string> ids{"a", "b"};
  AnswerMatch m = MatchAnswer(ids, ABatch(ids), AnAnswer({}));
  CHECK(m.answered.empty());
  CHECK(m.unanswered == std::vector<size_t>{0, 1});
}

TEST_CASE("an answer fits its batch by key and by number of results", "[answer_match]") {
  const PushRequest batch = ABatch({"a", "b"});
  CHECK(AnswerFitsBatch(batch, AnAnswer({"a", "b"})));
  CHECK_FALSE(AnswerFitsBatch(batch, AnAnswer({"a"})));
  PushResponse other = AnAnswer({"a", "b"});
  other.batch_key = "another";
  CHECK_FALSE(AnswerFitsBatch(batch, other));
}

TEST_CASE("an accepted create and an update applied as sent take the centre's version at once", "[answer_match]") {
  Change create;
  create.op = Op::kCreate;
  Change update;
  update.op = Op::kUpdate;
  update.base_version = 7;
  auto result = [](ChangeStatus status, int64_t version) { return ChangeResult{"x", status, version, {}, {}, {}}; };
  // A create: accepted in any way, with a version.
  CHECK(TakesCentreVersion(create, result(ChangeStatus::kApplied, 12)));
  CHECK(TakesCentreVersion(create, result(ChangeStatus::kMerged, 12)));
  CHECK(TakesCentreVersion(create, result(ChangeStatus::kReview, 12)));
  CHECK_FALSE(TakesCentreVersion(create, result(ChangeStatus::kRejected, 0)));
  CHECK_FALSE(TakesCentreVersion(create, result(ChangeStatus::kRejected, 12)));
  CHECK_FALSE(TakesCentreVersion(create, result(ChangeStatus::kApplied, 0)));
  // An update: applied as sent, past its base; a merged one is left to the pull.
  CHECK(TakesCentreVersion(update, result(ChangeStatus::kApplied, 12)));
  CHECK_FALSE(TakesCentreVersion(update, result(ChangeStatus::kApplied, 7)));
  CHECK_FALSE(TakesCentreVersion(update, result(ChangeStatus::kMerged, 12)));
  CHECK_FALSE(TakesCentreVersion(update, result(ChangeStatus::kReview, 12)));
  CHECK_FALSE(TakesCentreVersion(update, result(ChangeStatus::kRejected, 12)));
}
