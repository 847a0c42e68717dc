#include "sync/digest.h"

#include <cstdio>
#include <set>

#include "base/ids.h"

namespace relais::sync {

void RecordDigester::Item(std::string_view bytes) {
  const auto size = static_cast<uint32_t>(bytes.size());
  bytes_.push_back('\x01');
  for (int shift = 24; shift >= 0; shift -= 8) bytes_.push_back(static_cast<char>(size >> shift & 0xff));
  bytes_.append(bytes);
}

void RecordDigester::Begin(std::string_view id, int64_t version) {
  bytes_.clear();
  Item(id);
  char digits[24];
  const int n = std::snprintf(digits, sizeof digits, "%lld", static_cast<long long>(version));
  Item(std::string_view(digits, static_cast<size_t>(n)));
}

void RecordDigester::AddValue(std::optional<std::string_view> value) {
  if (value)
    Item(*value);
  else
    bytes_.push_back('\x00');
}

uint64_t RecordDigester::Finish() const { return Blake2b64(bytes_); }

uint64_t RecordDigest(RecordDigester& digester, std::string_view id, int64_t version,
                      const std::vector<schema::Value>& values) {
  digester.Begin(id, version);
  for (const schema::Value& v : values) digester.AddValue(v ? std::optional<std::string_view>(*v) : std::nullopt);
  return digester.Finish();
}

bool TableDigest::Matches(const TableDigest& other) const {
  return count == other.count && sum == other.sum && (!has_values || !other.has_values || values == other.values);
}

uint64_t RecordKey(std::string_view id, int64_t version) {
  std::string key;
  key.reserve(id.size() + 21);
  key.append(id).push_back(':');
  key += std::to_string(version);
  const std::array<unsigned char, 32> digest = Sha256(key);
  uint64_t part = 0;  // the first 8 bytes, big-endian
  for (size_t i = 0; i < 8; ++i) part = part << 8 | digest[i];
  return part;
}

StoredDigests DigestsOf(RecordDigester& digester, std::string_view id, int64_t version,
                        const std::vector<schema::Value>& values) {
  return {static_cast<int64_t>(RecordKey(id, version)),
          static_cast<int64_t>(RecordDigest(digester, id, version, values))};
}

void TableDigest::Add(std::string_view id, int64_t version, uint64_t record_digest) {
  AddSums(1, RecordKey(id, version), record_digest);
}

void TableDigest::AddSums(int64_t records, uint64_t key_sum, uint64_t values_sum) {
  count += records;
  sum += key_sum;
  values += values_sum;
}

TableDigest& ScopeDigest::operator[](std::string_view table) {
  auto it = tables.find(table);
  if (it == tables.end()) it = tables.emplace(std::string(table), TableDigest{}).first;
  return it->second;
}

bool ScopeDigest::operator==(const ScopeDigest& other) const { return Differences(*this, other).empty(); }

std::string SumToHex(uint64_t sum) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(sum));
  return buf;
}

bool SumFromHex(std::string_view hex, uint64_t& sum) {
  if (hex.size() != 16) return false;
  uint64_t v = 0;
  for (char c : hex) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  sum = v;
  return true;
}

std::vector<TableDifference> Differences(const ScopeDigest& local, const ScopeDigest& central) {
  std::set<std::string> names;
  for (const auto& [name, d] : local.tables) names.insert(name);
  for (const auto& [name, d] : central.tables) names.insert(name);
  std::vector<TableDifference> out;
  for (const std::string& name : names) {
    auto l = local.tables.find(name);
    auto c = central.tables.find(name);
    TableDigest here = l == local.tables.end() ? TableDigest{} : l->second;
    TableDigest there = c == central.tables.end() ? TableDigest{} : c->second;
    if (!here.Matches(there)) out.push_back({name, here.count, there.count});
  }
  return out;
}

}  // namespace relais::sync
