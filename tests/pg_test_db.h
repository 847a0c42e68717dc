// A fresh, empty PostgreSQL database per test, on the throwaway cluster that ./scripts/test.sh
// starts (scripts/pg_cluster.sh) and names in RELAIS_TEST_PG_URL; dropped at scope exit. The test
// programs run against PostgreSQL instead of SQLite when RELAIS_TEST_STORE=postgresql (ctest
// registers them once per store).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/ids.h"

namespace relais::testing {

// True when this run of the test program is the PostgreSQL one.
inline bool OnPostgres() {
  const char* store = std::getenv("RELAIS_TEST_STORE");
  return store && std::string(store) == "postgresql";
}

// Runs SQL on a database of the test cluster, for fixtures and checks.
class PgAdmin {
 public:
  explicit PgAdmin(const std::string& url) : conn_(PQconnectdb(url.c_str()), &PQfinish) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      throw std::runtime_error("test PostgreSQL unreachable: " + std::string(PQerrorMessage(conn_.get())));
    }
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);
  }

  // The rows of `sql`, each as its columns' texts ("\N" for NULL).
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn_.get(), sql.c_str()), &PQclear);
    auto status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      throw std::runtime_error("test SQL failed: " + sql + ": " + PQresultErrorMessage(r.get()));
    }
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r.get()); ++j) {
        row.push_back(PQgetisnull(r.get(), i, j) ? "\\N" : PQgetvalue(r.get(), i, j));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }
  int64_t Count(const std::string& sql) { return std::stoll(Query(sql).at(0).at(0)); }

  // Every row of every table of the database, each table's rows sorted: equal texts, equal data.
  std::string DumpAll() {
    std::string all;
    for (const auto& table : Query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                   "ORDER BY tablename")) {
      if (table[0] == "relais_schema_version") continue;  // holds the time it was applied
      all += "#" + table[0] + "\n";
      for (const auto& row : Query("SELECT t::text FROM \"" + table[0] + "\" t ORDER BY 1")) all += row[0] + "\n";
    }
    return all;
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// A database of its own on the test cluster, created empty and dropped at scope exit.
class PgTestDatabase {
 public:
  PgTestDatabase() {
    const char* base = std::getenv("RELAIS_TEST_PG_URL");
    if (!base || !*base) {
      throw std::runtime_error(
          "RELAIS_TEST_STORE=postgresql needs RELAIS_TEST_PG_URL (run ./scripts/test.sh, which starts a throwaway "
          "cluster; or scripts/pg_cluster.sh start and export the URL it prints)");
    }
    admin_url_ = base;
    name_ = "relais_t_" + RandomHex(6);
    PgAdmin(admin_url_).Query("CREATE DATABASE " + name_);
    const size_t slash = admin_url_.rfind('/');
    url_ = admin_url_.substr(0, slash + 1) + name_;
  }
  ~PgTestDatabase() {
    try {
      PgAdmin(admin_url_).Query("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      PgAdmin(admin_url_).Query("DROP DATABASE IF EXISTS " + name_ + "_backup WITH (FORCE)");
    } catch (...) {
    }
  }
  // A backup of the database as it is now, kept as a database of its own (a copy made with it as
  // template, which is what pg_dump and pg_restore would give): nobody may be connected to it.
  void Backup() const {
    PgAdmin(admin_url_).Query("DROP DATABASE IF EXISTS " + name_ + "_backup");
    PgAdmin(admin_url_).Query("CREATE DATABASE " + name_ + "_backup TEMPLATE " + name_);
  }
  // The database replaced by the backup (Backup), or by an empty one when `empty`, at the same URL.
  void Restore(bool empty = false) const {
    PgAdmin(admin_url_).Query("DROP DATABASE " + name_ + " WITH (FORCE)");
    PgAdmin(admin_url_).Query("CREATE DATABASE " + name_ + (empty ? std::string() : " TEMPLATE " + name_ + "_backup"));
  }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;

  const std::string& url() const { return url_; }
  PgAdmin Admin() const { return PgAdmin(url_); }

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

}  // namespace relais::testing
