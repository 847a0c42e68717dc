// Many devices pushing and pulling at once through one store, as the HTTP server's threads do. On
// PostgreSQL (test_server_pg) this is where sequence numbers could commit out of order: a pull
// cursor must never pass a change that commits later (server/pg_store.h says how it cannot).
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "tests/server/server_fixture.h"

namespace relais::server::testing {
namespace {

const std::string kGap = "hautes-alpes-gap";

TEST_CASE("pullers following their cursor during concurrent pushes miss no change", "[concurrency]") {
  StoreFixture f;
  constexpr int kWriters = 6, kBatches = 25, kPerBatch = 4, kPullers = 4;
  std::vector<Enrolled> writers;
  for (int w = 0; w < kWriters; ++w) writers.push_back(f.Enrol("w" + std::to_string(w), {kGap}));
  Enrolled reader = f.Enrol("reader", {kGap});
  // Every batch prepared up front: the writers only push.
  std::vector<std::vector<sync::PushRequest>> batches(kWriters);
  std::set<std::string> created;
  for (int w = 0; w < kWriters; ++w) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<sync::Change> changes;
      for (int i = 0; i < kPerBatch; ++i) {
        std::string id = NewId();
        created.insert(id);
        changes.push_back(i % 2 ? CreateContact(id, "0611111111", Stamp(kT0, "w"))
                                : CreateCase(id, kGap, Stamp(kT0, "w")));
      }
      batches[static_cast<size_t>(w)].push_back(Batch(std::move(changes)));
    }
  }

  std::atomic<int> writers_left{kWriters};
  std::atomic<int> errors{0}, not_applied{0}, went_back{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (const sync::PushRequest& request : batches[static_cast<size_t>(w)]) {
        auto reply = f.store().Push(writers[static_cast<size_t>(w)].device, Decoded(request));
        if (!reply.ok()) {
          ++errors;
          continue;
        }
        for (const auto& r : reply->response.results) {
          if (r.status != sync::ChangeStatus::kApplied) ++not_applied;
        }
      }
      --writers_left;
    });
  }
  std::mutex seen_mutex;
  std::vector<std::set<std::string>> seen(kPullers);
  for (int p = 0; p < kPullers; ++p) {
    threads.emplace_back([&, p] {
      int64_t cursor = 0;
      while (true) {
        const bool writers_done = writers_left.load() == 0;
        // Small pages, so that a page often ends while pushes are in flight.
        auto page = f.store().Pull(reader.device, cursor, 3, false);
        if (!page.ok()) {
          ++errors;
          return;
        }
        for (const auto& r : page->records) {
          if (r.record.version <= cursor) ++went_back;
          seen[static_cast<size_t>(p)].insert(r.record.id);
        }
        if (page->next < cursor) ++went_back;
        cursor = page->next;
        // Done once a pull that started after the last push found nothing more.
        if (writers_done && !page->more) return;
      }
    });
  }
  for (std::thread& t : threads) t.join();

  CHECK(errors == 0);
  CHECK(not_applied == 0);
  CHECK(went_back == 0);
  for (int p = 0; p < kPullers; ++p) {
    INFO("puller " << p);
    CHECK(seen[static_cast<size_t>(p)] == created);
  }
  // And the sequence has no hole: one number per change.
  CHECK(f.Pull(reader, 0, 10000).next == kWriters * kBatches * kPerBatch);
}

TEST_CASE("concurrent edits of one record are merged one after the other, none lost", "[concurrency]") {
  StoreFixture f;
  constexpr int kEditors = 4, kEdits = 15;
  Enrolled owner = f.Enrol("owner", {kGap});
  const std::string contact = NewId();
  f.Push(owner, {CreateContact(contact, "0600000000", Stamp(kT0, "owner"))});
  std::vector<Enrolled> editors;
  std::vector<std::vector<sync::PushRequest>> batches(kEditors);
  for (int e = 0; e < kEditors; ++e) {
    editors.push_back(f.Enrol("e" + std::to_string(e), {kGap}));
    for (int i = 0; i < kEdits; ++i) {
      char phone[32];
      std::snprintf(phone, sizeof phone, "06%02d%06d", e + 1, i);  // never the base value
      // Each editor saw version 1 only: every edit is a concurrent one, settled last-writer-wins.
      batches[static_cast<size_t>(e)].push_back(
          Batch({Update("contacts", contact, 1, Stamp(kT0 + 1000 * (i + 1) + e, "e" + std::to_string(e)),
                        {{"phone", std::string(phone), "0600000000"}})}));
    }
  }
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int e = 0; e < kEditors; ++e) {
    threads.emplace_back([&, e] {
      for (const sync::PushRequest& request : batches[static_cast<size_t>(e)]) {
        if (!f.store().Push(editors[static_cast<size_t>(e)].device, Decoded(request)).ok()) ++errors;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(errors == 0);

  auto history = f.store().History("contacts", contact);
  REQUIRE(history.ok());
  // The create, then one version per edit: each edit read the version the previous one wrote.
  CHECK(history->size() == 1 + kEditors * kEdits);
  for (size_t i = 1; i < history->size(); ++i) CHECK((*history)[i].seq > (*history)[i - 1].seq);
  // The latest stamp wins: editor 3's last edit.
  sync::PullPage page = f.Pull(owner);
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].record.version == history->back().seq);
  const int phone_index = schema::ContactsTable().FieldIndex("phone");
  CHECK(page.records[0].record.values[static_cast<size_t>(phone_index)] == "0604000014");
}

}  // namespace
}  // namespace relais::server::testing
