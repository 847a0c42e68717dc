// relais rejected: the changes the centre refused, kept on this device until a person acts on them —
// read them whole, export them, send one again after fixing its cause, or give one up with a
// reason (kept, with that reason, in discarded_changes: nothing written here is silently lost).
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "client/cli/commands.h"
#include "client/cli/conflict_text.h"
#include "client/cli/output.h"
#include "client/replica_port.h"
#include "sync/hlc.h"
#include "sync/outbox.h"

namespace relais::cli {

namespace {

using nlohmann::ordered_json;

// One refused change, still in the outbox (seq > 0) or discarded.
struct Refused {
  int64_t seq = 0;
  std::string change_id, table, record_id, op, fields, hlc;
  int64_t base_version = 0;
  std::string reason, code, case_id, case_name;
  std::string discard_reason, discarded_at;  // discarded ones only
};

Result<std::vector<Refused>> LoadRefused(client::Replica& replica, bool discarded_too) {
  const std::string sql =
      "SELECT seq, change_id, tbl, record_id, op, fields, base_version, hlc, "
      "coalesce(reject_reason, ''), coalesce(reject_code, ''), coalesce(" +
      client::OutboxCaseIdSql() + ", ''), coalesce(" + client::OutboxCaseNameSql() +
      ", ''), '', '' FROM outbox WHERE state = 'rejected'" +
      (discarded_too ? " UNION ALL SELECT 0, change_id, tbl, record_id, op, fields, base_version, "
                       "hlc, coalesce(reject_reason, ''), coalesce(reject_code, ''), "
                       "coalesce(case_id, ''), coalesce(case_name, ''), discard_reason, "
                       "discarded_at FROM discarded_changes"
                     : "");
  auto stmt = replica.db().Prepare(sql);
  if (!stmt) return stmt.error();
  std::vector<Refused> out;
  while (true) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) break;
    Refused r;
    r.seq = stmt->Int(0);
    r.change_id = stmt->Text(1);
    r.table = stmt->Text(2);
    r.record_id = stmt->Text(3);
    r.op = stmt->Text(4);
    r.fields = stmt->Text(5);
    r.base_version = stmt->Int(6);
    r.hlc = stmt->Text(7);
    r.reason = stmt->Text(8);
    r.code = stmt->Text(9);
    r.case_id = stmt->Text(10);
    r.case_name = stmt->Text(11);
    r.discard_reason = stmt->Text(12);
    r.discarded_at = stmt->Text(13);
    out.push_back(std::move(r));
  }
  // Those still refused first, in the order they were written; then those given up, oldest first.
  std::stable_sort(out.begin(), out.end(), [](const Refused& a, const Refused& b) {
    if ((a.seq == 0) != (b.seq == 0)) return a.seq != 0;
    return a.seq != 0 ? a.seq < b.seq : a.discarded_at < b.discarded_at;
  });
  return out;
}

// The refused change `id` names: its number (as `list` shows it) or its change id, or a prefix of
// the change id that only it has. kNotFound otherwise, kUsage when the prefix is ambiguous.
Result<Refused> FindRefused(client::Replica& replica, const std::string& id) {
  auto all = LoadRefused(replica, false);
  if (!all) return all.error();
  const bool number = !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); });
  std::vector<const Refused*> found;
  for (const Refused& r : *all) {
    if (number ? std::to_string(r.seq) == id : r.change_id.rfind(id, 0) == 0) found.push_back(&r);
  }
  if (found.empty() || id.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "aucune modification refusée n° " + id + " sur cette base (voir relais rejected list)");
  }
  if (found.size() > 1) {
    return MakeError(ErrorCode::kUsage, "« " + id +
                                            " » désigne plusieurs modifications refusées : donnez le n° "
                                            "ou l'identifiant entier (voir relais rejected list)");
  }
  return *found.front();
}

// The change's fields, in the table's order.
Result<std::vector<sync::FieldChange>> FieldsOf(const Refused& r) {
  auto fields = sync::DecodeOutboxFields(r.op == "create" ? sync::Op::kCreate : sync::Op::kUpdate, r.fields);
  if (!fields) return fields.error();
  if (const schema::Table* table = schema::FindTable(r.table)) {
    std::stable_sort(fields->begin(), fields->end(), [table](const sync::FieldChange& a, const sync::FieldChange& b) {
      return table->FieldIndex(a.field) < table->FieldIndex(b.field);
    });
  }
  return fields;
}

std::string CaseText(const Refused& r) {
  if (r.case_id.empty()) return "-";
  return (r.case_name.empty() ? std::string("dossier") : r.case_name) + " (" + r.case_id + ")";
}

