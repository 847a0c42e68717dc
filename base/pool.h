// A pool of connections (or any costly handle) to one database, opened on demand and kept for
// reuse: the central store's SQLite readers and its PostgreSQL connections. Knows nothing of what
// a connection is; its owner says how to open one and whether one may be reused.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "base/result.h"

namespace relais {

// Thread-safe. `Conn` is movable (sqlite::Db, std::unique_ptr<pg::Conn>). A lease gives its
// connection back when it ends; one that `reusable` refuses (a broken link, an open transaction)
// is closed rather than kept, and at most `max_idle` are kept.
template <class Conn>
class Pool {
 public:
  using Open = std::function<Result<Conn>()>;
  using Reusable = std::function<bool(const Conn&)>;

  Pool(Open open, size_t max_idle, Reusable reusable = nullptr)
      : open_(std::move(open)), reusable_(std::move(reusable)), max_idle_(max_idle) {}

  class Lease {
   public:
    Lease(Pool* pool, Conn conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) { o.conn_.reset(); }
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Return(std::move(*conn_));
    }
    Conn& conn() { return *conn_; }

   private:
    Pool* pool_;
    std::optional<Conn> conn_;
  };

  // An idle connection, or a new one opened; the opener's error otherwise.
  Result<Lease> Borrow() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        Conn conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
    }
    auto conn = open_();
    if (!conn) return conn.error();
    return Lease(this, std::move(*conn));
  }

 private:
  void Return(Conn conn) {
    if (reusable_ && !reusable_(conn)) return;  // closed: a fresh one replaces it
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
  }

  const Open open_;
  const Reusable reusable_;
  const size_t max_idle_;
  std::mutex mutex_;  // guards idle_
  std::vector<Conn> idle_;
};

}  // namespace relais
