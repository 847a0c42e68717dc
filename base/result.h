// base/ — the smallest shared vocabulary of Relais: errors as values, ids, clocks, text folding and
// compression. It knows nothing of the schema, SQLite, the network or the CLI.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace relais {

// What went wrong, in a form every layer can map: the CLI to an exit code, the server to an HTTP
// status. Keep four things apart: a network failure (kNetwork), an HTTP status the peer answered
// (kHttp), a protocol error (kProtocol) and a per-record outcome (never an Error: see sync/merge.h).
enum class ErrorCode {
  kUsage,       // the caller asked something malformed (exit 2, HTTP 400)
  kValidation,  // a value fails the schema (exit 3, HTTP 422)
  kNotFound,    // no such record (exit 4, HTTP 404)
  kConflict,    // the request contradicts the state (HTTP 409), e.g. a reused idempotency key
  kAuth,        // missing, unknown or revoked token (HTTP 401)
  // A token revoked with an order to erase the device's replica (HTTP 401, code revoked_wipe;
  // `relais` exit 6 once it erased it: docs/CLI.md)
  kWipeOrdered,
  kForbidden,   // outside the caller's scope (HTTP 403)
  kTooLarge,    // over a documented limit (HTTP 413)
  kProtocol,    // a message the protocol does not allow, or a version we do not speak
  kNetwork,     // could not reach the peer, or the exchange was cut
  kHttp,        // the peer answered with an unexpected HTTP status
  kTooNew,      // a file written by a newer Relais
  kLocked,      // an encrypted replica whose key is not at hand: locked, or a wrong passphrase (exit 5)
  kIo,          // the file system or the database failed
  kInternal,    // a bug: an invariant did not hold
};

struct Error {
  ErrorCode code;
  std::string message;
};

inline Error MakeError(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

// A value or an Error (or, for a layer that reports richer facts, an error type of its own, such as
// sync::SyncError). Accessing value() of a failed Result is a programming error.
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  Result(E error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status OkStatus() { return Unit{}; }

}  // namespace relais

// Returns the error of a failed Result from the enclosing function.
#define RELAIS_TRY(expr)                                             \
  do {                                                               \
    auto relais_try_result_ = (expr);                                \
    if (!relais_try_result_.ok()) return relais_try_result_.error(); \
  } while (0)