// "ajout d'un suivi", "modification du dossier : téléphone, statut".
std::string WhatText(const Refused& r, const std::vector<sync::FieldChange>& fields) {
  const bool create = r.op == "create";
  std::string what;
  if (r.table == "cases")
    what = create ? "création du dossier" : "modification du dossier";
  else if (r.table == "followups")
    what = create ? "ajout d'un suivi" : "modification d'un suivi";
  else if (r.table == "contacts")
    what = create ? "création du contact" : "modification du contact";
  else if (r.table == "referrals")
    what = create ? "orientation vers un partenaire" : "suite d'une orientation";
  else
    what = (create ? "création d'une fiche " : "modification d'une fiche ") + r.table;
  if (!create && !fields.empty()) {
    what += " :";
    for (size_t i = 0; i < fields.size(); ++i) what += (i ? ", " : " ") + FieldWord(r.table, fields[i].field);
  }
  return what;
}

std::string WrittenAt(const Refused& r) {
  auto stamp = sync::Hlc::Parse(r.hlc);
  return stamp ? IsoTimestamp(stamp->ms) : r.hlc;
}

ordered_json ValueJson(const schema::Value& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }
ordered_json TextOrNull(const std::string& t) { return t.empty() ? ordered_json(nullptr) : ordered_json(t); }

Result<ordered_json> RefusedJson(const Refused& r) {
  auto fields = FieldsOf(r);
  if (!fields) return fields.error();
  const schema::Table* table = schema::FindTable(r.table);
  ordered_json values = ordered_json::array();
  for (const sync::FieldChange& f : *fields) {
    const schema::Field* field = table ? table->FindField(f.field) : nullptr;
    ordered_json v = {
        {"field", f.field}, {"label", field ? std::string(field->label) : f.field}, {"value", ValueJson(f.value)}};
    if (r.op != "create") v["base"] = ValueJson(f.base);
    values.push_back(std::move(v));
  }
  return ordered_json{{"id", r.seq > 0 ? ordered_json(r.seq) : ordered_json(nullptr)},
                      {"state", r.seq > 0 ? "rejected" : "discarded"},
                      {"change", r.change_id},
                      {"table", r.table},
                      {"record", r.record_id},
                      {"op", r.op},
                      {"case", TextOrNull(r.case_id)},
                      {"case_name", TextOrNull(r.case_name)},
                      {"what", WhatText(r, *fields)},
                      {"reason", r.reason},
                      {"code", TextOrNull(r.code)},
                      {"written_at", WrittenAt(r)},
                      {"hlc", r.hlc},
                      {"base_version", r.base_version},
                      {"fields", std::move(values)},
                      {"discard_reason", TextOrNull(r.discard_reason)},
                      {"discarded_at", TextOrNull(r.discarded_at)}};
}

Status List(Context& ctx, bool all) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto refused = LoadRefused(**replica, all);
  if (!refused) return refused.error();
  if (ctx.json) {
    ordered_json out = ordered_json::array();
    for (const Refused& r : *refused) {
      auto j = RefusedJson(r);
      if (!j) return j.error();
      out.push_back(std::move(*j));
    }
    std::cout << out.dump(2) << "\n";
    return OkStatus();
  }
  if (refused->empty()) {
    std::cout << (all ? "Aucune modification refusée ni abandonnée sur cette base.\n"
                      : "Aucune modification refusée par le centre sur cette base.\n");
    return OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  size_t waiting = 0;
  for (const Refused& r : *refused) {
    auto fields = FieldsOf(r);
    if (!fields) return fields.error();
    waiting += r.seq > 0 ? 1 : 0;
    rows.push_back({r.seq > 0 ? std::to_string(r.seq) : "-", CaseText(r), WhatText(r, *fields), WrittenAt(r),
                    r.seq > 0 ? r.reason : "abandonnée le " + r.discarded_at + " : " + r.discard_reason});
  }
  std::cout << FormatTable({"N°", "Dossier", "Modification", "Écrite le", "Motif du refus"}, rows);
  std::cout << waiting
            << " modification(s) refusée(s), conservée(s) sur cet appareil. Détail : relais rejected show N ; "
            << "après correction : relais rejected retry N ; pour y renoncer : relais rejected discard N --reason "
               "« pourquoi ».\n";
  return OkStatus();
}

