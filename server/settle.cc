#include "server/settle.h"

#include <map>

#include "base/clock.h"
#include "base/text.h"
#include "server/stored_json.h"
#include "sync/codec.h"

namespace relais::server {

namespace {

size_t IndexOf(const schema::Table& table, std::string_view field) {
  return static_cast<size_t>(table.FieldIndex(field));
}

Result<Conflict> LoadOpen(CentralTx& tx, int64_t id) {
  auto found = tx.GetConflict(id);
  if (!found) return found.error();
  if (!*found) {
    return MakeError(ErrorCode::kNotFound, "aucun conflit n° " + std::to_string(id) +
                                               " (voir `relais-central conflicts list --status open`)");
  }
  Conflict c = std::move(**found);
  if (c.status == "settled") {
    return MakeError(ErrorCode::kConflict, "le conflit n° " + std::to_string(id) + " est déjà réglé (" +
                                               c.settlement.value_or("?") + ", par " + c.settled_by.value_or("?") +
                                               " le " + c.settled_at.value_or("?") + ") ; rien n'a changé");
  }
  return c;
}

Result<StoredRecord> LoadRecord(CentralTx& tx, const schema::Table& table, const std::string& id) {
  auto found = tx.GetRecord(table, id);
  if (!found) return found.error();
  if (!*found) {
    return MakeError(ErrorCode::kInternal, "la fiche " + id + " de " + std::string(table.name) +
                                               " que nomme un conflit manque dans la base centrale");
  }
  return std::move(**found);
}

// Writes `values` over `current` as a change by the centre: a new version, the changed fields
// stamped, a history row holding the replaced values, and the scope move of a case whose territory
// changed. Writes nothing when no value changes. Returns the record as it now stands.
// `authors` names, per field, who wrote the value being replaced when it is known better than the
// record's last writer (a conflict knows who wrote the server's value).
Result<StoredRecord> WriteCentral(CentralTx& tx, const schema::Table& table, const StoredRecord& current,
                                  std::vector<schema::Value> values, const std::string& by, int64_t now_ms,
                                  const std::map<std::string, std::string>& authors = {}) {
  if (values == current.record.values) return current;
  RELAIS_TRY(schema::ValidateRecord(table, values));
  const sync::FieldStamps& stamps = current.stamps.map();
  const std::string stamp = CentralStamp(now_ms, stamps);
  StoredRecord next = current;
  std::vector<LostValue> lost;
  for (size_t i = 0; i < table.fields.size(); ++i) {
    if (values[i] == current.record.values[i]) continue;
    const std::string name(table.fields[i].name);
    if (current.record.values[i]) {
      auto old_stamp = stamps.find(name);
      auto author = authors.find(name);
      lost.push_back({name, current.record.values[i], author == authors.end() ? current.last_device : author->second,
                      old_stamp == stamps.end() ? std::string() : old_stamp->second});
    }
    if (table.kind == schema::TableKind::kMutable) next.stamps.Set(name, stamp);
  }
  auto seq = tx.NextSeq();
  if (!seq) return seq.error();
  next.record.values = std::move(values);
  next.record.version = *seq;
  next.history_seq = *seq;
  next.last_device = CentralAuthor(by);
  next.echo_device.reset();  // written by the centre: every device pulls it
  if (table.scope == schema::Scope::kTerritory) {
    next.territory = next.record.values[IndexOf(table, "territory")];
  }
  RELAIS_TRY(tx.PutRecord(table, next));
  HistoryEntry h;
  h.seq = *seq;
  h.table = std::string(table.name);
  h.record_id = next.record.id;
  h.device = next.last_device;
  h.hlc = stamp;
  h.at = IsoTimestamp(now_ms);
  h.snapshot = sync::EncodeRecordValues(table, next.record.values);
  if (!lost.empty()) h.lost = EncodeLost(lost);
  h.prev_seq = current.history_seq;
  RELAIS_TRY(tx.AppendHistory(h));
  if (table.scope == schema::Scope::kTerritory && current.territory && next.territory &&
      current.territory != next.territory) {
    RELAIS_TRY(MoveScope(tx, table, next.record.id, *current.territory, *next.territory));
  }
  return next;
}

// Marks `c` settled at a sequence number of its own, taken after the record changes it caused, so
// that a device pulls the records before the notice that explains them.
Result<Conflict> Settle(CentralTx& tx, Conflict c, std::string settlement, schema::Value value, const std::string& by,
                        int64_t now_ms) {
  auto seq = tx.NextSeq();
  if (!seq) return seq.error();
  c.status = "settled";
  c.settled_seq = *seq;
  c.settled_at = IsoTimestamp(now_ms);
  c.settled_by = by;
  c.settled_value = std::move(value);
  c.settlement = std::move(settlement);
  RELAIS_TRY(tx.SettleConflict(c));
  return c;
}

}  // namespace

std::string CentralAuthor(const std::string& by) { return "central:" + by; }

Result<Conflict> ResolveConflict(CentralTx& tx, int64_t id, const Decision& decision, const std::string& by,
                                 int64_t now_ms) {
  auto c = LoadOpen(tx, id);
  if (!c) return c.error();
  if (c->kind != "field") {
    return MakeError(
        ErrorCode::kUsage,
        "le conflit n° " + std::to_string(id) +
            " est un doublon probable : fusionnez (merge) ou écartez-le (dismiss), il n'a pas de champ à régler");
  }
  const schema::Table* table = schema::FindTable(c->table);
  const schema::Field* field = table && c->field ? table->FindField(*c->field) : nullptr;
  if (!field) return MakeError(ErrorCode::kInternal, "le conflit n° " + std::to_string(id) + " nomme un champ inconnu");
  auto current = LoadRecord(tx, *table, c->record_id);
  if (!current) return current.error();
  const size_t index = IndexOf(*table, field->name);

  if (decision.keep == Decision::Keep::kServer) {
    return Settle(tx, std::move(*c), "server", current->record.values[index], by, now_ms);
  }
  schema::Value target = c->device_value;
  if (decision.keep == Decision::Keep::kValue) {
    if (decision.value && !IsValidUtf8(*decision.value)) {
      return MakeError(ErrorCode::kValidation, std::string(field->name) + ": n'est pas un texte UTF-8 valide");
    }
    target = schema::Normalize(*field, decision.value);
    RELAIS_TRY(schema::ValidateValue(*field, target));
    if (table->scope == schema::Scope::kTerritory && field->name == "territory" && target) {
      auto rule = tx.RuleForTransfer(*target);
      if (!rule) return rule.error();
      if (!rule->declared) {
        return MakeError(ErrorCode::kValidation, "territory : « " + *target +
                                                     " » n'est pas un territoire déclaré (voir `relais-central "
                                                     "territory list`)");
      }
    }
  }
  std::vector<schema::Value> values = current->record.values;
  values[index] = target;
  std::map<std::string, std::string> authors;
  if (current->record.values[index] == c->server_value && !c->server_device.empty()) {
    authors[std::string(field->name)] = c->server_device;
  }
  auto written = WriteCentral(tx, *table, *current, std::move(values), by, now_ms, authors);
  if (!written) return written.error();
  return Settle(tx, std::move(*c), decision.keep == Decision::Keep::kDevice ? "device" : "value", target, by, now_ms);
}

Result<Conflict> MergeDuplicate(CentralTx& tx, int64_t id, const std::vector<std::string>& take, const std::string& by,
                                int64_t now_ms) {
  auto c = LoadOpen(tx, id);
  if (!c) return c.error();
  if (c->kind != "duplicate" || !c->other_id) {
    return MakeError(ErrorCode::kUsage,
                     "le conflit n° " + std::to_string(id) +
                         " porte sur un champ : réglez-le (resolve --keep server|device ou --value V)");
  }
  const schema::Table& cases = schema::CasesTable();
  for (const std::string& name : take) {
    const schema::Field* field = cases.FindField(name);
    if (!field || field->central_only) {
      std::string list;
      for (const schema::Field& f : cases.fields) {
        if (!f.central_only) list += (list.empty() ? "" : ", ") + std::string(f.name);
      }
      std::string message = "impossible de reprendre le champ ";
      message.append(name).append(" (champs d'un dossier : ").append(list).append(")");
      return MakeError(ErrorCode::kUsage, message);
    }
  }
  auto absorbed = LoadRecord(tx, cases, c->record_id);
  if (!absorbed) return absorbed.error();
  const size_t merged_into = IndexOf(cases, "merged_into");
  if (absorbed->record.values[merged_into]) {
    return MakeError(ErrorCode::kConflict, "le dossier " + c->record_id + " est déjà fusionné dans " +
                                               *absorbed->record.values[merged_into] + " ; écartez le conflit n° " +
                                               std::to_string(id));
  }
  auto survivor = LoadRecord(tx, cases, *c->other_id);
  if (!survivor) return survivor.error();
  for (int hops = 0; survivor->record.values[merged_into]; ++hops) {
    if (hops == kMaxMergeRedirects)
      return MakeError(ErrorCode::kInternal, "chaîne de fusions trop longue depuis le dossier " + *c->other_id);
    survivor = LoadRecord(tx, cases, *survivor->record.values[merged_into]);
    if (!survivor) return survivor.error();
  }
  if (survivor->record.id == absorbed->record.id) {
    return MakeError(ErrorCode::kConflict, "le dossier " + c->record_id + " est déjà celui qui reste de " +
                                               *c->other_id + " ; écartez le conflit n° " + std::to_string(id));
  }
  const std::string survivor_id = survivor->record.id;

  // 1. The survivor takes the chosen fields.
  std::vector<schema::Value> values = survivor->record.values;
  for (const std::string& name : take) {
    // An empty field of the new case is not taken: merging adds what the new case knows.
    const schema::Value& taken = absorbed->record.values[IndexOf(cases, name)];
    if (taken) values[IndexOf(cases, name)] = taken;
  }
  auto kept = WriteCentral(tx, cases, *survivor, std::move(values), by, now_ms);
  if (!kept) return kept.error();
  const std::string territory = kept->territory.value_or("");

  // 2. The absorbed case's follow-ups and referrals (every record that follows a case) move to the
  // survivor (and, maybe, to its territory).
  const std::string stamp = CentralStamp(now_ms, {});
  for (const schema::Table& children : schema::Tables()) {
    if (children.scope != schema::Scope::kParentCase) continue;
    auto ids = tx.ChildrenOfCase(children, absorbed->record.id);
    if (!ids) return ids.error();
    for (const std::string& child_id : *ids) {
      auto child = LoadRecord(tx, children, child_id);
      if (!child) return child.error();
      const std::optional<std::string> old_territory = child->territory;
      auto seq = tx.NextSeq();
      if (!seq) return seq.error();
      child->record.values[IndexOf(children, "case_id")] = survivor_id;
      const std::optional<int64_t> prev_seq = child->history_seq;
      child->record.version = *seq;
      child->history_seq = *seq;
      child->territory = territory;
      child->last_device = CentralAuthor(by);
      child->echo_device.reset();
      RELAIS_TRY(tx.PutRecord(children, *child));
      HistoryEntry h;
      h.seq = *seq;
      h.table = std::string(children.name);
      h.record_id = child_id;
      h.device = child->last_device;
      h.hlc = stamp;
      h.at = IsoTimestamp(now_ms);
      h.snapshot = sync::EncodeRecordValues(children, child->record.values);
      h.prev_seq = prev_seq;
      RELAIS_TRY(tx.AppendHistory(h));
      if (old_territory && *old_territory != territory) {
        auto exit_seq = tx.NextSeq();
        if (!exit_seq) return exit_seq.error();
        RELAIS_TRY(tx.AddScopeExit(*exit_seq, std::string(children.name), child_id, *old_territory, std::nullopt));
      }
    }
  }

  // 3. The absorbed case becomes a redirect: closed, not deleted.
  values = absorbed->record.values;
  values[merged_into] = survivor_id;
  values[IndexOf(cases, "closed_on")] = IsoDate(now_ms);
  values[IndexOf(cases, "close_reason")] = "fusionné avec " + survivor_id;
  auto redirect = WriteCentral(tx, cases, *absorbed, std::move(values), by, now_ms);
  if (!redirect) return redirect.error();

  return Settle(tx, std::move(*c), "merged", survivor_id, by, now_ms);
}

Result<Conflict> DismissDuplicate(CentralTx& tx, int64_t id, const std::string& by, int64_t now_ms) {
  auto c = LoadOpen(tx, id);
  if (!c) return c.error();
  if (c->kind != "duplicate") {
    return MakeError(ErrorCode::kUsage,
                     "le conflit n° " + std::to_string(id) +
                         " porte sur un champ : réglez-le (resolve --keep server laisse la fiche telle quelle)");
  }
  return Settle(tx, std::move(*c), "dismissed", std::nullopt, by, now_ms);
}

}  // namespace relais::server
