// apply_edits REPLICA TABLE FILE — a fixture of the end-to-end tests: applies each line of FILE
// (JSONL: {"id": ID, FIELD: VALUE, …}; null clears a field; with "op": "create" the record is created)
// to REPLICA as an edit of TABLE through
// the replica's own write path (client::Records::Edit: the row and its outbox entry, exactly as
// `relais case edit` writes them), all in one process. A week's backlog of thousands of edits made
// one `relais case edit` at a time would take minutes on two shared cores. An encrypted REPLICA is
// opened with RELAIS_PASSPHRASE; an absent one is created plain, as an earlier Relais made them.
//
// The connection runs with synchronous=OFF: the fixture builds a state, it does not test
// durability, and an fsync per edit costs about 5 ms here. Exits 0 when every edit applied, else 1
// naming the line and the reason (the edits before it stay).
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "client/records.h"
#include "client/replica.h"
#include "client/replica_key.h"
#include "schema/model.h"

using namespace relais;

namespace {

int Fail(const std::string& message) {
  std::cerr << "apply_edits: " << message << "\n";
  return 1;
}

int Main(int argc, char** argv) {
  if (argc != 4) return Fail("usage: apply_edits REPLICA TABLE FILE");
  const schema::Table* table = schema::FindTable(argv[2]);
  if (!table) return Fail(std::string("unknown table ") + argv[2]);
  auto kind = client::ReplicaFileKind(argv[1]);
  if (!kind) return Fail(kind.error().message);
  if (*kind == client::ReplicaFile::kEncrypted) {
    client::Passphrases passphrases;
    if (const char* env = std::getenv("RELAIS_PASSPHRASE")) passphrases.environment = std::string(env);
    if (auto ready = client::PrepareReplicaKey(argv[1], passphrases); !ready) return Fail(ready.error().message);
  }
  auto replica = client::Replica::Open(argv[1], SystemClock::Instance());
  if (!replica) return Fail(replica.error().message);
  if (auto set = replica->db().Exec("PRAGMA synchronous=OFF"); !set) return Fail(set.error().message);
  client::Records records(*replica);
  std::ifstream in(argv[3]);
  if (!in) return Fail(std::string("cannot read ") + argv[3]);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    nlohmann::json edit = nlohmann::json::parse(line, nullptr, false);
    if (!edit.is_object() || !edit.contains("id") || !edit["id"].is_string()) {
      return Fail("line " + std::to_string(number) + ": not an object with a string id");
    }
    client::FieldValues changes;
    const bool create = edit.value("op", "") == "create";
    for (const auto& [field, value] : edit.items()) {
      if (field == "id" || field == "op") continue;
      if (value.is_null())
        changes.emplace_back(field, schema::Value());
      else
        changes.emplace_back(field, value.is_string() ? value.get<std::string>() : value.dump());
    }
    if (create) {
      auto created = records.Create(*table, changes, edit["id"].get<std::string>());
      if (!created) return Fail("line " + std::to_string(number) + ": " + created.error().message);
      continue;
    }
    auto edited = records.Edit(*table, edit["id"].get<std::string>(), changes);
    if (!edited) return Fail("line " + std::to_string(number) + ": " + edited.error().message);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
}
