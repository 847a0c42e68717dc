// What does a push batch of creates cost on the wire and in the centre's decoder, sent as rows
// (today's form) or as create runs (docs/PROTOCOL.md, "Create runs")? Prints a table; the row form
// is the yardstick, measured in the same run. Not a test: see README "Benchmarks".
//
//   push_decode_bench [--cases N] [--batch N] [--runs K] [--dataset-script PATH]
//
// The batch holds the first --batch cases of the generator's cases.jsonl (--cases of them made),
// as a device forms it: change ids from NewUuidV7 one after the other, stamps of one millisecond
// with a rising counter, the records' own ids. Bytes: the JSON text, and gzip at level 6 (the
// last table gives every level). Decode: the push decoder alone (DecodePushRequest, with each
// change's facts), and the whole of what the centre does with a body before it queues it
// (server::DecodedPush::Decode: decoding, then the idempotency hash), each in a pass of its own;
// medians of --runs, the two forms taken in turn, in this process, one thread. Then the answer to
// that batch as the device reads it (DecodePushResponse), against a bare nlohmann DOM parse of the
// same text as the yardstick. Last, that batch's runs packed at each gzip level, as the device packs
// its requests.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/gzip.h"
#include "base/ids.h"
#include "server/decoded_push.h"
#include "sync/codec.h"
#include "sync/engine.h"
#include "sync/hlc.h"
#include "sync/push_runs.h"

using namespace relais;

namespace {

struct Options {
  size_t cases = 10000;
  size_t batch = 5000;
  int runs = 15;
  std::string dataset_script;
};

sync::PushRequest ReadBatch(const std::string& jsonl, size_t n) {
  std::ifstream in(jsonl);
  sync::PushRequest request{"bench", {}};
  const int64_t ms = 1798761600000;
  std::string line;
  while (request.changes.size() < n && std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    sync::Change c;
    c.change_id = NewUuidV7(ms);
    c.table = "cases";
    c.record_id = j["id"].get<std::string>();
    c.op = sync::Op::kCreate;
    c.hlc = sync::Hlc{ms, static_cast<uint32_t>(request.changes.size()), "a1b2c3d4"}.ToString();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "id" || it->is_null()) continue;
      c.fields.push_back(
          {it.key(), it->is_number() ? std::to_string(it->get<int64_t>()) : it->get<std::string>(), std::nullopt});
    }
    request.changes.push_back(std::move(c));
  }
  return request;
}

struct Timing {
  double decode_ms = 0;  // DecodePushRequest, with the facts
  double total_ms = 0;   // server::DecodedPush::Decode: the same, and the idempotency hash of the batch
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Medians of decoding each body, the bodies taken in turn so that both see the same machine.
std::vector<Timing> Time(const std::vector<const std::string*>& bodies, int runs) {
  std::vector<std::vector<double>> decode(bodies.size()), total(bodies.size());
  auto elapsed_ms = [](auto from, auto to) { return std::chrono::duration<double, std::milli>(to - from).count(); };
  for (int i = 0; i < runs; ++i) {
    // The whole of what the centre does with each body, then the decoder alone, in passes of their
    // own so that each sees the cache and the allocator as it would alone.
    for (size_t b = 0; b < bodies.size(); ++b) {
      auto start = std::chrono::steady_clock::now();
      auto push = server::DecodedPush::Decode(*bodies[b]);
      total[b].push_back(elapsed_ms(start, std::chrono::steady_clock::now()));
      if (!push) {
        std::fprintf(stderr, "decode failed: %s\n", push.error().message.c_str());
        std::exit(1);
      }
    }
    for (size_t b = 0; b < bodies.size(); ++b) {
      std::vector<sync::ChangeFacts> facts;
      auto start = std::chrono::steady_clock::now();
      auto request = sync::DecodePushRequest(*bodies[b], facts);
      decode[b].push_back(elapsed_ms(start, std::chrono::steady_clock::now()));
      if (!request) std::exit(1);
    }
  }
  std::vector<Timing> out;
  for (size_t b = 0; b < bodies.size(); ++b) out.push_back({Median(decode[b]), Median(total[b])});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--cases")
      o.cases = std::stoul(value());
    else if (a == "--batch")
      o.batch = std::stoul(value());
    else if (a == "--runs")
      o.runs = std::stoi(value());
    else if (a == "--dataset-script")
      o.dataset_script = value();
    else {
      std::fprintf(stderr, "usage: push_decode_bench [--cases N] [--batch N] [--runs K] [--dataset-script PATH]\n");
      return 2;
    }
  }
  std::filesystem::path root = RELAIS_SOURCE_DIR;  // the repository root (bench/CMakeLists.txt)
  if (o.dataset_script.empty()) o.dataset_script = (root / "../shared/data/gen_dataset.py").lexically_normal().string();
  std::string pattern = (std::filesystem::temp_directory_path() / "relais-decode-bench-XXXXXX").string();
  const std::filesystem::path dir = mkdtemp(pattern.data());
  const std::string generate = "python3 '" + o.dataset_script + "' " + std::to_string(o.cases) + " 0 '" +
                               (dir / "set").string() + "' 42 > /dev/null";
  if (std::system(generate.c_str()) != 0) {
    std::fprintf(stderr, "the dataset could not be made: %s\n", generate.c_str());
    return 1;
  }
  const sync::PushRequest request = ReadBatch((dir / "set" / "cases.jsonl").string(), o.batch);
  std::filesystem::remove_all(dir);
  const size_t n = request.changes.size();

