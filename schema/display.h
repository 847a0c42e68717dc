// How stored values read for people, in both programs' tables and messages: an enumeration's code in
// French words ("salarie" → "salarié"), any other value as it is. Scripts get the codes (--json).
#pragma once

#include <string>

#include "schema/model.h"

namespace relais::schema {

// "(vide)" for null; the words of an enumeration's code when `field` is an enumeration (a code
// without words, such as "btp", reads as it is); otherwise the value itself. `field` may be null.
std::string DisplayValue(const Field* field, const Value& value);

}  // namespace relais::schema
