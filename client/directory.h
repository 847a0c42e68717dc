// The partner directory named as people name it. A permanence (and a file of permanences) refers
// to its organisation and contact person by their directory ids; people know them by name. These
// turn a name into the id, the directory of this replica being the one list of partners, and refuse
// what does not name exactly one partner, saying which ones it could be. docs/CLI.md, "Permanences and appointments".
#pragma once

#include <map>
#include <string>

#include "client/records.h"

namespace relais::client {

class DirectoryNames {
 public:
  explicit DirectoryNames(Records& records) : records_(records) {}

  // `value` as an organisation's directory id: an id is returned as given (whether the directory
  // holds it is the caller's check); a name is compared with each entry's organisation, case and
  // accents aside ("mission locale" finds « Mission locale »). The organisation's own entry (one
  // with no person's name) when it has one, else its first entry by id: every entry of an
  // organisation names it alike. kValidation, naming `field`, when no entry has that organisation.
  Result<std::string> Organisation(const std::string& value, std::string_view field = "organisation");
  // `value` as a person's directory id: an id as given, else "Nom Prénom" or "Prénom Nom" of an
  // entry (of organisation `organisation_id`'s organisation when given). kValidation when none or
  // several match, listing those.
  Result<std::string> Contact(const std::string& value, const std::string& organisation_id,
                              std::string_view field = "contact");

 private:
  struct Entry {
    std::string id, organisation, person;  // folded (base/text.h FoldForMatch); person "nom prénom"
    std::string reverse;                   // "prénom nom"
    std::string shown;                     // as people read it: "Nom Prénom (Organisme)"
  };
  Status Load();

  Records& records_;
  bool loaded_ = false;
  std::vector<Entry> entries_;  // by id
  std::map<std::string, std::string> organisations_;  // folded name → id, as found
};

}  // namespace relais::client
