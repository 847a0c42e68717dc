#include "server/cli/output.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "base/text.h"

namespace relais::central_cli {

namespace {

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
      return 2;
    case ErrorCode::kValidation:
    case ErrorCode::kConflict:
      return 3;
    case ErrorCode::kNotFound:
      return 4;
    default:
      return 1;
  }
}

}  // namespace

int Fail(const Error& error) {
  std::cerr << "relais-central : " << error.message << "\n";
  return ExitCodeFor(error.code);
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Utf8Length(row[i]));
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - Utf8Length(row[i]) + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string DefaultAuthor() {
  const char* user = std::getenv("USER");
  return user && *user ? user : "central";
}

}  // namespace relais::central_cli