Status Show(Context& ctx, const std::string& id) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto r = FindRefused(**replica, id);
  if (!r) return r.error();
  auto j = RefusedJson(*r);
  if (!j) return j.error();
  if (ctx.json) {
    std::cout << j->dump(2) << "\n";
    return OkStatus();
  }
  std::cout << "Modification refusée n° " << r->seq << " (" << r->change_id << ")\n"
            << "  dossier : " << CaseText(*r) << "\n"
            << "  modification : " << (*j)["what"].get<std::string>() << " (fiche " << r->record_id << ")\n"
            << "  écrite le : " << WrittenAt(*r) << "\n"
            << "  motif du refus : " << r->reason;
  if (!r->code.empty()) std::cout << " (code " << r->code << ")";
  std::cout << "\n  valeurs :\n";
  const schema::Table* table = schema::FindTable(r->table);
  auto fields = FieldsOf(*r);
  if (!fields) return fields.error();
  for (const sync::FieldChange& f : *fields) {
    const schema::Field* field = table ? table->FindField(f.field) : nullptr;
    std::cout << "    " << FieldWord(r->table, f.field) << " : « " << DisplayValue(field, f.value) << " »";
    if (r->op != "create") std::cout << " (avant : « " << DisplayValue(field, f.base) << " »)";
    std::cout << "\n";
  }
  std::cout << "Après correction : relais rejected retry " << r->seq << " ; pour y renoncer : relais rejected discard "
            << r->seq << " --reason « pourquoi ».\n";
  return OkStatus();
}

Status Export(Context& ctx, const std::string& path) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto refused = LoadRefused(**replica, true);
  if (!refused) return refused.error();
  ordered_json out = ordered_json::array();
  for (const Refused& r : *refused) {
    auto j = RefusedJson(r);
    if (!j) return j.error();
    out.push_back(std::move(*j));
  }
  if (path.empty() || path == "-") {
    std::cout << out.dump(2) << "\n";
    return OkStatus();
  }
  // Personal data: the file is the user's alone, as the replica is.
  const mode_t old_mask = ::umask(077);
  std::ofstream file(path, std::ios::trunc);
  ::umask(old_mask);
  if (!file) return MakeError(ErrorCode::kUsage, "--output : impossible d'écrire " + path);
  ::chmod(path.c_str(), 0600);
  file << out.dump(2) << "\n";
  file.close();
  if (!file) return MakeError(ErrorCode::kIo, "écriture de " + path + " interrompue");
  PrintNote(ctx, std::to_string(out.size()) + " modification(s) refusée(s) ou abandonnée(s) écrite(s) dans " + path +
                     " (fichier lisible par vous seul).");
  return OkStatus();
}

Status Retry(Context& ctx, const std::string& id) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto r = FindRefused(**replica, id);
  if (!r) return r.error();
  auto tx = sqlite::Transaction::Begin((*replica)->db());
  if (!tx) return tx.error();
  // An update goes again on the version of the record this replica holds now: the centre merges it
  // with what changed since by the fields' rules.
  std::string base = "base_version";
  if (r->op == "update" && schema::FindTable(r->table)) {
    base = "coalesce((SELECT version FROM " + r->table + " WHERE id = outbox.record_id AND version > 0), base_version)";
  }
  auto stmt = (*replica)->db().Prepare(
      "UPDATE outbox SET state = 'pending', batch_key = NULL, reject_reason = NULL, "
      "reject_code = NULL, base_version = " +
      base + " WHERE seq = ?1 AND state = 'rejected'");
  if (!stmt) return stmt.error();
  stmt->Bind(1, r->seq);
  RELAIS_TRY(stmt->Run());
  RELAIS_TRY(tx->Commit());
  if (ctx.json) {
    std::cout << ordered_json{{"id", r->seq}, {"change", r->change_id}, {"state", "pending"}}.dump() << "\n";
    return OkStatus();
  }
  std::cout << "Modification n° " << r->seq << " (" << CaseText(*r)
            << ") remise dans la file d'envoi : elle partira à la prochaine synchronisation (relais sync).\n";
  return OkStatus();
}

