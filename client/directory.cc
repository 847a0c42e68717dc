#include "client/directory.h"

#include "base/ids.h"
#include "base/text.h"

namespace relais::client {

namespace {

Error Refused(std::string_view field, const std::string& value, const std::string& why) {
  std::string message(field);
  message.append(": « ").append(value).append(" » ").append(why);
  return MakeError(ErrorCode::kValidation, message);
}

std::string Trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// "a b" without the space when either is empty.
std::string Joined(const std::string& a, const std::string& b) {
  std::string out = a;
  out.append(" ").append(b);
  return Trimmed(out);
}

}  // namespace

Status DirectoryNames::Load() {
  if (loaded_) return OkStatus();
  auto stmt = records_.replica().Statement(
      "SELECT id, organisation, coalesce(last_name, ''), coalesce(first_name, '') FROM contacts ORDER BY id");
  if (!stmt) return stmt.error();
  sqlite::StmtGuard guard(**stmt);
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    Entry e;
    e.id = (*stmt)->Text(0);
    const std::string organisation = (*stmt)->Text(1), last = (*stmt)->Text(2), first = (*stmt)->Text(3);
    e.organisation = FoldForMatch(organisation);
    e.person = FoldForMatch(Joined(last, first));
    e.reverse = FoldForMatch(Joined(first, last));
    e.shown = organisation;
    if (!e.person.empty()) e.shown = Joined(last, first).append(" (").append(organisation).append(")");
    entries_.push_back(std::move(e));
  }
  loaded_ = true;
  return OkStatus();
}

Result<std::string> DirectoryNames::Organisation(const std::string& value, std::string_view field) {
  if (IsUuid(value)) return value;
  RELAIS_TRY(Load());
  const std::string name = FoldForMatch(Trimmed(value));
  if (auto known = organisations_.find(name); known != organisations_.end()) return known->second;
  const Entry* chosen = nullptr;
  for (const Entry& e : entries_) {
    if (e.organisation != name) continue;
    if (!chosen || (e.person.empty() && !chosen->person.empty())) chosen = &e;
  }
  if (!chosen) {
    return Refused(field, value,
                   "n'est ni un identifiant ni un organisme de l'annuaire des partenaires de cette base (relais contact "
                   "search, ou importez d'abord l'annuaire)");
  }
  organisations_.emplace(name, chosen->id);
  return chosen->id;
}

Result<std::string> DirectoryNames::Contact(const std::string& value, const std::string& organisation_id,
                                            std::string_view field) {
  if (IsUuid(value)) return value;
  RELAIS_TRY(Load());
  std::string organisation;
  for (const Entry& e : entries_)
    if (e.id == organisation_id) organisation = e.organisation;
  const std::string name = FoldForMatch(Trimmed(value));
  std::vector<const Entry*> found;
  for (const Entry& e : entries_) {
    if (e.person.empty() || (e.person != name && e.reverse != name)) continue;
    if (!organisation.empty() && e.organisation != organisation) continue;
    found.push_back(&e);
  }
  if (found.size() == 1) return found.front()->id;
  if (found.empty()) {
    return Refused(field, value,
                   "n'est ni un identifiant ni une personne de l'annuaire des partenaires de cette base" +
                       std::string(organisation.empty() ? "" : " pour cet organisme") + " (relais contact search)");
  }
  std::string which;
  for (const Entry* e : found) which += (which.empty() ? "" : ", ") + e->id + " " + e->shown;
  return Refused(field, value, "désigne plusieurs fiches de l'annuaire (" + which + ") : donnez l'identifiant");
}

}  // namespace relais::client
