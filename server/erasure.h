// Erasure of a person at their request (RGPD art. 17), written once over SqlConn for both stores
// (docs/PRIVACY.md, "Erasure"; docs/SERVER.md, "Erasing a person"). Which fields go is the schema's
// declaration (schema::Field::identifying); nothing here lists fields.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "schema/model.h"
#include "server/sql_conn.h"
#include "server/store.h"

namespace relais::server {

// Erases case `case_id` in ONE write transaction on `conn` (committed on success, rolled back on
// failure), at server time `now` (IsoTimestamp). The erased records are the case, the cases merged
// into it (the same person's duplicates) and every record of a table with a `case_id` field that
// names one of them (follow-ups, visits, appointments). For each:
//  - every history version keeps its coded facts: its identifying fields are taken out of the
//    snapshot and out of `lost`;
//  - its row leaves the live table; `erased_records` keeps its coded facts (for statistics) and
//    makes the centre refuse any later change that names it (code `erased`);
//  - a removal marked erased (scope_exits.erased) at a sequence number of its own tells the devices
//    of its territory to erase it;
//  - the conflicts about it are deleted, the digests of its changes' content (change_outcomes) are
//    forgotten, and the stored answers of the batches that carried its changes (push_batches, which
//    may echo values) are deleted.
// Then the receipt is written (table erasures). Errors as CentralStore::ErasePerson.
Result<Erasure> EraseCase(SqlConn& conn, const std::string& case_id, const std::string& reason, const std::string& by,
                          const std::string& source, const std::string& now);

// The receipts, oldest first.
Result<std::vector<Erasure>> ListErasures(SqlConn& conn);

// A history snapshot (sync::EncodeRecordValues) of `table` without its identifying fields. Pure.
Result<std::string> ScrubSnapshot(const schema::Table& table, const std::string& snapshot);
// A history row's `lost` ({"field": {"value", "device", "hlc"}}) without the entries of identifying
// fields; nullopt when none is left. Pure.
schema::Value ScrubLost(const schema::Table& table, const schema::Value& lost);

// Reads the erasure date of a record: bound with (1) a record id, one row (the day, YYYY-MM-DD)
// when it was erased.
inline constexpr const char* kErasedOn =
    "SELECT substr(e.at, 1, 10) FROM erased_records r JOIN erasures e ON e.case_id = r.case_id WHERE r.record_id = ?1";

// The French reason of a change refused because its record, or the case it names, was erased
// (rejection code `erased`).
std::string ErasedReason(const std::string& record_id, const std::string& day);

}  // namespace relais::server
