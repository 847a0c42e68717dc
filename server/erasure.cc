#include "server/erasure.h"

#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "server/store_layout.h"
#include "sync/codec.h"

namespace relais::server {

namespace {

constexpr const char* kAlreadyErased = "SELECT at FROM erasures WHERE case_id = ?1";
constexpr const char* kMergedInto = "SELECT id FROM cases WHERE merged_into = ?1 ORDER BY id COLLATE BINARY";
constexpr const char* kHistoryRow =
    "SELECT prev_seq, snapshot, lost, device, change_id, at FROM history WHERE seq = ?1";
constexpr const char* kScrubHistory = "UPDATE history SET snapshot = ?2, lost = ?3 WHERE seq = ?1";
constexpr const char* kKeepFacts =
    "INSERT INTO erased_records(record_id, tbl, case_id, seq, facts) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kErasedExit =
    "INSERT INTO scope_exits(seq, tbl, record_id, territory, to_territory, erased) VALUES (?1, ?2, ?3, ?4, NULL, 1)";
constexpr const char* kDropConflicts = "DELETE FROM conflicts WHERE tbl = ?1 AND record_id = ?2";
constexpr const char* kDropDuplicateConflicts = "DELETE FROM conflicts WHERE other_id = ?1";
// The digest of a change's content could confirm a guess of its values: the outcome stays (a replay
// of the change is answered as before and applies nothing), known by its id only.
constexpr const char* kForgetChangeDigest =
    "UPDATE change_outcomes SET digest = NULL WHERE device_id = (SELECT id FROM devices WHERE name = ?1) "
    "AND change_id = ?2";
// A batch's answer is saved with the history rows of its changes, at the same server time.
constexpr const char* kDropBatchAnswers =
    "DELETE FROM push_batches WHERE device_id = (SELECT id FROM devices WHERE name = ?1) AND created_at = ?2";
constexpr const char* kWriteReceipt =
    "INSERT INTO erasures(case_id, at, erased_by, reason, seq, records, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kWriteSeq = "UPDATE meta SET last_seq = ?1 WHERE id = 1";
constexpr const char* kListReceipts =
    "SELECT id, case_id, at, erased_by, reason, seq, records, source FROM erasures ORDER BY id";

struct Target {
  const TableLayout* layout;
  StoredRecord stored;
  std::string case_id;
};

Result<std::vector<Target>> LinkedTo(SqlConn& conn, const std::string& case_id) {
  std::vector<Target> out;
  for (const TableLayout& l : Layouts()) {
    if (l.table == &schema::CasesTable() || !l.table->FindField("case_id")) continue;
    auto rows = QueryAll(conn, "SELECT " + l.columns + " FROM " + std::string(l.table->name) + " WHERE case_id = ?1",
                         {case_id}, [&](const SqlRow& row) { return ReadStored(l, row); });
    if (!rows) return rows.error();
    for (auto& read : *rows) {
      if (!read) return read.error();
      out.push_back(Target{&l, std::move(*read), case_id});
    }
  }
  return out;
}

// The history chain of `t`, scrubbed; the (device, change id, server time) of each of its rows.
struct Written {
  std::string device;
  schema::Value change_id;
  std::string at;
};
Status ScrubHistory(SqlConn& conn, const Target& t, std::vector<Written>& written) {
  std::optional<int64_t> seq = t.stored.history_seq;
  while (seq) {
    struct Row {
      std::optional<int64_t> prev;
      std::string snapshot;
      schema::Value lost;
      Written by;
    };
    auto row = QueryOne(conn, kHistoryRow, {*seq}, [](const SqlRow& r) {
      return Row{r.IsNull(0) ? std::nullopt : std::optional<int64_t>(r.Int(0)), r.Text(1), r.Val(2),
                 Written{r.Text(3), r.Val(4), r.Text(5)}};
    });
    if (!row) return row.error();
    if (!*row) break;
    auto snapshot = ScrubSnapshot(*t.layout->table, (*row)->snapshot);
    if (!snapshot) return snapshot.error();
    schema::Value lost = ScrubLost(*t.layout->table, (*row)->lost);
    if (*snapshot != (*row)->snapshot || lost != (*row)->lost) {
      auto done = conn.Run(kScrubHistory, {*seq, *snapshot, lost});
      if (!done) return done.error();
    }
    written.push_back(std::move((*row)->by));
    seq = (*row)->prev;
  }
  return OkStatus();
}

std::string FactsOf(const schema::Table& table, const schema::Record& record) {
  std::vector<schema::Value> facts = record.values;
  for (size_t i = 0; i < table.fields.size(); ++i) {
    if (table.fields[i].identifying) facts[i].reset();
  }
  return sync::EncodeRecordValues(table, facts);
}

}  // namespace

Result<std::string> ScrubSnapshot(const schema::Table& table, const std::string& snapshot) {
  auto values = sync::DecodeRecordValues(table, snapshot);
  if (!values) return values.error();
  for (size_t i = 0; i < table.fields.size(); ++i) {
    if (table.fields[i].identifying) (*values)[i].reset();
  }
  return sync::EncodeRecordValues(table, *values);
}

schema::Value ScrubLost(const schema::Table& table, const schema::Value& lost) {
  if (!lost) return lost;
  nlohmann::json j = nlohmann::json::parse(*lost, nullptr, false);
  // Not an object: nothing of it can be trusted to hold no value.
  if (!j.is_object()) return std::nullopt;
  for (const schema::Field& f : table.fields) {
    if (f.identifying) j.erase(std::string(f.name));
  }
  if (j.empty()) return std::nullopt;
  return j.dump();
}

std::string ErasedReason(const std::string& record_id, const std::string& day) {
  return "la fiche " + record_id + " appartient à un dossier effacé le " + day +
         " à la demande de la personne (RGPD) : la modification n'a pas été enregistrée, et rien de son contenu "
         "n'est gardé au centre";
}

Result<Erasure> EraseCase(SqlConn& conn, const std::string& case_id, const std::string& reason, const std::string& by,
                          const std::string& source, const std::string& now) {
  if (!IsUuid(case_id)) {
    return MakeError(ErrorCode::kUsage, "« " + case_id + " » n'est pas un identifiant de dossier (UUID)");
  }
  if (reason.empty()) return MakeError(ErrorCode::kValidation, "--reason : dites pourquoi le dossier est effacé");
  auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
  if (!tx) return tx.error();
  auto last_seq = QueryOne(conn, conn.dialect().lock_seq, {}, [](const SqlRow& r) { return r.Int(0); });
  if (!last_seq) return last_seq.error();
  if (!*last_seq) return MakeError(ErrorCode::kInternal, "la base centrale n'a pas de ligne meta");
  int64_t seq = **last_seq;
  auto done = QueryOne(conn, kAlreadyErased, {case_id}, [](const SqlRow& r) { return r.Text(0); });
  if (!done) return done.error();
  if (*done) return MakeError(ErrorCode::kConflict, "le dossier " + case_id + " a déjà été effacé le " + **done);

  const TableLayout& cases = LayoutFor(schema::CasesTable());
  auto read_case = [&](const std::string& id) -> Result<std::optional<StoredRecord>> {
    auto row = QueryOne(conn, StatementsFor(cases).get, {id}, [&](const SqlRow& r) { return ReadStored(cases, r); });
    if (!row) return row.error();
    if (!*row) return std::optional<StoredRecord>();
    if (!**row) return (**row).error();
    return std::optional<StoredRecord>(std::move(***row));
  };
  auto found = read_case(case_id);
  if (!found) return found.error();
  Erasure receipt{0, case_id, now, by, reason, 0, 0, source, false};
  std::vector<Target> targets;
  if (!*found) {
    if (source != "ledger") {
      return MakeError(ErrorCode::kNotFound, "aucun dossier " + case_id + " au centre : rien n'a été effacé");
    }
    // A backup older than the case: its id is kept erased, so that no device brings it back.
    auto kept = conn.Run(kKeepFacts, {case_id, "cases", case_id, seq, "{}"});
    if (!kept) return kept.error();
  } else {
    const schema::Value& merged_into =
        (*found)->record.values[static_cast<size_t>(schema::CasesTable().FieldIndex("merged_into"))];
    if (merged_into) {
      return MakeError(ErrorCode::kUsage, "le dossier " + case_id + " a été fusionné dans le dossier " + *merged_into +
                                              " : effacez celui-ci (les dossiers fusionnés partent avec lui)");
    }
    // The case and the duplicates merged into it, then the records linked to each.
    std::vector<Target> found_cases{Target{&cases, std::move(**found), case_id}};
    std::set<std::string> seen{case_id};
    for (size_t i = 0; i < found_cases.size(); ++i) {
      auto merged =
          QueryAll(conn, kMergedInto, {found_cases[i].stored.record.id}, [](const SqlRow& r) { return r.Text(0); });
      if (!merged) return merged.error();
      for (const std::string& id : *merged) {
        if (!seen.insert(id).second) continue;
        auto m = read_case(id);
        if (!m) return m.error();
        if (*m) found_cases.push_back(Target{&cases, std::move(**m), id});
      }
    }
    for (const Target& c : found_cases) {
      auto linked = LinkedTo(conn, c.stored.record.id);
      if (!linked) return linked.error();
      for (Target& t : *linked) targets.push_back(std::move(t));
    }
    for (Target& c : found_cases) targets.push_back(std::move(c));
  }

  std::vector<Written> written;
  for (const Target& t : targets) {
    const std::string table(t.layout->table->name);
    const std::string& id = t.stored.record.id;
    RELAIS_TRY(ScrubHistory(conn, t, written));
    if (auto gone = conn.Run("DELETE FROM " + table + " WHERE id = ?1", {id}); !gone) return gone.error();
    ++seq;
    if (receipt.seq == 0) receipt.seq = seq;
    if (auto kept = conn.Run(kKeepFacts, {id, table, t.case_id, seq, FactsOf(*t.layout->table, t.stored.record)});
        !kept) {
      return kept.error();
    }
    // A record without a territory is on no device.
    if (t.stored.territory) {
      if (auto exit = conn.Run(kErasedExit, {seq, table, id, *t.stored.territory}); !exit) return exit.error();
    }
    if (auto dropped = conn.Run(kDropConflicts, {table, id}); !dropped) return dropped.error();
    if (t.layout == &cases) {
      if (auto dropped = conn.Run(kDropDuplicateConflicts, {id}); !dropped) return dropped.error();
    }
    ++receipt.records;
  }
  std::set<std::pair<std::string, std::string>> batches;
  for (const Written& w : written) {
    if (w.change_id) {
      if (auto forgot = conn.Run(kForgetChangeDigest, {w.device, *w.change_id}); !forgot) return forgot.error();
    }
    if (batches.insert({w.device, w.at}).second) {
      if (auto dropped = conn.Run(kDropBatchAnswers, {w.device, w.at}); !dropped) return dropped.error();
    }
  }
  if (auto wrote = conn.Run(kWriteReceipt, {case_id, now, by, reason, receipt.seq, receipt.records, source}); !wrote) {
    return wrote.error();
  }
  if (seq != **last_seq) {
    if (auto wrote = conn.Run(kWriteSeq, {seq}); !wrote) return wrote.error();
  }
  RELAIS_TRY(tx->Commit());
  return receipt;
}

Result<std::vector<Erasure>> ListErasures(SqlConn& conn) {
  return QueryAll(conn, kListReceipts, {}, [](const SqlRow& r) {
    return Erasure{r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.Int(6), r.Text(7), false};
  });
}

}  // namespace relais::server
