// Builders and fixtures of the server tests: a real store (an SQLite file in a temp folder, or a
// database of its own on the test PostgreSQL cluster when RELAIS_TEST_STORE=postgresql), enrolled
// devices, changes as a device would send them, and a real HTTP endpoint on a port the OS picks.
#pragma once

#include <httplib.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/ids.h"
#include "server/http.h"
#include "server/store_open.h"
#include "sqlite/db.h"
#include "sync/codec.h"
#include "sync/hlc.h"
#include "tests/pg_test_db.h"
#include "tests/sqlite_content.h"

namespace relais::server::testing {

inline constexpr int64_t kT0 = 1798761600000;  // 2027-01-01T00:00:00Z

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "relais-server-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string Stamp(int64_t ms, const std::string& node) { return sync::Hlc{ms, 0, node}.ToString(); }
inline std::string NewId() { return NewUuidV7(kT0); }

using FieldValues = std::vector<std::pair<std::string, schema::Value>>;

inline sync::Change Create(const std::string& table, const std::string& id, const FieldValues& values,
                           const std::string& hlc) {
  sync::Change c;
  c.change_id = NewId();
  c.table = table;
  c.record_id = id;
  c.op = sync::Op::kCreate;
  c.hlc = hlc;
  for (const auto& [field, value] : values) c.fields.push_back({field, value, std::nullopt});
  return c;
}

inline sync::Change CreateCase(const std::string& id, const std::string& territory, const std::string& hlc,
                               FieldValues extra = {}) {
  FieldValues values = {
      {"last_name", "Martin"}, {"first_name", "Élodie"}, {"opened_on", "2026-01-05"}, {"territory", territory}};
  values.insert(values.end(), extra.begin(), extra.end());
  return Create("cases", id, values, hlc);
}

inline sync::Change CreateFollowup(const std::string& id, const std::string& case_id, const std::string& hlc) {
  return Create("followups", id,
                {{"case_id", case_id}, {"kind", "entretien"}, {"date", "2026-02-03"}, {"text", "Premier entretien."}},
                hlc);
}

inline sync::Change CreateContact(const std::string& id, const std::string& phone, const std::string& hlc) {
  return Create("contacts", id, {{"organisation", "Mission locale"}, {"phone", phone}}, hlc);
}

// One field set from `base` to `value`, as a device that saw version `base_version` sends it.
struct Edit {
  std::string field;
  schema::Value value;
  schema::Value base;
};

inline sync::Change Update(const std::string& table, const std::string& id, int64_t base_version,
                           const std::string& hlc, std::initializer_list<Edit> edits) {
  sync::Change c;
  c.change_id = NewId();
  c.table = table;
  c.record_id = id;
  c.op = sync::Op::kUpdate;
  c.base_version = base_version;
  c.hlc = hlc;
  for (const Edit& e : edits) c.fields.push_back({e.field, e.value, e.base});
  return c;
}

inline sync::PushRequest Batch(std::vector<sync::Change> changes, const std::string& key = "") {
  sync::PushRequest r;
  r.batch_key = key.empty() ? RandomHex(8) : key;
  r.changes = std::move(changes);
  return r;
}

// `request` as the centre takes it from a device: encoded, then read by its decoder (which
// normalises values and vouches for the creates it checked).
inline DecodedPush Decoded(const sync::PushRequest& request) {
  auto push = DecodedPush::Decode(sync::EncodePushRequest(request));
  if (!push.ok()) FAIL(push.error().message);
  return std::move(*push);
}

// The records of a pull page as "table:id@version", in page order.
inline std::vector<std::string> Ids(const sync::PullPage& page) {
  std::vector<std::string> ids;
  for (const auto& r : page.records)
    ids.push_back(r.table + ":" + r.record.id + "@" + std::to_string(r.record.version));
  return ids;
}

struct Enrolled {
  Device device;
  std::string token;
};

// A real store, its clock set by hand: a file in a temp folder, or a fresh PostgreSQL database.
class StoreFixture {
 public:
  StoreFixture() : clock_(kT0) {
    if (relais::testing::OnPostgres()) pg_ = std::make_unique<relais::testing::PgTestDatabase>();
    auto store = OpenStore(spec(), OpenMode::kCreate, clock_);
    if (!store.ok()) FAIL(store.error().message);
    store_ = std::move(*store);
  }

