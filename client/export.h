#pragma once

#include <ostream>

#include "client/import.h"

namespace relais::client {

// Writes every record of `table` to `out`, ordered by id, in a form ImportFile reads back into an
// empty replica: CSV with a header row "id,<fields…>" (RFC 4180, CRLF line ends), or JSONL with one
// object per line (null fields omitted, integers as numbers). Returns the number of records.
// Reads in one snapshot; writes nothing to the replica.
Result<size_t> ExportTable(Replica& replica, const schema::Table& table, FileFormat format, std::ostream& out);

}  // namespace relais::client
