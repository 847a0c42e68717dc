// What every `relais-central` command shares to speak to people: the exit code of an error, the
// French message on stderr, tables in aligned columns, who runs the command.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace relais::central_cli {

// Writes "relais-central : MESSAGE" on stderr; answers the exit code of the error's kind (2 usage,
// 3 refused, 4 not found, 1 otherwise).
int Fail(const Error& error);

// Prints rows as columns padded to their widest cell (code points, so accents line up).
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// Who runs the command, for receipts and the access log: $USER, else "central".
std::string DefaultAuthor();

}  // namespace relais::central_cli
