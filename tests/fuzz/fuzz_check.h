// What the fuzz targets share: an invariant check that stops the run with a message (libFuzzer then
// keeps the input that broke it), a temp folder, and a digest of every row of a SQLite file.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "base/ids.h"
#include "sqlite/db.h"

namespace relais::fuzz {

// Aborts with `what` when `ok` is false. Not assert(): the checks must hold in every build type.
inline void Require(bool ok, const char* what, const std::string& detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

// A fresh folder under /dev/shm when it exists (fsync costs nothing there), else the temp folder.
inline std::filesystem::path MakeTempDir(const char* prefix) {
  std::filesystem::path base =
      std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  std::string pattern = (base / (std::string(prefix) + "-XXXXXX")).string();
  Require(mkdtemp(pattern.data()) != nullptr, "mkdtemp");
  return pattern;
}

// SHA-256 of every row of every table of `db`, in a stable order.
inline std::string DigestOfRows(sqlite::Db& db) {
  auto tables = db.Prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  Require(tables.ok(), "list tables");
  std::string all;
  while (*tables->Step()) {
    std::string name = tables->Text(0);
    auto rows = db.Prepare("SELECT * FROM \"" + name + "\" ORDER BY rowid");
    if (!rows) continue;  // virtual tables' shadow tables without rowid
    all += "#" + name + "\n";
    while (*rows->Step()) {
      for (int i = 0; i < rows->ColumnCount(); ++i) all += (rows->IsNull(i) ? "\\N" : rows->Text(i)) + "\t";
      all += "\n";
    }
  }
  return Sha256Hex(all);
}

inline std::string IntegrityCheck(sqlite::Db& db) {
  auto check = db.Prepare("PRAGMA integrity_check");
  Require(check.ok(), "prepare integrity_check");
  std::string result;
  while (*check->Step()) result += check->Text(0);
  return result;
}

}  // namespace relais::fuzz
