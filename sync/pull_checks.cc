#include "sync/pull_checks.h"

#include <algorithm>
#include <string_view>
#include <tuple>
#include <utility>

#include "base/ids.h"

namespace relais::sync {

namespace {

Error Refused(const std::string& what) {
  return MakeError(ErrorCode::kProtocol, "page refusée (rien n'en est enregistré) : " + what);
}

std::string RecordName(std::string_view table, const std::string& id) { return std::string(table) + ", fiche " + id; }

// Whether `seq` is one of the sequence numbers the page covers.
bool Covered(const PullPage& page, int64_t seq) { return seq > page.since && seq <= page.next; }

std::string Range(const PullPage& page) {
  return "hors de la page (de " + std::to_string(page.since + 1) + " à " + std::to_string(page.next) + ")";
}

bool InScope(const std::vector<std::string>& territories, const schema::Value& territory) {
  if (!territory) return false;
  for (const std::string& t : territories) {
    if (t == *territory) return true;
  }
  return false;
}

std::string List(const std::vector<std::string>& territories) {
  std::string out;
  for (const std::string& t : territories) out += (out.empty() ? "" : ", ") + t;
  return out.empty() ? "aucun" : out;
}

Status CheckRecord(const PullPage& page, const PulledRecord& pr, const PageScope& scope) {
  const schema::Table* table = schema::FindTable(pr.table);
  if (!table) return Refused("une fiche d'une table inconnue : " + pr.table);
  const schema::Record& r = pr.record;
  if (!IsUuid(r.id)) return Refused(pr.table + " : une fiche a un identifiant qui n'est pas un UUID");
  if (!Covered(page, r.version)) {
    return Refused(RecordName(pr.table, r.id) + " : version " + std::to_string(r.version) + " " + Range(page));
  }
  Status valid = schema::ValidateRecord(*table, r.values);
  if (!valid.ok()) return Refused(RecordName(pr.table, r.id) + " : " + valid.error().message);
  if (table->scope == schema::Scope::kTerritory && scope.territories) {
    // Each table scoped by its own territory declares the field (schema::Scope::kTerritory).
    const int territory_field = table->FieldIndex("territory");
    const schema::Value& territory =
        territory_field < 0 ? schema::Value() : r.values[static_cast<size_t>(territory_field)];
    if (!InScope(*scope.territories, territory)) {
      return Refused(RecordName(pr.table, r.id) + " : territory « " + territory.value_or("") +
                     " » n'est pas un des territoires de cet appareil (" + List(*scope.territories) + ")");
    }
  }
  return OkStatus();
}

// No record twice at different versions: which one would the replica keep?
Status CheckEachRecordOnce(const PullPage& page) {
  if (page.records.size() < 2) return OkStatus();
  std::vector<const PulledRecord*> sorted;
  sorted.reserve(page.records.size());
  for (const PulledRecord& pr : page.records) sorted.push_back(&pr);
  std::sort(sorted.begin(), sorted.end(), [](const PulledRecord* a, const PulledRecord* b) {
    return std::tie(a->record.id, a->table) < std::tie(b->record.id, b->table);
  });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const PulledRecord& a = *sorted[i - 1];
    const PulledRecord& b = *sorted[i];
    if (a.record.id == b.record.id && a.table == b.table && a.record.version != b.record.version) {
      return Refused(RecordName(a.table, a.record.id) + " : donnée deux fois, aux versions " +
                     std::to_string(std::min(a.record.version, b.record.version)) + " et " +
                     std::to_string(std::max(a.record.version, b.record.version)));
    }
  }
  return OkStatus();
}

Status CheckRemoval(const PullPage& page, const Removal& r) {
  if (!IsUuid(r.record_id)) return Refused("un retrait de " + r.table + " nomme un identifiant qui n'est pas un UUID");
  if (!Covered(page, r.seq)) {
    return Refused("retrait de " + RecordName(r.table, r.record_id) + " : séquence " + std::to_string(r.seq) + " " +
                   Range(page));
  }
  if (!r.to.empty()) {
    static const schema::Field& kTerritory = *schema::CasesTable().FindField("territory");
    Status valid = schema::ValidateValue(kTerritory, r.to);
    if (!valid.ok()) return Refused("retrait de " + RecordName(r.table, r.record_id) + " : to : " + valid.error().message);
  }
  return OkStatus();
}

Status CheckNotice(const PullPage& page, const ConflictNotice& n) {
  const std::string name = "conflit n° " + std::to_string(n.id);
  if (n.id <= 0) return Refused(name + " : numéro invalide");
  if (!IsUuid(n.record_id)) return Refused(name + " : la fiche nommée n'a pas un identifiant UUID");
  if (!n.other_id.empty() && !IsUuid(n.other_id)) return Refused(name + " : l'autre fiche n'a pas un identifiant UUID");
  if (!Covered(page, n.seq)) return Refused(name + " : séquence " + std::to_string(n.seq) + " " + Range(page));
  const schema::Table* table = schema::FindTable(n.table);
  if (n.kind == "field" && (!table || !table->FindField(n.field))) {
    return Refused(name + " : le champ « " + n.field + " » n'existe pas dans " + n.table);
  }
  return OkStatus();
}

}  // namespace

Status CheckPulledPage(const PullPage& page, const PageScope& scope) {
  if (page.since < 0 || page.next < 0) return Refused("curseur négatif");
  for (const PulledRecord& pr : page.records) RELAIS_TRY(CheckRecord(page, pr, scope));
  RELAIS_TRY(CheckEachRecordOnce(page));
  for (const Removal& r : page.removed) RELAIS_TRY(CheckRemoval(page, r));
  for (const ConflictNotice& n : page.conflicts) RELAIS_TRY(CheckNotice(page, n));
  return OkStatus();
}

}  // namespace relais::sync
