// What a sync did or what stopped it, said to the counsellor in French with what to do next. The
// engine (sync/engine.h) gives facts; `relais sync` (client/cli/sync_cmd.cc) prints these.
#pragma once

#include <string>

#include "base/result.h"
#include "sync/engine.h"

namespace relais::client {

// The error `relais sync` reports: the failure's code (its exit code) and a sentence that says
// what failed, that nothing is lost when nothing is, and what to do.
Error SyncErrorForPeople(const sync::SyncError& error);

// The address does not lead to a Relais centre: it answered `what` (sync/centre_answer.h), with
// `http_status` (0: not said). Says what to check.
std::string NotACentreText(const std::string& what, int http_status);

// How the replica differed from the centre: "cases: 1203 ici, 1204 au centre; …", or that the
// centre is behind the replica's cursor.
std::string DivergenceText(const sync::Divergence& divergence);

// What `relais sync` says of a value this device sent that lost to a later edit of the same field
// (sync::LostEdit): which field of which record kept which value, and where the lost value is.
// `field`: the field's label ("téléphone"); `record`: the record in words ("du dossier Girard
// Maël"); `kept`: the value the record holds now, as shown (empty: the replica no longer holds
// the record); `record_id`: for the history command.
std::string LostEditText(const std::string& field, const std::string& record, const std::string& kept,
                         const std::string& record_id);

// What `relais sync` says when central staff merged a case this device created into an existing
// one: `created` and `survivor` name the cases, `survivor_id` is the case to open from now on.
std::string MergedCaseText(const std::string& created, const std::string& survivor, const std::string& survivor_id);

// How `relais status` counts the records with changes waiting to be sent ("3 fiches modifiées"):
// successive edits of one record are folded into one change, so changes are not what it counts.
std::string PendingRecordsText(int64_t records);

}  // namespace relais::client