  bool on_postgres() const { return pg_ != nullptr; }
  // What `--db` or `--store` would name: the file, or the database's URL.
  std::string spec() const { return pg_ ? pg_->url() : db_path(); }
  std::string db_path() const { return (dir_.path() / "central.db").string(); }
  CentralStore& store() { return *store_; }
  ManualClock& clock() { return clock_; }

  Enrolled Enrol(const std::string& name, const std::vector<std::string>& territories, Role role = Role::kDevice) {
    auto token = store_->AddDevice(name, territories, role);
    REQUIRE(token.ok());
    auto device = store_->Authenticate(*token);
    REQUIRE(device.ok());
    return Enrolled{*device, *token};
  }

  sync::PushResponse Push(const Enrolled& who, std::vector<sync::Change> changes) {
    auto request = Batch(std::move(changes));
    auto reply = store_->Push(who.device, Decoded(request));
    if (!reply.ok()) FAIL(reply.error().message);
    return reply->response;
  }

  // Closes the store and opens it again, as a restarted centre does.
  void Reopen() {
    store_.reset();
    auto store = OpenStore(spec(), OpenMode::kExisting, clock_);
    if (!store.ok()) FAIL(store.error().message);
    store_ = std::move(*store);
  }

  // The one integer `sql` returns, read through a connection of its own.
  int64_t Count(const std::string& sql) {
    if (pg_) return pg_->Admin().Count(sql);
    auto db = sqlite::Db::Open(db_path(), false);
    REQUIRE(db.ok());
    auto s = db->Prepare(sql);
    REQUIRE(s.ok());
    auto row = s->Step();
    REQUIRE(row.ok());
    REQUIRE(*row);
    return s->Int(0);
  }

  // Runs `sql` on the store through a connection of its own: a state no call of the store makes.
  void ExecuteSql(const std::string& sql) {
    if (pg_) {
      pg_->Admin().Query(sql);
      return;
    }
    auto db = sqlite::Db::Open(db_path(), false);
    REQUIRE(db.ok());
    auto done = db->Exec(sql);
    if (!done.ok()) FAIL(done.error().message);
  }

  sync::PullPage Pull(const Enrolled& who, int64_t since = 0, size_t limit = 5000, bool without_echo = false) {
    auto page = store_->Pull(who.device, since, limit, without_echo);
    if (!page.ok()) FAIL(page.error().message);
    return *page;
  }

  // SHA-256 of every row of every table of the store, read through a connection of its own.
  std::string Dump() {
    if (pg_) return Sha256Hex(pg_->Admin().DumpAll());
    return relais::testing::SqliteContentHash(db_path());
  }

  // Every byte of the store's files (PostgreSQL: every row of every table), to look for a secret
  // that must not be there.
  std::string RawFiles() {
    if (pg_) return pg_->Admin().DumpAll();
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      std::FILE* f = std::fopen((db_path() + suffix).c_str(), "rb");
      if (!f) continue;
      char buf[65536];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) all.append(buf, n);
      std::fclose(f);
    }
    return all;
  }

 private:
  TempDir dir_;
  std::unique_ptr<relais::testing::PgTestDatabase> pg_;
  ManualClock clock_;
  std::unique_ptr<CentralStore> store_;
};

// StoreFixture plus the real endpoint, served on 127.0.0.1 on a port the OS picked.
class ServerFixture : public StoreFixture {
 public:
  explicit ServerFixture(HttpOptions options = QuietOptions()) : endpoint_(store(), std::move(options)) {
    auto port = endpoint_.Bind("127.0.0.1", 0);
    REQUIRE(port.ok());
    port_ = *port;
    thread_ = std::thread([this] { (void)endpoint_.Serve(); });
    while (!endpoint_.IsServing()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ServerFixture() {
    endpoint_.Stop();
    thread_.join();
  }

  static HttpOptions QuietOptions() {
    HttpOptions o;
    o.log = [](std::string_view) {};
    return o;
  }

  int port() const { return port_; }

  std::unique_ptr<httplib::Client> Client() {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(60);
    c->set_write_timeout(60);
    return c;
  }

  static httplib::Headers Headers(const std::string& token) {
    return {{"Relais-Protocol", "1"}, {"Authorization", "Bearer " + token}};
  }

 private:
  HttpEndpoint endpoint_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace relais::server::testing