  const std::string rows = sync::EncodePushRequest(request);
  const std::string runs = sync::EncodePushRequestRuns(request);
  const double rows_gz = static_cast<double>(GzipCompress(rows, 6).size()) / static_cast<double>(n);
  const double runs_gz = static_cast<double>(GzipCompress(runs, 6).size()) / static_cast<double>(n);
  const std::vector<Timing> t = Time({&rows, &runs}, o.runs);
  // The device's side: the text of the batch, each form taken in turn.
  std::vector<double> encode_rows, encode_runs;
  for (int i = 0; i < o.runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    const std::string a = sync::EncodePushRequest(request);
    auto middle = std::chrono::steady_clock::now();
    const std::string b = sync::EncodePushRequestRuns(request);
    auto end = std::chrono::steady_clock::now();
    if (a != rows || b != runs) {
      std::fprintf(stderr, "an encoding changed from one run to the next\n");
      return 1;
    }
    encode_rows.push_back(std::chrono::duration<double, std::micro>(middle - start).count() / static_cast<double>(n));
    encode_runs.push_back(std::chrono::duration<double, std::micro>(end - middle).count() / static_cast<double>(n));
  }

  std::printf("one batch of %zu creates of cases (generator's data), median of %d decodes each, taken in turn\n\n", n,
              o.runs);
  std::printf("%-44s %10s %10s %8s\n", "figure", "rows", "runs", "ratio");
  auto row = [](const char* name, double a, double b, const char* format) {
    std::printf("%-44s ", name);
    std::printf(format, a);
    std::printf(" ");
    std::printf(format, b);
    std::printf(" %8.2f\n", b / a);
  };
  row("JSON bytes / change", static_cast<double>(rows.size()) / n, static_cast<double>(runs.size()) / n, "%10.1f");
  row("gzip -6 bytes / change", rows_gz, runs_gz, "%10.1f");
  row("device encode (us/change)", Median(encode_rows), Median(encode_runs), "%10.2f");
  row("centre decode (us/change)", 1000 * t[0].decode_ms / n, 1000 * t[1].decode_ms / n, "%10.2f");
  row("decode + idempotency hash (us/change)", 1000 * t[0].total_ms / n, 1000 * t[1].total_ms / n, "%10.2f");

  // The answer to that batch, as the device reads it: every change applied at its version.
  sync::PushResponse response{request.batch_key, {}};
  for (size_t i = 0; i < n; ++i)
    response.results.push_back(
        {request.changes[i].change_id, sync::ChangeStatus::kApplied, static_cast<int64_t>(1000 + i), {}, {}, {}});
  const std::string answer = sync::EncodePushResponse(response);
  std::vector<double> dom, read;
  for (int i = 0; i < o.runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    const nlohmann::json doc = nlohmann::json::parse(answer);
    auto parsed = std::chrono::steady_clock::now();
    auto decoded = sync::DecodePushResponse(answer);
    auto end = std::chrono::steady_clock::now();
    if (!decoded || decoded->results.size() != n || doc["results"].size() != n) {
      std::fprintf(stderr, "the answer did not read back\n");
      return 1;
    }
    dom.push_back(std::chrono::duration<double, std::micro>(parsed - start).count() / static_cast<double>(n));
    read.push_back(std::chrono::duration<double, std::micro>(end - parsed).count() / static_cast<double>(n));
  }
  std::printf("\nthe answer to that batch (%.1f bytes / change), read by the device, median of %d\n\n",
              static_cast<double>(answer.size()) / static_cast<double>(n), o.runs);
  std::printf("%-44s %10s %10s %8s\n", "figure", "DOM parse", "decoder", "ratio");
  row("answer read (us/change)", Median(dom), Median(read), "%10.2f");

  // The device packs each batch's text (the runs form) on a thread of its own: what each libdeflate
  // level costs and saves, to choose sync::kRequestGzipLevel. The yardstick is level 1.
  std::printf("\nthat batch as runs, packed by the device at each gzip level (libdeflate), median of %d\n\n", o.runs);
  std::printf("%-8s %16s %16s %14s\n", "level", "bytes / change", "us / change", "time / level 1");
  double level_one = 0;
  for (int level = 1; level <= 9; ++level) {
    std::vector<double> us;
    size_t packed = 0;
    for (int i = 0; i < o.runs; ++i) {
      auto start = std::chrono::steady_clock::now();
      packed = GzipCompress(runs, level).size();
      auto end = std::chrono::steady_clock::now();
      us.push_back(std::chrono::duration<double, std::micro>(end - start).count() / static_cast<double>(n));
    }
    const double median = Median(us);
    if (level == 1) level_one = median;
    std::printf("%-8s %16.1f %16.2f %14.2f\n",
                (std::to_string(level) + (level == sync::kRequestGzipLevel ? " *" : "")).c_str(),
                static_cast<double>(packed) / static_cast<double>(n), median, median / level_one);
  }
  std::printf("\n* sync::kRequestGzipLevel, a fast link's level (a slow link packs at level %d)\n",
              sync::kSlowLinkGzipLevel);
  return 0;
}
