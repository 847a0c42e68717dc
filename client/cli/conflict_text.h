// How conflicts are told to counsellors: French sentences and table cells that name the case (its
// names, never only its id) and the field (its French label), shared by `relais sync`, `relais
// conflicts` and `relais case show`.
#pragma once

#include <string>

#include "client/records.h"
#include "sync/engine.h"
#include "sync/protocol.h"

namespace relais::cli {

// "Nom Prénom" of case `id`, or empty when this replica does not hold it.
Result<std::string> CaseName(client::Records& records, const std::string& id);

// The case's names, or its id when this replica does not hold it: "Girard Maël".
Result<std::string> CaseLabel(client::Records& records, const std::string& id);

// The field's French label in lower case ("statut"), or its name when unknown.
std::string FieldWord(const std::string& table, const std::string& field);

// The sentence `relais sync` prints for a conflict opened on this device's edit (notice.status
// "open") or for its settlement ("settled").
Result<std::string> NoticeSentence(client::Records& records, const sync::ConflictNotice& notice);

// The sentence `relais sync` prints for a value of this device that lost to a later edit, with
// the value the record kept (as this replica holds it after the pull).
Result<std::string> LostEditSentence(client::Records& records, const sync::LostEdit& lost);

}  // namespace relais::cli
