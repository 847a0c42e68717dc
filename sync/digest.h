// The divergence check (docs/PROTOCOL.md, "Divergence check"): a digest of the records a replica
// holds, compared with the centre's digest of the same scope at the end of a sync.
//
// Per table, the count of records and two order-independent hashes: `sum` of their (id, version),
// the sum modulo 2^64 of the first 8 bytes of SHA-256("id:version") of each record; and `values`
// of their content, the sum modulo 2^64 of each record's RecordDigest (id, version and every field
// value). A sum (not a XOR) so that a record held twice does not cancel out; cryptographic hashes
// so that two different sets meet the same sum only by chance (2^-64), not by a pattern of ids or
// values. `values` catches what versions cannot: a value the centre normalised without a new
// version, a row altered on disk. Computing both is one scan of the records, once per sync (never
// on the push or pull path).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/model.h"

namespace relais::sync {

// The digest of one record's content: the first 8 bytes of BLAKE2b-128 (base/ids.h, Blake2b64) of
// its canonical bytes — the id, the version in decimal, then each field's value in the table's
// declaration order, each item written as one byte 0 (null) or 1 then its length in 4 bytes
// big-endian and its UTF-8 bytes. Values are as the wire carries them (normalised text, integers in
// decimal). Not thread-safe: one per thread; its buffer is reused from record to record.
class RecordDigester {
 public:
  void Begin(std::string_view id, int64_t version);
  void AddValue(std::optional<std::string_view> value);
  uint64_t Finish() const;

 private:
  void Item(std::string_view bytes);
  std::string bytes_;
};

// The same for a whole record.
uint64_t RecordDigest(RecordDigester& digester, std::string_view id, int64_t version,
                      const std::vector<schema::Value>& values);

// A record's part of `sum`: the first 8 bytes, big-endian, of SHA-256("id:version").
uint64_t RecordKey(std::string_view id, int64_t version);

// Both digests of a record as the stores keep them on write (the centre's tables and the replica's
// have columns digest_key and digest_values, docs/PROTOCOL.md "Divergence check"), as the signed
// 64-bit integers SQLite and PostgreSQL hold: the same bits as the unsigned sums' parts.
struct StoredDigests {
  int64_t key = 0;
  int64_t values = 0;
};
StoredDigests DigestsOf(RecordDigester& digester, std::string_view id, int64_t version,
                        const std::vector<schema::Value>& values);

struct TableDigest {
  int64_t count = 0;
  uint64_t sum = 0;
  uint64_t values = 0;
  // False for a digest from a centre that does not send `values` (written before it): only count
  // and sum are compared then.
  bool has_values = true;

  // One record: its id and version, and its RecordDigest.
  void Add(std::string_view id, int64_t version, uint64_t record_digest);
  // Records whose digests were kept on write: how many, and the sums of their RecordKey and
  // RecordDigest (modulo 2^64).
  void AddSums(int64_t records, uint64_t key_sum, uint64_t values_sum);
  // Equal counts and sums, and equal `values` when both digests have them.
  bool Matches(const TableDigest& other) const;
  bool operator==(const TableDigest&) const = default;
};

// Every synced table by name; a table without records may be absent (it equals an empty digest).
struct ScopeDigest {
  std::map<std::string, TableDigest, std::less<>> tables;

  TableDigest& operator[](std::string_view table);
  bool operator==(const ScopeDigest& other) const;
};

// 16 lower-case hex digits, as the wire carries `sum`; false for anything else.
std::string SumToHex(uint64_t sum);
bool SumFromHex(std::string_view hex, uint64_t& sum);

// A table whose digests differ: its count of records here and at the centre. Equal counts: as many
// records on both sides, with other ids, versions or values.
struct TableDifference {
  std::string table;
  int64_t local_count = 0;
  int64_t central_count = 0;
  bool operator==(const TableDifference&) const = default;
};

// The tables whose digests differ, by name; empty when the digests are equal.
std::vector<TableDifference> Differences(const ScopeDigest& local, const ScopeDigest& central);

}  // namespace relais::sync
