// Test fixtures of the client layer: a replica in a fresh temp folder, builders for records, and the
// hash of its whole content, which a refused write must leave unchanged.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "base/clock.h"
#include "client/records.h"
#include "client/replica.h"
#include "tests/sqlite_content.h"

namespace relais::client::testing {

// A replica in its own temp folder (removed at the end), with a manual clock at 2026-03-02.
class TestReplica {
 public:
  TestReplica() : clock_(1772409600000) {
    std::string pattern = (std::filesystem::temp_directory_path() / "relais-client-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    auto opened = Replica::Open(path(), clock_);
    if (!opened) throw std::runtime_error(opened.error().message);
    replica_.emplace(std::move(*opened));
    records_.emplace(*replica_);
  }
  ~TestReplica() {
    records_.reset();
    replica_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path() const { return (dir_ / "replica.db").string(); }
  const std::filesystem::path& dir() const { return dir_; }
  Replica& replica() { return *replica_; }
  Records& records() { return *records_; }
  ManualClock& clock() { return clock_; }

  int64_t Scalar(const std::string& sql) {
    auto stmt = replica_->db().Prepare(sql);
    if (!stmt) throw std::runtime_error(stmt.error().message);
    auto row = stmt->Step();
    if (!row || !*row) throw std::runtime_error("no row: " + sql);
    return stmt->Int(0);
  }
  std::string Text(const std::string& sql) {
    auto stmt = replica_->db().Prepare(sql);
    if (!stmt) throw std::runtime_error(stmt.error().message);
    auto row = stmt->Step();
    if (!row || !*row) throw std::runtime_error("no row: " + sql);
    return stmt->Text(0);
  }
  // SHA-256 of every row of every table of the replica file (tests/sqlite_content.h): what a
  // refused write must leave as it was.
  std::string ContentHash() const { return relais::testing::SqliteContentHash(path()); }
  // The counts of cases, follow-ups, contacts and outbox entries, and the outbox's bytes, as
  // "cases/followups/contacts/outbox/bytes": what a write must have added. Not a proof that
  // nothing changed (an UPDATE keeps them all): that is ContentHash().
  std::string Counts() {
    return std::to_string(Scalar("SELECT count(*) FROM cases")) + "/" +
           std::to_string(Scalar("SELECT count(*) FROM followups")) + "/" +
           std::to_string(Scalar("SELECT count(*) FROM contacts")) + "/" +
           std::to_string(Scalar("SELECT count(*) FROM outbox")) + "/" +
           std::to_string(Scalar("SELECT total(length(fields)) FROM outbox"));
  }

 private:
  std::filesystem::path dir_;
  ManualClock clock_;
  std::optional<Replica> replica_;
  std::optional<Records> records_;
};

inline FieldValues ACase(const std::string& last = "Lefèvre", const std::string& first = "Élodie",
                         const std::string& commune = "Briançon") {
  return {{"last_name", last},           {"first_name", first},       {"commune", commune},
          {"postcode", "05100"},         {"opened_on", "2026-03-02"}, {"territory", "hautes-alpes-brianconnais"},
          {"status", "demandeur_emploi"}};
}

inline std::string Field(const schema::Table& table, const schema::Record& r, const std::string& name) {
  const auto& v = r.values[static_cast<size_t>(table.FieldIndex(name))];
  return v ? *v : std::string("<null>");
}

}  // namespace relais::client::testing
