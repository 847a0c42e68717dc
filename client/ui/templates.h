// The templates and the stylesheet of `relais ui` (client/ui/templates/*.mustache, style.css),
// embedded in the program at build time (cmake/EmbedFiles.cmake): nothing is read from disk.
#pragma once

#include <string>

namespace relais::ui {

// The text of template `name` ("page", "agenda"…; "style.css" for the stylesheet). Aborts on an
// unknown name: the names are the program's own.
const std::string& Template(const std::string& name);

}  // namespace relais::ui
