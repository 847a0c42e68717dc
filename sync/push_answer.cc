// The answer to a push (docs/PROTOCOL.md, `POST /v1/push`): written by the centre, read by the
// device. Declared in sync/codec.h.
#include <optional>
#include <string>
#include <vector>

#include "sync/codec.h"
#include "sync/json_sax.h"
#include "sync/json_text.h"
#include "sync/message_checks.h"
#include "sync/push_raw.h"

namespace relais::sync {

namespace {

ChangeStatus StatusFromString(const std::string& s, bool& ok) {
  ok = true;
  if (s == "applied") return ChangeStatus::kApplied;
  if (s == "merged") return ChangeStatus::kMerged;
  if (s == "review") return ChangeStatus::kReview;
  if (s == "rejected") return ChangeStatus::kRejected;
  ok = false;
  return ChangeStatus::kRejected;
}

Error Malformed(const char* what) { return MakeError(ErrorCode::kProtocol, std::string("push answer ") + what); }

// ---- the answer, read without a DOM ---------------------------------------------------------------
//
// An answer holds one result per change, 5,000 for a full batch. Building nlohmann's DOM of it (a
// map and four strings per result) was a twelfth of a device's CPU in a push, so it is read event
// by event (sync/json_sax.h: exactly the texts nlohmann accepts). It accepts and refuses what the
// DOM decoder did, with its messages and their precedence (tests/sync/push_answer_test.cc compares
// the two on mutated answers): a member given twice counts with its last value; the text, then
// the protocol, then `batch` and `results`, then the first malformed result.

using internal::Scalar;

// One element of `results` as read.
struct RawResult {
  bool is_object = false;
  Scalar id, status, version, code, reason, review;
  std::vector<std::string> review_texts;  // the string elements of `review`, when it is an array
};

class AnswerReader {
 public:
  bool null() { return Put(Scalar::kNull, 0, nullptr); }
  bool boolean(bool) { return Put(Scalar::kBool, 0, nullptr); }
  bool number_integer(int64_t n) { return Put(Scalar::kInt, n, nullptr); }
  bool number_unsigned(uint64_t n) { return Put(Scalar::kInt, static_cast<int64_t>(n), nullptr); }
  bool number_float(double, const std::string&) { return Put(Scalar::kFloat, 0, nullptr); }
  bool string(std::string& text) { return Put(Scalar::kString, 0, &text); }
  bool start_object(std::size_t) {
    Open(true);
    return true;
  }
  bool start_array(std::size_t) {
    Open(false);
    return true;
  }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(std::string& name) {
    stack_.back().key.assign(name);
    return true;
  }

  Result<PushResponse> Finish(bool parsed) {
    if (!parsed) return MakeError(ErrorCode::kUsage, "the body is not valid JSON");
    if (document_ != Scalar::kObject) return Malformed("is not a JSON object");
    RELAIS_TRY(CheckMessageProtocol(protocol_.kind == Scalar::kInt ? &protocol_.number : nullptr));
    if (batch_.kind != Scalar::kString || results_ != Scalar::kArray) return Malformed("lacks batch or results");
    response_.batch_key = std::move(batch_.text);
    if (error_) return *error_;
    return std::move(response_);
  }

 private:
  enum class Role { kTop, kResults, kResult, kReview, kSkip };
  struct Frame {
    Role role;
    std::string key;  // objects: the member being read
  };

  // Where a value starting now goes: its frame's member, or nowhere (nullptr).
  Scalar* Target() {
    Frame& f = stack_.back();
    if (f.role == Role::kTop) {
      if (f.key == "protocol") return &protocol_;
      if (f.key == "batch") return &batch_;
      return nullptr;
    }
    if (f.role == Role::kResult) {
      if (f.key == "id") return &raw_.id;
      if (f.key == "status") return &raw_.status;
      if (f.key == "version") return &raw_.version;
      if (f.key == "code") return &raw_.code;
      if (f.key == "reason") return &raw_.reason;
      if (f.key == "review") {
        raw_.review_texts.clear();
        return &raw_.review;
      }
    }
    return nullptr;
  }

  bool Put(Scalar::Kind kind, int64_t number, std::string* text) {
    if (stack_.empty()) {
      document_ = kind;
      return true;
    }
    Frame& f = stack_.back();
    if (f.role == Role::kResults) {
      StartResult(false);
      EndResult();
      return true;
    }
    if (f.role == Role::kReview) {
      if (kind == Scalar::kString) raw_.review_texts.push_back(std::move(*text));
      return true;
    }
    if (f.role == Role::kTop && f.key == "results") {
      StartResults();
      results_ = kind;
      return true;
    }
    if (Scalar* s = Target()) {
      s->kind = kind;
      s->number = number;
      if (text) s->text = std::move(*text);
    }
    return true;
  }

