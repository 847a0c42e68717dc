// The erasure ledger: every erasure journaled outside the store, so that a backup of the store
// older than an erasure, once restored, does not bring the person back (docs/PRIVACY.md, "Backups
// and the erasure ledger"). One line per erasure, JSON {"at", "by", "case"}: the case id and who
// and when, never the reason (free text) nor anything of the person. `relais-central person erase`
// appends to it before the store commits; `serve` and `restored` replay it before anything else.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "server/store.h"

namespace relais::server {

// The ledger's default place: beside an SQLite store's file (`central.db.effacements`); none for a
// PostgreSQL store (its ledger is named by --erasure-ledger).
std::string DefaultLedgerPath(const std::string& store_spec);

struct LedgerEntry {
  std::string at;
  std::string by;
  std::string case_id;
};

// Appends `entry` as one line, flushed to the disk (fsync, and its folder's at creation); the file
// is created 0600. kIo naming the file on failure.
Status AppendToLedger(const std::string& path, const LedgerEntry& entry);

// The entries of the ledger at `path`, in order; none when the file does not exist. kIo when it
// cannot be read; a line that is not an entry (a torn last line) is skipped and counted.
struct LedgerRead {
  std::vector<LedgerEntry> entries;
  int skipped = 0;
};
Result<LedgerRead> ReadLedger(const std::string& path);

// Erases again, in `store`, every case of the ledger the store does not know as erased (a restored
// backup), source "ledger"; a case it never held is recorded erased all the same. Returns the
// receipts of what it erased now. On failure, the erasures done stay done.
Result<std::vector<Erasure>> ReplayLedger(CentralStore& store, const std::string& path);

}  // namespace relais::server
