// The command line's own errors (CLI11 writes them in English) in French, for the people who use
// `relais`: "--limit: Value -3 not in range 0 to 100000" becomes "--limit : -3 n'est pas entre 0 et
// 100000". A message of an unknown form is returned as it is.
#pragma once

#include <string>

namespace relais::cli {

std::string FrenchUsageError(const std::string& message);

}  // namespace relais::cli