  void Open(bool object) {
    if (stack_.empty()) {
      document_ = object ? Scalar::kObject : Scalar::kArray;
      stack_.push_back(Frame{object ? Role::kTop : Role::kSkip, {}});
      return;
    }
    Frame& f = stack_.back();
    Role role = Role::kSkip;
    if (f.role == Role::kResults) {
      StartResult(object);
      role = object ? Role::kResult : Role::kSkip;
    } else if (f.role == Role::kTop && f.key == "results") {
      StartResults();
      results_ = object ? Scalar::kObject : Scalar::kArray;
      if (!object) role = Role::kResults;
    } else if (Scalar* s = Target()) {
      s->kind = object ? Scalar::kObject : Scalar::kArray;
      if (s == &raw_.review && !object) role = Role::kReview;
    }
    stack_.push_back(Frame{role, {}});
  }

  bool Close() {
    const Role role = stack_.back().role;
    stack_.pop_back();
    // A result ends with its object, or (not an object) as its array closes.
    if (role == Role::kResult || (role == Role::kSkip && !stack_.empty() && stack_.back().role == Role::kResults)) {
      EndResult();
    }
    return true;
  }

  // `results` starts (again: given twice, the last one counts).
  void StartResults() {
    response_.results.clear();
    error_.reset();
  }

  void StartResult(bool object) {
    raw_ = RawResult{};
    raw_.is_object = object;
  }

  // The checks of one result, in the DOM decoder's order; the first failure is kept.
  void EndResult() {
    if (error_) return;
    RawResult& r = raw_;
    if (!r.is_object || r.id.kind != Scalar::kString || r.status.kind != Scalar::kString) {
      error_ = Malformed("holds a malformed result");
      return;
    }
    ChangeResult cr;
    cr.change_id = std::move(r.id.text);
    bool ok;
    cr.status = StatusFromString(r.status.text, ok);
    if (!ok) {
      error_ = Malformed("holds an unknown status");
      return;
    }
    if (r.version.kind != Scalar::kMissing && r.version.kind != Scalar::kNull && r.version.kind != Scalar::kInt) {
      error_ = Malformed("holds a malformed version");
      return;
    }
    if (r.version.kind == Scalar::kInt) cr.version = r.version.number;
    if (r.reason.kind != Scalar::kMissing && r.reason.kind != Scalar::kNull && r.reason.kind != Scalar::kString) {
      error_ = Malformed("holds a malformed reason");
      return;
    }
    if (r.reason.kind == Scalar::kString) cr.reason = std::move(r.reason.text);
    if (r.code.kind != Scalar::kMissing && r.code.kind != Scalar::kNull && r.code.kind != Scalar::kString) {
      error_ = Malformed("holds a malformed code");
      return;
    }
    if (r.code.kind == Scalar::kString) cr.code = std::move(r.code.text);
    if (r.review.kind == Scalar::kArray) cr.review_fields = std::move(r.review_texts);
    response_.results.push_back(std::move(cr));
  }

  std::vector<Frame> stack_;
  Scalar::Kind document_ = Scalar::kMissing;
  Scalar protocol_, batch_;
  Scalar::Kind results_ = Scalar::kMissing;
  RawResult raw_;
  PushResponse response_;
  std::optional<Error> error_;
};

}  // namespace

std::string EncodePushResponse(const PushResponse& response) {
  // Written directly (one result per change), in the very bytes the DOM would dump: members in
  // name order. The centre stores this text and answers a retried batch with it.
  std::string out;
  out.reserve(64 + response.results.size() * 72);
  out += "{\"batch\":";
  AppendJsonString(out, response.batch_key);
  out += ",\"protocol\":";
  AppendJsonInt(out, kProtocolVersion);
  out += ",\"results\":[";
  for (size_t i = 0; i < response.results.size(); ++i) {
    const ChangeResult& r = response.results[i];
    if (i) out += ',';
    out += '{';
    if (!r.code.empty()) {
      out += "\"code\":";
      AppendJsonString(out, r.code);
      out += ',';
    }
    out += "\"id\":";
    AppendJsonString(out, r.change_id);
    if (!r.reason.empty()) {
      out += ",\"reason\":";
      AppendJsonString(out, r.reason);
    }
    if (!r.review_fields.empty()) {
      out += ",\"review\":[";
      for (size_t f = 0; f < r.review_fields.size(); ++f) {
        if (f) out += ',';
        AppendJsonString(out, r.review_fields[f]);
      }
      out += ']';
    }
    out += ",\"status\":";
    AppendJsonString(out, ToString(r.status));
    out += ",\"version\":";
    AppendJsonInt(out, r.version);
    out += '}';
  }
  out += "]}";
  return out;
}

Result<PushResponse> DecodePushResponse(std::string_view text) {
  RELAIS_TRY(CheckMessageText(text));
  AnswerReader reader;
  const bool parsed = ParseJsonSax(text, reader);
  return reader.Finish(parsed);
}

}  // namespace relais::sync
