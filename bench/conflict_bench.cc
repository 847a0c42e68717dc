// How much does conflict handling cost a push? Pushes the same updates twice through
// CentralStore::Push of the real SQLite central store (a file in a temp folder, WAL, synchronous=FULL;
// no HTTP, so that the table measures the rules and the store, not the codec or the network):
//   - conflict-free: every update meets the version it was based on;
//   - 10 % conflicting: before the push (untimed), another device changed 10 % of the cases. Half
//     of those updates are mergeable (the other device changed `email`, the update sets `phone`),
//     half go to review (both set `status`: a conflict is opened for each).
// Each mode runs on a fresh store seeded with the same cases, modes interleaved, median of the
// runs. Prints a table. Not a test: see README "Benchmarks".
//
//   conflict_bench [--updates N] [--batch N] [--runs N] [--work DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/ids.h"
#include "server/sqlite_store.h"
#include "sync/codec.h"
#include "sync/hlc.h"

using namespace relais;
using Stopwatch = std::chrono::steady_clock;

namespace {

constexpr int64_t kT0 = 1798761600000;  // 2027-01-01T00:00:00Z
const char* kTerritory = "hautes-alpes-gap";
const char* kStatuses[] = {"demandeur_emploi", "salarie"};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "conflict_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T Must(Result<T> r, const char* what) {
  if (!r) Fail(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

std::string Stamp(int64_t ms, const std::string& node) { return sync::Hlc{ms, 0, node}.ToString(); }

sync::Change MakeChange(const std::string& id, sync::Op op, int64_t base_version, const std::string& hlc,
                        std::vector<sync::FieldChange> fields) {
  sync::Change c;
  c.change_id = NewUuidV7(kT0);
  c.table = "cases";
  c.record_id = id;
  c.op = op;
  c.base_version = base_version;
  c.hlc = hlc;
  c.fields = std::move(fields);
  return c;
}

struct Pusher {
  server::SqliteStore& store;
  server::Device device;
  size_t counts[4] = {0, 0, 0, 0};

  void Push(std::vector<sync::Change> changes) {
    sync::PushRequest request;
    request.batch_key = RandomHex(8);
    request.changes = std::move(changes);
    auto reply = Must(store.Push(device, server::DecodedPush::Unchecked(std::move(request))), "push");
    for (const auto& r : reply.response.results) counts[static_cast<size_t>(r.status)]++;
  }
};

struct RunResult {
  double seconds = 0;
  size_t counts[4] = {0, 0, 0, 0};
  size_t conflicts = 0;
};

// One run on a fresh store: seed `updates` cases, optionally let another device edit 10 % of them,
// then time the device's updates in batches of `batch`.
RunResult RunOnce(const std::filesystem::path& dir, size_t updates, size_t batch, bool with_conflicts, int run) {
  const std::string path = (dir / ("central-" + std::to_string(run) + (with_conflicts ? "-c" : "-f") + ".db")).string();
  auto store = Must(server::SqliteStore::Open(path, server::OpenMode::kCreate), "open");
  auto enrol = [&](const std::string& name) {
    auto token = Must(store->AddDevice(name, {kTerritory}, server::Role::kDevice), "enrol");
    return Must(store->Authenticate(token), "authenticate");
  };
  Pusher seed{*store, enrol("seed")};
  Pusher other{*store, enrol("other")};
  Pusher device{*store, enrol("device")};

  std::vector<std::string> ids(updates);
  std::vector<int64_t> versions(updates);
  for (size_t start = 0; start < updates; start += batch) {
    std::vector<sync::Change> changes;
    for (size_t i = start; i < std::min(updates, start + batch); ++i) {
      ids[i] = NewUuidV7(kT0 + static_cast<int64_t>(i));
      char birth[16];
      std::snprintf(birth, sizeof birth, "19%02zu-%02zu-%02zu", 50 + i % 50, 1 + i % 12, 1 + i % 28);
      changes.push_back(MakeChange(ids[i], sync::Op::kCreate, 0, Stamp(kT0, "seed"),
                                   {{"last_name", "Nom" + std::to_string(i), {}},
                                    {"first_name", "Élodie", {}},
                                    {"birth_date", std::string(birth), {}},
                                    {"opened_on", "2026-01-05", {}},
                                    {"status", std::string(kStatuses[0]), {}},
                                    {"phone", "0611000000", {}},
                                    {"territory", std::string(kTerritory), {}}}));
    }
    seed.Push(std::move(changes));
  }
  // Versions after seeding: creates take consecutive sequence numbers from 1.
  for (size_t i = 0; i < updates; ++i) versions[i] = static_cast<int64_t>(i) + 1;

  // Every 10th case is touched by the other device; even tenths on email (mergeable), odd on status.
  auto conflicting = [](size_t i) { return i % 10 == 0; };
  auto for_review = [](size_t i) { return (i / 10) % 2 == 1; };
  if (with_conflicts) {
    std::vector<sync::Change> changes;
    for (size_t i = 0; i < updates; ++i) {
      if (!conflicting(i)) continue;
      if (for_review(i)) {
        changes.push_back(MakeChange(ids[i], sync::Op::kUpdate, versions[i], Stamp(kT0 + 10, "other"),
                                     {{"status", "etudiant", std::string(kStatuses[0])}}));
      } else {
        changes.push_back(MakeChange(ids[i], sync::Op::kUpdate, versions[i], Stamp(kT0 + 10, "other"),
                                     {{"email", "autre@exemple.fr", std::nullopt}}));
      }
      if (changes.size() == batch) other.Push(std::exchange(changes, {}));
    }
    if (!changes.empty()) other.Push(std::move(changes));
  }

  // The device's updates, all based on the seeded versions.
  std::vector<std::vector<sync::Change>> batches;
  for (size_t start = 0; start < updates; start += batch) {
    std::vector<sync::Change> changes;
    for (size_t i = start; i < std::min(updates, start + batch); ++i) {
      if (conflicting(i) && for_review(i)) {
        changes.push_back(MakeChange(ids[i], sync::Op::kUpdate, versions[i], Stamp(kT0 + 20, "device"),
                                     {{"status", std::string(kStatuses[1]), std::string(kStatuses[0])}}));
      } else {
        changes.push_back(MakeChange(ids[i], sync::Op::kUpdate, versions[i], Stamp(kT0 + 20, "device"),
                                     {{"phone", "0622000000", "0611000000"}}));
      }
    }
    batches.push_back(std::move(changes));
  }
  auto start = Stopwatch::now();
  for (auto& changes : batches) device.Push(std::move(changes));
  RunResult result;
  result.seconds = std::chrono::duration<double>(Stopwatch::now() - start).count();
  std::copy(std::begin(device.counts), std::end(device.counts), std::begin(result.counts));
  server::ConflictFilter query;
  query.limit = updates + 1;
  result.conflicts = Must(store->Conflicts(query), "conflicts").size();
  return result;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t updates = 20000, batch = 2000;
  int runs = 3;
  std::filesystem::path work;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Fail(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--updates")
      updates = std::stoul(next());
    else if (arg == "--batch")
      batch = std::stoul(next());
    else if (arg == "--runs")
      runs = std::stoi(next());
    else if (arg == "--work")
      work = next();
    else
      Fail("unknown option " + arg + " (--updates N --batch N --runs N --work DIR)");
  }
  if (updates == 0 || batch == 0 || batch > sync::kMaxChangesPerPush || runs < 1) Fail("bad sizes");
  const bool own_dir = work.empty();
  if (own_dir) {
    std::string pattern = (std::filesystem::temp_directory_path() / "conflict-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) Fail("cannot make a temp folder");
    work = pattern;
  }
  std::filesystem::create_directories(work);

  std::vector<double> free_rates, conflict_rates;
  RunResult last_free, last_conflict;
  for (int run = 0; run < runs; ++run) {
    last_free = RunOnce(work, updates, batch, false, run);
    free_rates.push_back(static_cast<double>(updates) / last_free.seconds);
    last_conflict = RunOnce(work, updates, batch, true, run);
    conflict_rates.push_back(static_cast<double>(updates) / last_conflict.seconds);
  }
  const double free_rate = Median(free_rates), conflict_rate = Median(conflict_rates);

  std::printf(
      "conflict_bench: %zu updates in batches of %zu through CentralStore::Push (SQLite, WAL, synchronous=FULL), "
      "median of %d runs\n\n",
      updates, batch, runs);
  std::printf("| push | changes/s (median) | runs (changes/s) | applied | merged | review | conflicts opened |\n");
  std::printf("| --- | ---: | --- | ---: | ---: | ---: | ---: |\n");
  auto row = [&](const char* name, double rate, const std::vector<double>& all, const RunResult& r) {
    std::string list;
    for (double x : all) list += (list.empty() ? "" : ", ") + std::to_string(static_cast<long>(x));
    std::printf("| %s | %.0f | %s | %zu | %zu | %zu | %zu |\n", name, rate, list.c_str(), r.counts[0], r.counts[1],
                r.counts[2], r.conflicts);
  };
  row("conflict-free", free_rate, free_rates, last_free);
  row("10 % conflicting (5 % merged, 5 % review)", conflict_rate, conflict_rates, last_conflict);
  std::printf("\nratio conflicting / conflict-free: %.1f %% (target >= 70 %%)\n", 100.0 * conflict_rate / free_rate);
  if (own_dir) {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  }
  return 0;
}
