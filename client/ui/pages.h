// The pages of `relais ui` (docs/UI.md): HTML rendered from the templates of client/ui/templates
// (mustache, embedded in the program at build time) over the replica's repositories — the same
// calls as the command line, so that there is one write path (client::AddFollowup: one transaction
// with its outbox entry). Each returns the page's HTML; a refused form returns the form again with
// the error beside its field, and writes nothing.
#pragma once

#include <map>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "client/records.h"

namespace relais::ui {

// The week's agenda (client/agenda.h), the home page.
Result<std::string> AgendaPage(client::Records& records, const Clock& clock);

// The cases whose search index matches `query` (accents and case aside), at most 50: a page, or
// with `fragment` only the list, for the search box that finds as you type.
Result<std::string> SearchPage(client::Records& records, const std::string& query, bool fragment = false);

// The script of the pages (client/ui/relais.js).
const std::string& Script();

// A case with its follow-up entries, newest first, and the form to add one (`csrf` in it). `form`
// and `error`: the values given and the refusal of a form sent back. kNotFound for an unknown case.
Result<std::string> CasePage(client::Records& records, const Clock& clock, const std::string& id, const std::string& csrf,
                             const std::map<std::string, std::string>& form = {}, const Error* error = nullptr);

// Adds the follow-up entry the form describes to case `id`: OK, or the refusal (kValidation naming
// the field, kNotFound) with nothing written.
Status AddFollowupFromForm(client::Records& records, const std::string& id, const std::map<std::string, std::string>& form);

// A short page with a heading and a message (refusals, errors), in the page's frame.
std::string MessagePage(const std::string& heading, const std::string& message);

// The stylesheet.
const std::string& StyleSheet();

}  // namespace relais::ui
