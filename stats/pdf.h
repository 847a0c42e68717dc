// The annual report as PDF (stats/report.h): its HTML printed by headless Chromium from Debian's
// package `chromium` (scripts/setup.sh), A4, without the browser's header and footer. Not drawn by
// hand: the PDF is the page people see in a browser.
#pragma once

#include <string>

#include "base/result.h"

namespace relais::stats {

// Where Chromium is: $RELAIS_CHROMIUM, else /usr/bin/chromium.
std::string ChromiumPath();

// Writes `html` to a private temp folder and prints it to `pdf_path` (mode 0600). kIo in
// French, saying what to install or to ask for HTML instead, when Chromium is missing or fails;
// the temp folder (the page, the browser's profile) is removed either way.
Status HtmlToPdf(const std::string& html, const std::string& pdf_path);

}  // namespace relais::stats
