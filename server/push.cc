#include "server/push.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <unordered_map>

#include "base/clock.h"
#include "base/text.h"
#include "server/erasure.h"
#include "server/stored_json.h"
#include "sync/codec.h"
#include "sync/hlc.h"

namespace relais::server {

namespace {

using sync::Change;
using sync::ChangeResult;
using sync::ChangeStatus;
using sync::Resolution;

// The message of a kChangeIdReused error: the prefix, the change id, the text (ReusedChangeId).
constexpr std::string_view kReusedPrefix = "la modification ";
constexpr std::string_view kReusedText =
    " reprend l'identifiant d'une autre modification déjà reçue de cet appareil : rien n'a été appliqué. Chaque "
    "modification prend un identifiant qui lui est propre.";

// `code`: one of docs/PROTOCOL.md's "Rejection codes", for programs; `reason`: French, for people.
ChangeResult Rejected(const Change& change, std::string_view code, std::string reason) {
  ChangeResult r;
  r.change_id = change.change_id;
  r.status = ChangeStatus::kRejected;
  r.code = code;
  r.reason = std::move(reason);
  return r;
}

std::string OutsideScope(const Device& device, const std::string& territory) {
  return "le territoire " + territory + " est hors des territoires de cet appareil (" + device.TerritoryList() + ")";
}

// The one answer for a record the device may not see and a record that does not exist: a device
// learns nothing of the records outside its territories, not even that they exist (docs/PROTOCOL.md,
// "POST /v1/push"). Code unknown_record.
std::string UnknownRecord(const std::string& id) {
  return "la fiche " + id + " est inconnue ou hors des territoires de cet appareil";
}
std::string UnknownCase(const std::string& id) {
  return "le dossier " + id + " est inconnu ou hors des territoires de cet appareil";
}

// Unix ms of an IsoTimestamp ("YYYY-MM-DDTHH:MM:SSZ"); 0 when it is not one.
int64_t IsoMs(const std::string& text) {
  std::tm tm{};
  // NOLINTNEXTLINE(cert-err34-c): the widths bound each number and the count of fields read is checked.
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

// How many history rows a recovery walks back to find a record as the restore left it.
constexpr int kMaxHistoryHops = 100000;

const schema::Value& ValueOf(const schema::Table& table, const std::vector<schema::Value>& values,
                             std::string_view field) {
  static const schema::Value kNull;
  int index = table.FieldIndex(field);
  return index < 0 ? kNull : values[static_cast<size_t>(index)];
}

// Applies the rules of one change. Returns its result; an Error when the store failed or the
// device reused a change id for another change.
class ChangeApplier {
 public:
  // `last_seq`: the centre's sequence before the batch; no device has seen a version beyond it.
  // `claims`: the device's recovery claims (CentralTx::RecoveryClaimsOf).
  ChangeApplier(CentralTx& tx, const Device& device, std::string now, int64_t last_seq, RecoveryClaims claims)
      : tx_(tx), device_(device), now_(std::move(now)), last_seq_(last_seq), claims_(std::move(claims)) {
    for (const RecoveryClaim& c : claims_.claims) claim_of_[c.record_id].push_back(&c);
    if (!claims_.claims.empty()) epoch_ms_ = IsoMs(claims_.epoch_at);
  }

  // `facts`: what the decoder established about `change`; `digest`: its sync::ChangeDigest.
  Result<ChangeResult> Apply(const Change& change, const sync::ChangeFacts& facts, std::string_view digest) {
    // A change taken before answers with its first outcome. Looked up for every change, creates
    // of new records too: a create's record being absent does not mean its change id is unused.
    auto prior = tx_.FindChangeOutcome(device_.id, change.change_id);
    if (!prior) return prior.error();
    if (*prior) {
      if ((*prior)->digest && *(*prior)->digest != digest) {
        return ChangeIdReused(change.change_id);
      }
      ChangeResult r = std::move((*prior)->result);
      r.change_id = change.change_id;
      return r;
    }
    auto result = ApplyNew(change, facts);
    if (!result) return result;
    // Versions given in this batch are versions too: a later change of the batch may name one.
    last_seq_ = std::max(last_seq_, result->version);
    if (result->status != ChangeStatus::kRejected) RELAIS_TRY(tx_.SaveChangeOutcome(device_.id, *result, digest));
    return result;
  }

 private:
  Result<ChangeResult> ApplyNew(const Change& change, const sync::ChangeFacts& facts) {
    const schema::Table* table = schema::FindTable(change.table);
    if (!table) return Rejected(change, "unknown_table", "table inconnue : " + change.table);
    // A create learns whether its id is taken as it is written (CentralTx::InsertRecord).
    if (change.op == sync::Op::kCreate) {
      // An entry on a case erased since the device wrote it is refused, and nothing of it is kept.
      if (table->FindField("case_id")) {
        for (const sync::FieldChange& fc : change.fields) {
          if (fc.field != "case_id" || !fc.value) continue;
          auto erased = Erased(change, *fc.value);
          if (!erased) return erased.error();
          if (*erased) return std::move(**erased);
        }
      }
      return Create(*table, change, facts);
    }
    // A version this centre never gave: the device knew another centre, or this one before it
    // was restored from an older backup. Merged against what the centre holds now, its base would
    // mean nothing.
    if (change.base_version > last_seq_) {
      return Rejected(change, "unknown_base_version",
                      "la version de base " + std::to_string(change.base_version) +
                          " n'a jamais été donnée par ce centre (dernière : " + std::to_string(last_seq_) +
                          ") : le centre a été restauré d'une sauvegarde ou remplacé");
    }
    auto current = tx_.GetRecord(*table, change.record_id);
    if (!current) return current.error();
    if (!*current) {
      auto erased = Erased(change, change.record_id);
      if (!erased) return erased.error();
      if (*erased) return std::move(**erased);
    }
    if (*current && !claim_of_.empty()) {
      std::vector<const RecoveryClaim*> claims = TakeClaims(change.record_id, "update");
      if (!claims.empty()) return RecoverVersion(*table, change, facts, **current, claims);
    }
    return Update(*table, change, facts, *current);
  }

  // The refusal of `change` when `record_id` (its record, or the case it names) was erased with its
  // person (code `erased`): nothing of it is stored. Nullopt otherwise.
  Result<std::optional<ChangeResult>> Erased(const Change& change, const std::string& record_id) {
    auto day = tx_.ErasedOn(record_id);
    if (!day) return day.error();
    if (!*day) return std::optional<ChangeResult>();
    return std::optional<ChangeResult>(Rejected(change, "erased", ErasedReason(record_id, **day)));
  }

  // The unused claims of `op` on `record_id`, taken: a claim serves the device's first change of
  // the record after it, whatever that change's outcome.
  std::vector<const RecoveryClaim*> TakeClaims(const std::string& record_id, std::string_view op) {
    auto found = claim_of_.find(record_id);
    if (found == claim_of_.end() || found->second.front()->op != op) return {};
    std::vector<const RecoveryClaim*> taken = std::move(found->second);
    claim_of_.erase(found);
    return taken;
  }

  Status UseClaims(const std::vector<const RecoveryClaim*>& claims, int64_t version) {
    for (const RecoveryClaim* c : claims) RELAIS_TRY(tx_.UseRecoveryClaim(c->id, version));
    return OkStatus();
  }

  // The values of `current` as the restore left it: at the last version at or before epoch_seq.
  // A record the restored centre lacked and that another device pushed back since: its first version
  // (what that device held of the same lost history). nullopt when the chain cannot be read.
  Result<std::optional<std::vector<schema::Value>>> ValuesAtRestore(const schema::Table& table,
                                                                    const StoredRecord& current) {
    using Values = std::optional<std::vector<schema::Value>>;
    if (current.record.version <= claims_.epoch_seq) return Values(current.record.values);
    std::optional<int64_t> seq = current.history_seq;
    std::optional<std::string> oldest;
    for (int hops = 0; seq && hops < kMaxHistoryHops; ++hops) {
      auto link = tx_.HistoryAt(*seq);
      if (!link) return link.error();
      if (!*link) break;
      oldest = std::move((*link)->snapshot);
      if (*seq <= claims_.epoch_seq) break;
      seq = (*link)->prev_seq;
    }
    if (!oldest) return Values();
    auto values = sync::DecodeRecordValues(table, *oldest);
    if (!values) return values.error();
    return Values(std::move(*values));
  }

  // A pushed-back value was written before the restore (the centre had given it): it is dated no
  // later than the restore, so that an edit made at the centre since wins a last-writer-wins field
  // (docs/PROTOCOL.md, "Centre identity").
  std::string RecoveryStamp(const std::string& hlc) const {
    auto stamp = sync::Hlc::Parse(hlc);
    if (epoch_ms_ <= 0 || !stamp || stamp->ms < epoch_ms_) return hlc;
    return sync::Hlc{epoch_ms_, 0, stamp->node}.ToString();
  }

  // `change`, made by the device on the version it held and the centre lost, merged as an edit of
  // the record as the restore left it: each field's base is its value then, and its stamp no later
  // than the restore. An edit made at the centre since is another side of a three-way merge: it
  // wins a last-writer-wins field (the device's value is in `lost` and the history) and meets the
  // device's in a conflict for a review field; never silently overwritten.
  Result<ChangeResult> Recover(const schema::Table& table, Change change, const sync::ChangeFacts& facts,
                               const StoredRecord& current, const std::vector<schema::Value>& at_restore,
                               const std::vector<const RecoveryClaim*>& claims) {
    change.hlc = RecoveryStamp(change.hlc);
    for (sync::FieldChange& f : change.fields) {
      const int index = table.FieldIndex(f.field);
      if (index >= 0) f.base = at_restore[static_cast<size_t>(index)];
    }
    recovering_ = true;
    auto result = Update(table, change, facts, current);
    recovering_ = false;
    if (!result) return result;
    if (result->status == ChangeStatus::kApplied) result->status = ChangeStatus::kMerged;
    RELAIS_TRY(UseClaims(claims, result->version));  // 0 when rejected: the claim is spent all the same
    return result;
  }

  // An update the device pushes back (a version it held that the centre lost), claimed before the
  // push. Its bases are the centre's values when the device pushed back; they are taken as the
  // record was at the restore.
  Result<ChangeResult> RecoverVersion(const schema::Table& table, const Change& change, const sync::ChangeFacts& facts,
                                      const StoredRecord& current, const std::vector<const RecoveryClaim*>& claims) {
    // A record that left the device's territories since the restore: the rules of any update.
    if (table.scope != schema::Scope::kShared && !device_.InScope(current.territory.value_or("")))
      return Update(table, change, facts, current);
    auto at_restore = ValuesAtRestore(table, current);
    if (!at_restore) return at_restore.error();
    if (!*at_restore) return Update(table, change, facts, current);
    return Recover(table, change, facts, current, **at_restore, claims);
  }

  // A create the device pushes back of a record the centre holds: the device held a version of it
  // the centre lost (a case that moved into the device's territory in the lost history, say),
  // claimed before the push. Applied as an update of the fields where the device's values differ
  // from the record as the restore left it, through the field rules — moving the case back to the
  // device's territory when that is what changed. An entry (append-only) is the centre's as it is.
  // nullopt when the claim does not hold: the create is refused as any create of a taken id.
  Result<std::optional<ChangeResult>> RecoverRecord(const schema::Table& table, const Change& change,
                                                    const sync::ChangeFacts& facts,
                                                    const std::vector<const RecoveryClaim*>& claims) {
    auto current = tx_.GetRecord(table, change.record_id);
    if (!current) return current.error();
    if (!*current) return std::optional<ChangeResult>();
    const StoredRecord& held = **current;
    if (table.kind == schema::TableKind::kAppendOnly) {
      if (table.scope != schema::Scope::kShared && !device_.InScope(held.territory.value_or("")))
        return std::optional<ChangeResult>();
      ChangeResult r;
      r.change_id = change.change_id;
      r.status = ChangeStatus::kMerged;
      r.version = held.record.version;
      RELAIS_TRY(UseClaims(claims, r.version));
      return std::optional(std::move(r));
    }
    auto at_restore = ValuesAtRestore(table, held);
    if (!at_restore) return at_restore.error();
    if (!*at_restore) return std::optional<ChangeResult>();
    std::vector<schema::Value> sent(table.fields.size());
    for (const sync::FieldChange& fc : change.fields) {
      const int index = table.FieldIndex(fc.field);
      if (index >= 0) sent[static_cast<size_t>(index)] = fc.value;
    }
    // A case outside the device's territories now: the device must show it knew the person the case
    // is about — the same identity (names, birth date) and opening date as the restore left it. A
    // device that never held the case learns nothing from a refusal (record_exists, as for any id).
    if (&table == &schema::CasesTable() && !device_.InScope(held.territory.value_or(""))) {
      for (std::string_view field : {"last_name", "first_name", "birth_date", "opened_on"}) {
        if (ValueOf(table, sent, field) != ValueOf(table, **at_restore, field)) return std::optional<ChangeResult>();
      }
    }
    Change update;
    update.change_id = change.change_id;
    update.table = change.table;
    update.record_id = change.record_id;
    update.op = sync::Op::kUpdate;
    update.base_version = held.record.version;
    update.hlc = change.hlc;
    for (size_t i = 0; i < table.fields.size(); ++i) {
      // merged_into is written by central staff only: a merge the restore lost is not made again.
      if (sent[i] == (**at_restore)[i] || table.fields[i].name == "merged_into") continue;
      update.fields.push_back({std::string(table.fields[i].name), sent[i], (**at_restore)[i]});
    }
    auto result = Recover(table, std::move(update), facts, held, **at_restore, claims);
    if (!result) return result.error();
    if (result->status != ChangeStatus::kRejected && table.scope == schema::Scope::kTerritory) {
      // Still outside the device's territories (the move back went to review, or the case moved on
      // since the restore): a scope exit in the territory the device sent takes it off its replica.
      auto now_held = tx_.GetRecord(table, change.record_id);
      if (!now_held) return now_held.error();
      const schema::Value& sent_territory = ValueOf(table, sent, "territory");
      if (*now_held && sent_territory && !device_.InScope((*now_held)->territory.value_or(""))) {
        auto exit_seq = tx_.NextSeq();
        if (!exit_seq) return exit_seq.error();
        RELAIS_TRY(tx_.AddScopeExit(*exit_seq, std::string(table.name), change.record_id, *sent_territory,
                                    (*now_held)->territory));
      }
    }
    return std::optional(std::move(*result));
  }

  Result<ChangeResult> Create(const schema::Table& table, const Change& change, const sync::ChangeFacts& facts) {
    StoredRecord stored;
    stored.record.id = change.record_id;
    stored.record.values.resize(table.fields.size());
    for (const sync::FieldChange& fc : change.fields) {
      int index = table.FieldIndex(fc.field);
      if (index < 0) return Rejected(change, "unknown_field", "champ inconnu : " + fc.field);
      stored.record.values[static_cast<size_t>(index)] = fc.value;
    }
    // The centre's decoder checked these values against the schema already (sync::ChangeFacts).
    if (!facts.validated) {
      if (auto valid = schema::ValidateRecord(table, stored.record.values); !valid) {
        return Rejected(change, "invalid_value", valid.error().message);
      }
    }
    // A record pushed back after a restore (a create under a recovery claim) is what the centre held
    // before: its status made its moves then, checked one by one.
    const auto claim = claim_of_.find(change.record_id);
    const bool pushed_back = claim != claim_of_.end() && claim->second.front()->op == "create";
    if (!pushed_back) {
      if (auto refused = RefuseUndeclaredMoves(table, change)) return std::move(*refused);
    }
    // Whether the values are still those the device holds in its row: only a redirect below (a
    // follow-up written on a case since merged) changes one.
    bool redirected = false;
    // Where the device holds the record though the centre keeps it out of the device's scope: a
    // scope exit there takes it off the replica.
    std::optional<std::string> exit_territory;
    switch (table.scope) {
      case schema::Scope::kTerritory: {
        const schema::Value& territory = ValueOf(table, stored.record.values, "territory");
        if (!territory)
          return Rejected(change, "missing_territory",
                          "une fiche de " + std::string(table.name) + " doit avoir un territoire");
        if (!device_.InScope(*territory)) return Rejected(change, "outside_scope", OutsideScope(device_, *territory));
        // Any record placed at a reception point (a case, a visit of the register) names one of
        // its territory's.
        if (table.FindField("reception_point") && !recovering_) {
          auto refused =
              CheckReceptionPoint(change, ValueOf(table, stored.record.values, "reception_point"), *territory);
          if (!refused) return refused.error();
          if (*refused) return std::move(**refused);
        }
        stored.territory = territory;
        break;
      }
      case schema::Scope::kParentCase: {
        const int case_field = table.FieldIndex("case_id");
        schema::Value& case_id = stored.record.values[static_cast<size_t>(case_field)];
        auto parent = tx_.GetRecord(schema::CasesTable(), case_id.value_or(""));
        if (!parent) return parent.error();
        if (!*parent) return Rejected(change, "unknown_case", UnknownCase(case_id.value_or("")));
        // An entry written offline on a case that central staff have since merged into another
        // goes to the surviving case, as the merge moved the entries it found.
        const std::string written_on = *case_id;
        const std::string written_on_territory = (*parent)->territory.value_or("");
        const int merged_into = schema::CasesTable().FieldIndex("merged_into");
        for (int hops = 0; (*parent)->record.values[static_cast<size_t>(merged_into)]; ++hops) {
          if (hops == kMaxMergeRedirects)
            return MakeError(ErrorCode::kInternal, "redirect chain too long from " + *case_id);
          case_id = (*parent)->record.values[static_cast<size_t>(merged_into)];
          parent = tx_.GetRecord(schema::CasesTable(), *case_id);
          if (!parent) return parent.error();
          if (!*parent) return MakeError(ErrorCode::kInternal, "merged into a missing case " + *case_id);
          redirected = true;
        }
        const std::string territory = (*parent)->territory.value_or("");
        if (!device_.InScope(territory)) {
          // Written on a case the device holds, merged since into one it may not see: the entry
          // follows to the survivor, and leaves the device's replica by a scope exit in the
          // territory of the case it was written on. Written on a case that has since left the
          // device: accepted when the device still held it (HeldWhenWritten), the case's exit
          // takes it off the replica.
          if (redirected && device_.InScope(written_on_territory)) {
            exit_territory = written_on_territory;
          } else {
            auto held = HeldWhenWritten(written_on);
            if (!held) return held.error();
            if (!*held) {
              // Neither the case it was merged into nor that case's territory is named: both lie
              // outside what this device may see.
              if (redirected) {
                return Rejected(change, "merged_outside_scope",
                                "le dossier " + written_on +
                                    " a été fusionné par le centre dans un dossier hors des territoires de cet "
                                    "appareil : l'entrée est gardée ici, demandez au centre de la rattacher");
              }
              return Rejected(change, "unknown_case", UnknownCase(written_on));
            }
          }
        }
        // A record that shares the person's data with a partner (a referral) needs the case's consent
        // as the centre holds it now: withdrawn on another laptop meanwhile, it is refused. Checked
        // once the case is known to be one the device may see or saw: the reason speaks of the person,
        // by the case the device wrote on (not the one it was merged into).
        if (!pushed_back) {
          if (auto consented = schema::CheckCaseConsent(table, (*parent)->record.values, written_on); !consented)
            return Rejected(change, "no_consent", consented.error().message);
        }
        stored.territory = territory;
        break;
      }
      case schema::Scope::kShared:
        break;
    }
    auto seq = tx_.NextSeq();
    if (!seq) return seq.error();
    stored.record.version = *seq;
    stored.history_seq = *seq;
    stored.last_device = device_.name;
    // Created exactly as the device sent it: its row is this record. A probable duplicate opens a
    // conflict about the record without changing it.
    if (!facts.normalized && !redirected) stored.echo_device = device_.id;
    if (table.kind == schema::TableKind::kMutable) {
      stored.stamps = RecordStamps::ForCreate(table, stored.record.values, change.hlc);
    }
    // The cases it may duplicate are looked for before it is stored: most creates have none, and
    // an index that holds no entry for the key answers without reading any row.
    std::vector<std::string> lookalikes;
    if (&table == &schema::CasesTable()) {
      if (std::optional<std::string> key = CaseIdentityKey(stored.record.values)) {
        auto matches = tx_.FindCasesByIdentity(*key);
        if (!matches) return matches.error();
        lookalikes = std::move(*matches);
      }
    }
    auto inserted = tx_.InsertRecord(table, stored);
    if (!inserted) return inserted.error();
    if (!*inserted) {
      tx_.ReturnSeq(*seq);
      if (!claim_of_.empty()) {
        std::vector<const RecoveryClaim*> claims = TakeClaims(change.record_id, "create");
        if (!claims.empty()) {
          auto recovered = RecoverRecord(table, change, facts, claims);
          if (!recovered) return recovered.error();
          if (*recovered) return std::move(**recovered);
        }
      }
      return Rejected(change, "record_exists", "la fiche " + change.record_id + " existe déjà");
    }
    RELAIS_TRY(AppendHistory(table, change, stored, std::nullopt, std::nullopt));
    if (!claim_of_.empty()) RELAIS_TRY(UseClaims(TakeClaims(change.record_id, "create"), *seq));
    if (!lookalikes.empty()) RELAIS_TRY(FlagDuplicate(change, stored, lookalikes.front()));
    if (exit_territory) {
      auto exit_seq = tx_.NextSeq();
      if (!exit_seq) return exit_seq.error();
      RELAIS_TRY(tx_.AddScopeExit(*exit_seq, std::string(table.name), stored.record.id, *exit_territory, std::nullopt));
    }
    ChangeResult r;
    r.change_id = change.change_id;
    r.version = *seq;
    return r;
  }

  Result<ChangeResult> Update(const schema::Table& table, const Change& change, const sync::ChangeFacts& facts,
                              const std::optional<StoredRecord>& current) {
    if (!current) return Rejected(change, "unknown_record", UnknownRecord(change.record_id));
    if (table.kind == schema::TableKind::kAppendOnly) {
      return Rejected(change, "append_only",
                      std::string(table.name) + " : les entrées ne s'ajoutent qu'à la suite et ne se modifient pas");
    }
    // A change pushed back after a restore has the restore's values for bases, not the device's.
    if (!recovering_) {
      if (auto refused = RefuseUndeclaredMoves(table, change)) return std::move(*refused);
    }
    const bool scoped = table.scope != schema::Scope::kShared;
    // A record pushed back after a restore was held by the device in the history the centre lost
    // (its claim: RecoverRecord).
    if (scoped && !recovering_ && !device_.InScope(current->territory.value_or(""))) {
      auto held = HeldWhenWritten(change.record_id);
      if (!held) return held.error();
      if (!*held) return Rejected(change, "unknown_record", UnknownRecord(change.record_id));
    }
    if (&table == &schema::CasesTable() && ValueOf(table, current->record.values, "merged_into")) {
      return Redirect(table, change, facts, *current);
    }
    sync::MergeResult merged = sync::MergeUpdate(table, current->record, current->stamps.map(), change);
    if (auto valid = schema::ValidateRecord(table, merged.values); !valid) {
      return Rejected(change, "invalid_value", valid.error().message);
    }
    std::optional<std::string> new_territory = current->territory;
    if (table.scope == schema::Scope::kTerritory) {
      new_territory = ValueOf(table, merged.values, "territory");
      if (!new_territory)
        return Rejected(change, "missing_territory",
                        "une fiche de " + std::string(table.name) + " doit avoir un territoire");
      if (table.FindField("reception_point") && !recovering_ && device_.InScope(current->territory.value_or(""))) {
        // The point this change writes, or the case's point when it moves the case, against the
        // territory the case would have. An edit written while the device held a case that has
        // left its territories since is taken as such work is (HeldWhenWritten), and the case's
        // territory now is not named to it.
        const schema::Value& held_point = ValueOf(table, current->record.values, "reception_point");
        const sync::FieldChange* sent = nullptr;
        for (const sync::FieldChange& fc : change.fields) {
          if (fc.field == "reception_point") sent = &fc;
        }
        const bool writes_point = sent && sent->value && sent->value != held_point;
        if (writes_point || new_territory != current->territory) {
          auto refused = CheckReceptionPoint(
              change, sent ? sent->value : ValueOf(table, merged.values, "reception_point"), *new_territory);
          if (!refused) return refused.error();
          if (*refused) return std::move(**refused);
        }
      }
      if (new_territory != current->territory && !device_.InScope(*new_territory)) {
        auto transfer = Transfer(table, change, *current, merged, *new_territory);
        if (!transfer) return transfer.error();
        if (*transfer) return std::move(**transfer);
        new_territory = ValueOf(table, merged.values, "territory");
      }
    }

    std::vector<LostValue> lost;
    std::vector<const sync::FieldOutcome*> review;
    for (const sync::FieldOutcome& out : merged.outcomes) {
      const std::string name(table.fields[static_cast<size_t>(out.field)].name);
      if (out.how == Resolution::kLwwServer) lost.push_back({name, out.device, device_.name, change.hlc});
      if (out.how == Resolution::kLwwDevice) lost.push_back({name, out.server, current->last_device, out.server_hlc});
      if (out.how == Resolution::kForReview) review.push_back(&out);
    }

    ChangeResult r;
    r.change_id = change.change_id;
    r.status = merged.status;
    for (const sync::FieldOutcome* out : review) {
      r.review_fields.emplace_back(table.fields[static_cast<size_t>(out->field)].name);
    }
    // The device's values that lost, so that it can say which value its record kept.
    for (const sync::FieldOutcome& out : merged.outcomes) {
      if (out.how == Resolution::kLwwServer)
        r.lost_fields.emplace_back(table.fields[static_cast<size_t>(out.field)].name);
    }
    // A recovery always takes a version, with its history row: the device's row is not the record.
    if (!merged.changed && lost.empty() && review.empty() && !recovering_) {
      // Nothing moved: the version stays, only fresher stamps of equal values are kept. A change
      // the decoder normalised (a phone sent with spaces) left the device holding other values
      // than these, and no new version will bring them back: the answer carries them.
      r.version = current->record.version;
      if (facts.normalized) {
        r.stored.reserve(change.fields.size());
        for (const sync::FieldChange& f : change.fields) {
          const int index = table.FieldIndex(f.field);
          if (index >= 0) r.stored.emplace_back(f.field, current->record.values[static_cast<size_t>(index)]);
        }
      }
      if (merged.stamps != current->stamps.map()) {
        StoredRecord same = *current;
        same.stamps = RecordStamps(std::move(merged.stamps));
        RELAIS_TRY(tx_.PutRecord(table, same));
      }
      return r;
    }

    auto seq = tx_.NextSeq();
    if (!seq) return seq.error();
    StoredRecord stored;
    stored.record.id = change.record_id;
    stored.record.version = *seq;
    stored.history_seq = *seq;
    stored.record.values = std::move(merged.values);
    stored.stamps = RecordStamps(std::move(merged.stamps));
    stored.territory = new_territory;
    stored.last_device = device_.name;
    // Applied as sent on the very version the device holds (MergeUpdate answers kApplied only when
    // the base version is the current one and no field met another's edit; nothing lost, nothing
    // held for review, any territory change is the device's own value): the device's row, its base
    // with its edit, is this record. Anything else is sent back to it by its next pull.
    if (merged.status == ChangeStatus::kApplied && change.base_version == current->record.version &&
        !facts.normalized && lost.empty() && review.empty() && !recovering_) {
      stored.echo_device = device_.id;
    }
    RELAIS_TRY(tx_.PutRecord(table, stored));
    RELAIS_TRY(AppendHistory(table, change, stored, current->history_seq,
                             lost.empty() ? std::nullopt : std::optional(EncodeLost(lost))));
    for (const sync::FieldOutcome* out : review) {
      RELAIS_TRY(OpenReview(table, change, new_territory, current->last_device, *out, *seq));
    }
    if (table.scope == schema::Scope::kTerritory && current->territory && current->territory != new_territory) {
      RELAIS_TRY(MoveScope(tx_, table, change.record_id, *current->territory, *new_territory));
    }
    r.version = *seq;
    return r;
  }

  // A change that moves a field with declared transitions (a referral's status) other than as
  // declared, from the value the device based it on (a create: from none), is refused as a whole
  // (invalid_transition). The device's base, not the centre's value: two people who each made a
  // declared move from the same status offline (accepted here, refused there) made no mistake, and
  // the field's rule settles them (kReview: a conflict for central staff). nullopt when it passes.
  std::optional<ChangeResult> RefuseUndeclaredMoves(const schema::Table& table, const Change& change) {
    for (const sync::FieldChange& fc : change.fields) {
      const schema::Field* field = table.FindField(fc.field);
      if (!field || field->transitions.empty()) continue;
      if (auto moved =
              schema::CheckTransition(*field, change.op == sync::Op::kCreate ? schema::Value() : fc.base, fc.value);
          !moved) {
        return Rejected(change, "invalid_transition", moved.error().message);
      }
    }
    return std::nullopt;
  }

  // The reception point `point` of a record (a case, a permanence: any table with the field) in
  // `territory`: one the centre declared there, or empty, or anything when the territory declares
  // none (docs/SERVER.md, "Territories"). Only the writes are checked: a point a record already
  // holds is kept (the callers check a point the change sets, or the record's point when it moves
  // the record). nullopt when it passes; the refusal's code:
  // unknown_reception_point. The territory is one the device sent, and its points are public
  // (GET /v1/whoami lists them): the reason names them.
  Result<std::optional<ChangeResult>> CheckReceptionPoint(const Change& change, const schema::Value& point,
                                                          const std::string& territory) {
    if (!point || point->empty()) return std::optional<ChangeResult>();
    auto declared = tx_.ReceptionPointsOf(territory);
    if (!declared) return declared.error();
    if (declared->empty() || std::find(declared->begin(), declared->end(), *point) != declared->end()) {
      return std::optional<ChangeResult>();
    }
    std::string choices;
    for (const std::string& p : *declared) choices += (choices.empty() ? "« " : ", « ") + p + " »";
    return std::optional(Rejected(change, "unknown_reception_point",
                                  "le point d'accueil « " + *point + " » n'est pas déclaré pour le territoire " +
                                      territory + " (points d'accueil déclarés : " + choices +
                                      ") : choisissez-en un, ou laissez le champ vide"));
  }

  // A case this device moves out of its own territories to `to`: a transfer. Refused when `to` is
  // not a declared territory (the device may not know the list yet); held for central staff when
  // the network reviews transfers — the territory keeps its value in `merged` and the field goes
  // to review like a field edited on two sides, so that staff approve (keep device) or refuse
  // (keep server) it with the settlement they already use. nullopt when the change goes on. The
  // refusal's code: unknown_territory.
  Result<std::optional<ChangeResult>> Transfer(const schema::Table& table, const Change& change,
                                               const StoredRecord& current, sync::MergeResult& merged,
                                               const std::string& to) {
    auto rule = tx_.RuleForTransfer(to);
    if (!rule) return rule.error();
    if (!rule->declared) {
      return std::optional(Rejected(change, "unknown_territory",
                                    "le territoire « " + to +
                                        " » n'est pas déclaré par le centre : choisissez un territoire "
                                        "déclaré (la liste arrive avec la prochaine synchronisation)"));
    }
    if (!rule->review) return std::optional<ChangeResult>();
    const int index = table.FieldIndex("territory");
    const size_t at = static_cast<size_t>(index);
    for (sync::FieldOutcome& out : merged.outcomes) {
      if (out.field != index || out.how == sync::Resolution::kForReview) continue;
      out.how = sync::Resolution::kForReview;
      merged.values[at] = current.record.values[at];
      const std::string name(table.fields[at].name);
      auto stamp = current.stamps.map().find(name);
      if (stamp == current.stamps.map().end()) {
        merged.stamps.erase(name);
      } else {
        merged.stamps[name] = stamp->second;
      }
    }
    merged.status = ChangeStatus::kReview;
    merged.changed = merged.values != current.record.values;
    return std::optional<ChangeResult>();
  }

  // Opens the conflict that holds `out`, a field of `change` kept for central review, on the record
  // `change` names, at `seq`.
  Status OpenReview(const schema::Table& table, const Change& change, const std::optional<std::string>& territory,
                    const std::string& server_device, const sync::FieldOutcome& out, int64_t seq) {
    Conflict c;
    c.table = std::string(table.name);
    c.record_id = change.record_id;
    c.field = std::string(table.fields[static_cast<size_t>(out.field)].name);
    c.territory = territory;
    c.base_value = out.base;
    c.server_value = out.server;
    c.server_device = server_device;
    c.server_hlc = out.server_hlc;
    c.device_value = out.device;
    c.device = device_.name;
    c.device_hlc = change.hlc;
    c.change_id = change.change_id;
    c.opened_seq = seq;
    c.opened_at = now_;
    return tx_.OpenConflict(c);
  }

  // Whether the device held `record_id` when it wrote a change on it, though the record is now
  // outside its territories: the record left one of them after the last change the device confirmed
  // it pulled (Device::pulled_to), so the device had not learnt of the move. Its work was written
  // while it legitimately held the record (docs/PROTOCOL.md, "Work on a case that left the device's
  // territories").
  Result<bool> HeldWhenWritten(const std::string& record_id) {
    auto exits = tx_.ExitsAfter(record_id, device_.pulled_to);
    if (!exits) return exits.error();
    return std::any_of(exits->begin(), exits->end(), [&](const std::string& t) { return device_.InScope(t); });
  }

  // An update of `absorbed`, a case central staff merged into another since the device wrote: its
  // fields go to the surviving case through the rules of Update, as if written there; when the
  // survivor is outside the device's territories, each field that differs goes to central review
  // instead, named nowhere in the answer. The absorbed case takes a new version, values unchanged,
  // so that the device pulls it back as the centre holds it. The answer is never `applied`: the
  // device's row is not the record that took the edit.
  Result<ChangeResult> Redirect(const schema::Table& table, const Change& change, const sync::ChangeFacts& facts,
                                const StoredRecord& absorbed) {
    const int merged_into = table.FieldIndex("merged_into");
    std::optional<StoredRecord> survivor = absorbed;
    for (int hops = 0; survivor->record.values[static_cast<size_t>(merged_into)]; ++hops) {
      const std::string next = *survivor->record.values[static_cast<size_t>(merged_into)];
      if (hops == kMaxMergeRedirects) return MakeError(ErrorCode::kInternal, "redirect chain too long from " + next);
      auto found = tx_.GetRecord(table, next);
      if (!found) return found.error();
      if (!*found) return MakeError(ErrorCode::kInternal, "merged into a missing case " + next);
      survivor = std::move(*found);
    }
    Change moved = change;
    moved.record_id = survivor->record.id;
    std::erase_if(moved.fields, [](const sync::FieldChange& f) { return f.field == "merged_into"; });
    ChangeResult r;
    const bool visible = device_.InScope(survivor->territory.value_or(""));
    if (visible) {
      auto applied = Update(table, moved, facts, survivor);
      if (!applied) return applied.error();
      r = std::move(*applied);
    } else {
      r.change_id = change.change_id;
      r.status = ChangeStatus::kMerged;
    }
    if (r.status == ChangeStatus::kRejected) return r;
    auto seq = tx_.NextSeq();
    if (!seq) return seq.error();
    if (!visible) {
      for (const sync::FieldChange& fc : moved.fields) {
        sync::FieldOutcome out;
        out.field = table.FieldIndex(fc.field);
        if (out.field < 0) continue;  // the decoder refused unknown fields
        out.server = survivor->record.values[static_cast<size_t>(out.field)];
        if (out.server == fc.value) continue;
        out.base = fc.base;
        out.device = fc.value;
        auto stamp = survivor->stamps.map().find(fc.field);
        if (stamp != survivor->stamps.map().end()) out.server_hlc = stamp->second;
        RELAIS_TRY(OpenReview(table, moved, survivor->territory, survivor->last_device, out, *seq));
        r.review_fields.push_back(fc.field);
      }
      if (!r.review_fields.empty()) r.status = ChangeStatus::kReview;
    }
    if (r.status == ChangeStatus::kApplied) r.status = ChangeStatus::kMerged;
    r.change_id = change.change_id;
    r.version = *seq;
    // The absorbed case's history notes the redirect: a version by this device at its stamp, values
    // unchanged; the survivor's history holds the change itself, or, when it went to review, the
    // conflicts do and this row keeps the change id (a replay of the change finds its outcome here).
    StoredRecord again = absorbed;
    again.record.version = *seq;
    again.history_seq = *seq;
    again.echo_device.reset();
    again.last_device = device_.name;
    RELAIS_TRY(tx_.PutRecord(table, again));
    RELAIS_TRY(AppendHistory(table, change, again, absorbed.history_seq, std::nullopt, /*with_change_id=*/!visible));
    return r;
  }

  // A new case that looks like a person the server already holds (`other`, the earliest opened
  // match): a question for central staff, not a refusal. One conflict, at the create's sequence.
  Status FlagDuplicate(const Change& change, const StoredRecord& created, const std::string& other) {
    Conflict c;
    c.kind = "duplicate";
    c.table = std::string(schema::CasesTable().name);
    c.record_id = created.record.id;
    c.other_id = other;
    c.territory = created.territory;
    c.device = device_.name;
    c.device_hlc = change.hlc;
    c.change_id = change.change_id;
    c.opened_seq = created.record.version;
    c.opened_at = now_;
    return tx_.OpenConflict(c);
  }

  // `prev_seq`: the record's history_seq before the change.
  // `with_change_id`: false for a second row about the same change (a change id names one row).
  Status AppendHistory(const schema::Table& table, const Change& change, const StoredRecord& stored,
                       std::optional<int64_t> prev_seq, std::optional<std::string> lost, bool with_change_id = true) {
    HistoryEntry h;
    h.seq = stored.record.version;
    h.table = std::string(table.name);
    h.record_id = stored.record.id;
    h.device = device_.name;
    h.hlc = change.hlc;
    if (with_change_id) h.change_id = change.change_id;
    h.at = now_;
    h.snapshot = sync::EncodeRecordValues(table, stored.record.values);
    h.lost = std::move(lost);
    h.prev_seq = prev_seq;
    return tx_.AppendHistory(h);
  }

  CentralTx& tx_;
  const Device& device_;
  std::string now_;
  int64_t last_seq_;
  RecoveryClaims claims_;
  std::unordered_map<std::string, std::vector<const RecoveryClaim*>> claim_of_;  // by record id, unused
  int64_t epoch_ms_ = 0;                                                         // when the epoch of the claims began
  bool recovering_ = false;  // Update is merging a change pushed back after a restore
};

}  // namespace

std::optional<std::string> CaseIdentityKey(const std::vector<schema::Value>& values) {
  const schema::Table& cases = schema::CasesTable();
  const schema::Value& birth_date = ValueOf(cases, values, "birth_date");
  if (!birth_date) return std::nullopt;
  return FoldForMatch(ValueOf(cases, values, "last_name").value_or("")) + "|" +
         FoldForMatch(ValueOf(cases, values, "first_name").value_or("")) + "|" + *birth_date;
}

std::string CentralStamp(int64_t now_ms, const sync::FieldStamps& stamps) {
  sync::Hlc stamp{now_ms, 0, "central"};
  for (const auto& [field, text] : stamps) {
    auto seen = sync::Hlc::Parse(text);
    if (!seen) continue;
    // Later than every write on the record, whatever the clocks said: the settlement comes after
    // the writes it settles.
    if (seen->ms > stamp.ms || (seen->ms == stamp.ms && seen->counter >= stamp.counter)) {
      stamp.ms = seen->ms;
      stamp.counter = seen->counter + 1;
    }
  }
  return stamp.ToString();
}

Status MoveScope(CentralTx& tx, const schema::Table& table, const std::string& record_id,
                 const std::string& old_territory, const std::string& new_territory) {
  auto exit_seq = tx.NextSeq();
  if (!exit_seq) return exit_seq.error();
  RELAIS_TRY(tx.AddScopeExit(*exit_seq, std::string(table.name), record_id, old_territory, new_territory));
  if (&table != &schema::CasesTable()) return OkStatus();
  const std::string& case_id = record_id;
  // Every record that follows the case (its follow-ups, its referrals) moves with it.
  for (const schema::Table& child_table : schema::Tables()) {
    if (child_table.scope != schema::Scope::kParentCase) continue;
    auto children = tx.ChildrenOfCase(child_table, case_id);
    if (!children) return children.error();
    for (const std::string& id : *children) {
      auto version = tx.NextSeq();
      if (!version) return version.error();
      RELAIS_TRY(tx.MoveRecord(child_table, id, new_territory, *version));
      auto child_exit = tx.NextSeq();
      if (!child_exit) return child_exit.error();
      RELAIS_TRY(tx.AddScopeExit(*child_exit, std::string(child_table.name), id, old_territory, new_territory));
    }
  }
  return OkStatus();
}

Result<PushReply> PushBatch(CentralTx& tx, const Device& device, const DecodedPush& push, int64_t now_ms) {
  const sync::PushRequest& request = push.request();
  auto stored = tx.FindBatch(device.id, request.batch_key);
  if (!stored) return stored.error();
  if (*stored) {
    // A batch stored before hashes had a version keeps its first hash (sync::PushRequestHashV1).
    const std::string& kept = (*stored)->request_hash;
    const bool same = kept == push.hash() ||
                      (kept.rfind(sync::kPushRequestHashPrefix, 0) != 0 && kept == sync::PushRequestHashV1(request));
    if (!same) {
      return MakeError(ErrorCode::kConflict, "la clé de lot " + request.batch_key +
                                                 " a déjà servi pour d'autres modifications : un nouveau lot prend "
                                                 "une nouvelle clé");
    }
    auto response = sync::DecodePushResponse((*stored)->response_json);
    if (!response) return MakeError(ErrorCode::kInternal, "stored answer unreadable: " + response.error().message);
    return PushReply{std::move(*response), (*stored)->response_json, true};
  }

  const std::string now = IsoTimestamp(now_ms);
  auto claims = tx.RecoveryClaimsOf(device.name);
  if (!claims) return claims.error();
  ChangeApplier applier(tx, device, now, tx.LastSeq(), std::move(*claims));
  PushReply reply;
  reply.response.batch_key = request.batch_key;
  reply.response.results.reserve(request.changes.size());
  sync::Hlc floor;  // the greatest stamp of the batch so far
  for (size_t i = 0; i < request.changes.size(); ++i) {
    const Change& change = request.changes[i];
    auto stamp = sync::Hlc::Parse(change.hlc);
    if (!stamp) return MakeError(ErrorCode::kInternal, "unchecked stamp " + change.hlc);
    Result<sync::ChangeResult> result = sync::ChangeResult{};
    if (stamp->ms > now_ms + kMaxFutureSkewMs) {
      sync::Hlc clamped{std::max(now_ms, floor.ms), 0, stamp->node};
      if (clamped.ms == floor.ms) clamped.counter = floor.counter + 1;
      Change copy = change;
      copy.hlc = clamped.ToString();
      ++reply.clamped;
      floor = clamped;
      result = applier.Apply(copy, push.facts(i), push.digest(i));
    } else {
      if (*stamp > floor) floor = *stamp;
      result = applier.Apply(change, push.facts(i), push.digest(i));
    }
    if (!result) return result.error();
    reply.response.results.push_back(std::move(*result));
  }
  reply.json = sync::EncodePushResponse(reply.response);
  RELAIS_TRY(tx.SaveBatch(device.id, request.batch_key, StoredBatch{push.hash(), reply.json}, now));
  return reply;
}

Error ChangeIdReused(std::string_view change_id) {
  std::string message(kReusedPrefix);
  message.append(change_id).append(kReusedText);
  return MakeError(ErrorCode::kConflict, std::move(message));
}

std::string ReusedChangeId(const Error& error) {
  if (error.code != ErrorCode::kConflict || error.message.rfind(kReusedPrefix, 0) != 0 ||
      error.message.size() < kReusedPrefix.size() + kReusedText.size()) {
    return {};
  }
  return error.message.substr(kReusedPrefix.size(), error.message.size() - kReusedPrefix.size() - kReusedText.size());
}

}  // namespace relais::server
