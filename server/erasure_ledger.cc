#include "server/erasure_ledger.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "pg/conn.h"

namespace relais::server {

namespace {

Error LedgerError(const std::string& path, const std::string& what) {
  return MakeError(ErrorCode::kIo,
                   "registre des effacements " + path + " : " + what + " (" + std::strerror(errno) + ")");
}

}  // namespace

std::string DefaultLedgerPath(const std::string& store_spec) {
  if (pg::IsPostgresUrl(store_spec)) return std::string();
  return store_spec + ".effacements";
}

Status AppendToLedger(const std::string& path, const LedgerEntry& entry) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  const std::string line = nlohmann::json{{"at", entry.at}, {"by", entry.by}, {"case", entry.case_id}}.dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return LedgerError(path, "ouverture impossible");
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return LedgerError(path, "écriture impossible");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return LedgerError(path, "fsync impossible");
  }
  ::close(fd);
  if (!existed) {
    const std::string folder = std::filesystem::absolute(path, ec).parent_path().string();
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
  }
  return OkStatus();
}

Result<LedgerRead> ReadLedger(const std::string& path) {
  LedgerRead read;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return read;
  std::ifstream in(path);
  if (!in) return LedgerError(path, "lecture impossible");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("case") || !j["case"].is_string()) {
      ++read.skipped;
      continue;
    }
    LedgerEntry e;
    e.case_id = j["case"].get<std::string>();
    if (j.contains("at") && j["at"].is_string()) e.at = j["at"].get<std::string>();
    if (j.contains("by") && j["by"].is_string()) e.by = j["by"].get<std::string>();
    read.entries.push_back(std::move(e));
  }
  if (in.bad()) return LedgerError(path, "lecture interrompue");
  return read;
}

Result<std::vector<Erasure>> ReplayLedger(CentralStore& store, const std::string& path) {
  std::vector<Erasure> replayed;
  if (path.empty()) return replayed;
  auto ledger = ReadLedger(path);
  if (!ledger) return ledger.error();
  auto known = store.Erasures();
  if (!known) return known.error();
  std::set<std::string> erased;
  for (const Erasure& e : *known) erased.insert(e.case_id);
  for (const LedgerEntry& entry : ledger->entries) {
    if (!erased.insert(entry.case_id).second) continue;
    auto done = store.ErasePerson(entry.case_id,
                                  "effacé le " + entry.at +
                                      ", rejoué depuis le registre des effacements après "
                                      "la restauration d'une sauvegarde plus ancienne",
                                  entry.by.empty() ? "registre" : entry.by, "ledger");
    if (!done) {
      if (done.error().code == ErrorCode::kConflict || done.error().code == ErrorCode::kUsage) continue;
      return done.error();
    }
    replayed.push_back(std::move(*done));
  }
  return replayed;
}

}  // namespace relais::server