// Gives a refused change up: kept in discarded_changes with `reason`, out of the outbox, and the
// local row brought back to what the centre holds as far as this replica knows (an update's fields
// to their values before it, unless another local change touches them; a create never accepted
// goes, unless follow-ups of this replica still hang on it).
Status Discard(Context& ctx, const std::string& id, const std::string& reason) {
  const bool blank = std::all_of(reason.begin(), reason.end(), [](unsigned char c) { return std::isspace(c); });
  if (blank) return MakeError(ErrorCode::kUsage, "--reason : dites pourquoi vous renoncez à cette modification");
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  auto r = FindRefused(**replica, id);
  if (!r) return r.error();
  client::Replica& rep = **replica;
  const schema::Table* table = schema::FindTable(r->table);
  auto fields = FieldsOf(*r);
  if (!fields) return fields.error();
  auto tx = sqlite::Transaction::Begin(rep.db());
  if (!tx) return tx.error();
  if (table && r->op == "create" && r->table == "cases") {
    auto children = rep.db().Prepare("SELECT count(*) FROM followups WHERE case_id = ?1");
    if (!children) return children.error();
    children->Bind(1, r->record_id);
    auto row = children->Step();
    if (!row) return row.error();
    if (children->Int(0) > 0) {
      return MakeError(ErrorCode::kUsage, "le dossier " + CaseText(*r) +
                                              " a encore des suivis sur cette base : renoncez d'abord à leurs ajouts");
    }
  }
  auto keep = rep.db().Prepare(
      "INSERT INTO discarded_changes(change_id, tbl, record_id, op, fields, base_version, hlc, reject_reason, "
      "reject_code, case_id, case_name, discard_reason, discarded_at) SELECT change_id, tbl, record_id, op, fields, "
      "base_version, hlc, reject_reason, reject_code, " +
      client::OutboxCaseIdSql() + ", " + client::OutboxCaseNameSql() + ", ?2, ?3 FROM outbox WHERE seq = ?1");
  if (!keep) return keep.error();
  keep->Bind(1, r->seq).Bind(2, reason).Bind(3, IsoTimestamp(ctx.clock->NowMs()));
  RELAIS_TRY(keep->Run());
  auto drop = rep.db().Prepare("DELETE FROM outbox WHERE seq = ?1");
  if (!drop) return drop.error();
  drop->Bind(1, r->seq);
  RELAIS_TRY(drop->Run());
  if (table && r->op == "create") {
    auto del = rep.db().Prepare("DELETE FROM " + std::string(table->name) + " WHERE id = ?1 AND version = 0");
    if (!del) return del.error();
    del->Bind(1, r->record_id);
    RELAIS_TRY(del->Run());
  } else if (table) {
    for (const sync::FieldChange& f : *fields) {
      const int index = table->FieldIndex(f.field);
      if (index < 0) continue;
      // Only fields no other local change of the record touches.
      auto undo = rep.db().Prepare("UPDATE " + std::string(table->name) + " SET " + f.field +
                                   " = ?2 WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = ?1 "
                                   "AND json_valid(o.fields) AND json_type(o.fields, '$.' || ?3) IS NOT NULL)");
      if (!undo) return undo.error();
      undo->Bind(1, r->record_id).Bind(2, table->fields[static_cast<size_t>(index)], f.base).Bind(3, f.field);
      RELAIS_TRY(undo->Run());
    }
  }
  RELAIS_TRY(tx->Commit());
  if (ctx.json) {
    std::cout << ordered_json{{"id", r->seq}, {"change", r->change_id}, {"state", "discarded"}}.dump() << "\n";
    return OkStatus();
  }
  std::cout << "Modification n° " << r->seq << " (" << CaseText(*r)
            << ") abandonnée ; elle reste lisible, avec votre motif, dans relais rejected list --all et relais "
               "rejected export.\n";
  return OkStatus();
}

}  // namespace

void RegisterRejectedCommands(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand(
      "rejected",
      "Modifications refusées par le centre, gardées sur cet appareil : les lire, les renvoyer, y renoncer");
  cmd->require_subcommand(0, 1);
  auto all = std::make_shared<bool>(false);
  CLI::App* list = cmd->add_subcommand("list", "Lister les modifications refusées (défaut)");
  list->add_flag("--all", *all, "Aussi celles abandonnées, avec leur motif");
  list->callback([&ctx, all] { ctx.Finish(List(ctx, *all)); });
  auto id = std::make_shared<std::string>();
  CLI::App* show = cmd->add_subcommand("show", "Afficher une modification refusée avec toutes ses valeurs");
  show->add_option("ID", *id, "N° (relais rejected list) ou identifiant de la modification")->required();
  show->callback([&ctx, id] { ctx.Finish(Show(ctx, *id)); });
  auto output = std::make_shared<std::string>();
  CLI::App* exp = cmd->add_subcommand("export", "Écrire en JSON les modifications refusées et abandonnées");
  exp->add_option("--output", *output, "Fichier à écrire (lisible par vous seul) ; défaut : la sortie standard");
  exp->callback([&ctx, output] { ctx.Finish(Export(ctx, *output)); });
  CLI::App* retry = cmd->add_subcommand("retry", "Remettre une modification refusée dans la file d'envoi");
  retry->add_option("ID", *id, "N° ou identifiant de la modification")->required();
  retry->callback([&ctx, id] { ctx.Finish(Retry(ctx, *id)); });
  auto reason = std::make_shared<std::string>();
  CLI::App* discard =
      cmd->add_subcommand("discard", "Renoncer à une modification refusée (gardée avec le motif, jamais effacée)");
  discard->add_option("ID", *id, "N° ou identifiant de la modification")->required();
  discard->add_option("--reason", *reason, "Pourquoi vous y renoncez")->required();
  discard->callback([&ctx, id, reason] { ctx.Finish(Discard(ctx, *id, *reason)); });
  cmd->callback([&ctx, cmd, all] {
    if (cmd->get_subcommands().empty()) ctx.Finish(List(ctx, *all));
  });
}

}  // namespace relais::cli
