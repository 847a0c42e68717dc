#include "client/replica_stats.h"

namespace relais::client {

namespace {

// A year's table reads most of the register, by date, from an encrypted file: with SQLite's
// default cache (2 MiB) the same pages are read and decrypted again and again. 64 MiB at most,
// used only as it fills (bench/RESULTS.md, "Statistics").
constexpr const char* kStatsCache = "PRAGMA cache_size = -65536";

class ReplicaDatabase final : public stats::Database {
 public:
  explicit ReplicaDatabase(sqlite::Db& db) : db_(db) {}

  Status Read(const std::string& sql, const std::vector<std::string>& params, int columns,
              const std::function<void(const std::vector<schema::Value>&)>& row) override {
    auto stmt = db_.Prepare(sql);
    if (!stmt) return stmt.error();
    for (size_t i = 0; i < params.size(); ++i) stmt->Bind(static_cast<int>(i) + 1, params[i]);
    std::vector<schema::Value> values;
    while (true) {
      auto more = stmt->Step();
      if (!more) return more.error();
      if (!*more) return OkStatus();
      values.clear();
      for (int c = 0; c < columns; ++c) values.push_back(stmt->Val(c));
      row(values);
    }
  }

 private:
  sqlite::Db& db_;
};

}  // namespace

Result<stats::StatsTable> ReplicaStats(Replica& replica, const stats::Query& query) {
  RELAIS_TRY(replica.db().Exec(kStatsCache));
  ReplicaDatabase db(replica.db());
  return stats::Compute(query, db);
}

Status ReadReplicaForStats(Replica& replica, const std::function<Status(stats::Database&)>& use) {
  RELAIS_TRY(replica.db().Exec(kStatsCache));
  ReplicaDatabase db(replica.db());
  // One read transaction: every table of a report counts the same replica.
  RELAIS_TRY(replica.db().Exec("BEGIN"));
  Status done = use(db);
  (void)replica.db().Exec("COMMIT");
  return done;
}

}  // namespace relais::client
