// Randomised convergence through the real binaries: several devices work offline (creates, edits of
// the same and of different fields, follow-ups, visits of the register, referrals to partners and
// their answers, closes, territory moves
// while others hold pending work on the case), sync in random order, some syncs cut halfway by
// SIGKILL, central staff merge duplicates while devices hold pending edits on them, the centre is
// restored from a backup taken earlier (cases moved and edited in the history it lost); then central
// staff settle every open conflict and every device syncs twice. Then every replica equals the
// server's view of its scope, no work written on a case the device held is refused, and every value
// ever written is current, in the history or in a conflict (of its case or of the case it was merged
// into): nothing lost.
//
// CI runs a fixed seed. Long mode: RELAIS_CONVERGENCE_ROUNDS=3000 RELAIS_CONVERGENCE_SEED=N
// ./build/tests/test_e2e "[convergence]"
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::vector<std::string> kTerritories = {"hautes-alpes-gap", "corse-bastia"};

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::stoll(v) : fallback;
}

// Rows of a query as text, one string per row, for comparing two databases.
struct DeviceState {
  std::string name;
  std::string db;
  std::vector<std::string> territories;
  std::string clock;  // libfaketime's offset of its wall clock ("-30d"), empty when on time
};

struct Written {
  std::string device;
  std::string record;
  std::string field;
  std::string value;
};

class World {
 public:
  World(const TempDir& dir, uint64_t seed) : dir_(dir), central_(dir.path()), rng_(seed) {
    central_.Start();
    AddDevice("d0", {kTerritories[0]});
    AddDevice("d1", {kTerritories[0]});
    AddDevice("d2", {kTerritories[1]});
    AddDevice("d3", {kTerritories[0], kTerritories[1]});
    AddDevice("d4", {kTerritories[1]});
    // Laptops whose date is a month off, ahead and behind.
    AddDevice("d5", {kTerritories[0]}, "+30d");
    AddDevice("d6", {kTerritories[0], kTerritories[1]}, "-30d");
  }

  // `relais` on `d`'s replica, with `d`'s clock: libfaketime preloaded through env, which execs
  // relais (the faketime program forks it, and a cut sync's SIGKILL would miss it).
  std::vector<std::string> RelaisArgv(const DeviceState& d, std::vector<std::string> args) const {
    std::vector<std::string> argv = {RelaisBinary(), "--db", d.db};
    if (!d.clock.empty()) {
      argv.insert(argv.begin(), {"/usr/bin/env", kFaketimePreload, "FAKETIME=" + d.clock});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  RunResult Relais(const DeviceState& d, std::vector<std::string> args) { return Run(RelaisArgv(d, std::move(args))); }

  void Round() {
    DeviceState& d = devices_[Pick(devices_.size())];
    int op = static_cast<int>(Pick(100));
    if (op < 20)
      Create(d);
    else if (op < 55)
      Edit(d);
    else if (op < 65)
      Followup(d);
    else if (op < 70)
      Close(d);
    else if (op < 75)
      Move(d);
    else if (op < 78)
      MergeNow();
    else if (op < 90)
      Sync(d, false);
    else
      Sync(d, true);
  }

  // `argv` of relais-central, naming the centre's store.
  std::vector<std::string> WithStore(std::vector<std::string> argv) const {
    for (const std::string& a : central_.StoreArgs()) argv.push_back(a);
    return argv;
  }

  // The text at `path` in the JSON column `column`, in the store's SQL.
  static std::string JsonAt(const std::string& column, const std::vector<std::string>& path) {
    std::string joined;
    for (const std::string& p : path) joined += (joined.empty() ? "" : relais::testing::OnPostgres() ? "," : ".") + p;
    if (relais::testing::OnPostgres()) return "(" + column + "::jsonb #>> '{" + joined + "}')";
    return "json_extract(" + column + ", '$." + joined + "')";
  }

  void SettleEverything() {
    RunResult list = Run(WithStore({CentralBinary(), "conflicts", "list", "--status", "open", "--json"}));
    INFO(list.err);
    REQUIRE(list.exit_code == 0);
    for (const json& c : json::parse(list.out)) {
      std::string id = std::to_string(c["id"].get<int64_t>());
      std::vector<std::string> argv = {CentralBinary(), "conflicts"};
      if (c["kind"] == "duplicate") {
        argv.insert(argv.end(), {Pick(2) ? "merge" : "dismiss", id});
      } else {
        argv.insert(argv.end(), {"resolve", id, "--keep", Pick(2) ? "device" : "server"});
      }
      RunResult r = Run(WithStore(argv));
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      ++settled_;
    }
  }

  // Central staff merge one open duplicate now, whatever the devices hold pending on it.
  void MergeNow() {
    RunResult list = Run(WithStore({CentralBinary(), "conflicts", "list", "--status", "open", "--json"}));
    INFO(list.err);
    REQUIRE(list.exit_code == 0);
    for (const json& c : json::parse(list.out)) {
      if (c["kind"] != "duplicate") continue;
      if (Run(WithStore({CentralBinary(), "conflicts", "merge", std::to_string(c["id"].get<int64_t>())})).exit_code ==
          0)
        ++settled_;
      return;
    }
  }

  void SyncAllTwice() {
    for (int pass = 0; pass < 2; ++pass) {
      for (DeviceState& d : devices_) {
        ForgetReplaced(d);
        behind_.erase(d.name);
        RunResult r = Relais(d, {"sync", "--json"});
        INFO(d.name << ": " << r.err);
        REQUIRE(r.exit_code == 0);
      }
    }
  }

  // Every replica holds exactly the server's view of its scope: same ids, versions and values.
  void CheckConverged() {
    for (const DeviceState& d : devices_) {
      std::string scope;
      for (const auto& t : d.territories) scope += (scope.empty() ? "'" : ",'") + t + "'";
      const std::string case_cols =
          "id, version, last_name, first_name, birth_date, phone, email, status, territory, closed_on, notes, "
          "merged_into";
      INFO("device " << d.name);
      const std::string in_scope = " WHERE territory IN (" + scope + ") ORDER BY id";
      CHECK(SqliteRows(d.db, "SELECT " + case_cols + " FROM cases ORDER BY id") ==
            central_.Rows(std::string("SELECT ").append(case_cols).append(" FROM cases").append(in_scope)));
      CHECK(SqliteRows(d.db, "SELECT id, version, case_id, kind, text FROM followups ORDER BY id") ==
            central_.Rows("SELECT id, version, case_id, kind, text FROM followups" + in_scope));
      CHECK(SqliteRows(d.db, "SELECT id, version, territory, date, reasons, note FROM visits ORDER BY id") ==
            central_.Rows("SELECT id, version, territory, date, reasons, note FROM visits" + in_scope));
      CHECK(SqliteRows(d.db, "SELECT id, version, case_id, status, reason FROM referrals ORDER BY id") ==
            central_.Rows("SELECT id, version, case_id, status, reason FROM referrals" + in_scope));
      CHECK(SqliteRows(d.db, "SELECT id, version, organisation, phone FROM contacts ORDER BY id") ==
            central_.Rows("SELECT id, version, organisation, phone FROM contacts ORDER BY id"));
      CHECK(SqliteRows(d.db, "SELECT count(*) FROM outbox WHERE state = 'pending'") == std::vector<std::string>{"0"});
      // Every change was written on a case the device held: accepted, though the case moved or was
      // merged away meanwhile.
      CHECK(
          SqliteRows(d.db, "SELECT tbl || ' ' || op || ' : ' || reject_reason FROM outbox WHERE state = 'rejected'") ==
          std::vector<std::string>{});
    }
  }

  // Every value ever written is somewhere a person can find it.
  void CheckNothingLost() {
    for (size_t i = 0; i < written_.size(); ++i) {
      if (forgotten_.count(i)) continue;
      const Written& w = written_[i];
      const std::string v = Quote(w.value);
      // The case written on, and the cases it was merged into (an edit goes to the survivor).
      std::string family = "'" + w.record + "'", hop = "'" + w.record + "'";
      for (int i = 0; i < 3; ++i) {
        hop.insert(0, "(SELECT merged_into FROM cases WHERE id = ").append(")");
        family.append(", ").append(hop);
      }
      std::string sql = "SELECT (SELECT count(*) FROM cases WHERE id IN (";
      sql.append(family).append(") AND ").append(w.field).append(" = ").append(v).append(")");
      sql.append(" + (SELECT count(*) FROM history WHERE record_id IN (").append(family).append(") AND (");
      sql.append(JsonAt("snapshot", {w.field})).append(" = ").append(v).append("   OR ");
      sql.append(JsonAt("lost", {w.field, "value"})).append(" = ").append(v).append("))");
      sql.append(" + (SELECT count(*) FROM conflicts WHERE record_id IN (").append(family);
      sql.append(") AND (device_value = ").append(v).append(" OR server_value = ").append(v).append("))");
      int64_t found = std::stoll(central_.Rows(sql).at(0));
      if (found == 0) {
        // Refused by the centre (e.g. the case left the device's scope first): kept on the device.
        const DeviceState& d = Device(w.device);
        found = std::stoll(SqliteRows(d.db, "SELECT count(*) FROM outbox WHERE state = 'rejected' AND record_id = '" +
                                                w.record + "' AND instr(fields, " + Quote(w.value) + ") > 0")
                               .at(0));
      }
      INFO("value " << w.value << " of " << w.field << " written by " << w.device << " on " << w.record);
      CHECK(found > 0);
    }
  }

  // A centre restored mid-run from a backup taken earlier, as its operator declares it
  // (`relais-central restore`), while devices hold pending work. What a device holds of what the
  // centre lost is pushed back at its next sync. A value written before the restore that its writer
  // no longer holds by then (in no row — pending edits are on top of their rows — and in no refused
  // change: replaced by a later edit of its own) may have lived only in the history the restore took
  // away: it is not looked for (tests/e2e/restore_test.cc checks change by change that nothing a
  // device holds is lost).
  void BackUpCentre() { central_.Backup(); }
  void RestoreCentre() {
    restored_at_ = written_.size();
    for (const DeviceState& d : devices_) {
      behind_.insert(d.name);
      ForgetReplaced(d);
    }
    central_.RestoreBackup(/*declare=*/true);
    central_.Start();
    ++restores_;
  }

  // The values `d` wrote before the restore and holds no more, while it has not synced since.
  void ForgetReplaced(const DeviceState& d) {
    if (!behind_.count(d.name)) return;
    for (size_t i = 0; i < restored_at_ && i < written_.size(); ++i) {
      const Written& w = written_[i];
      if (w.device != d.name) continue;
      const std::string sql = "SELECT (SELECT count(*) FROM cases WHERE id = '" + w.record + "' AND " + w.field +
                              " = " + Quote(w.value) +
                              ") + (SELECT count(*) FROM outbox WHERE state = 'rejected' AND record_id = '" + w.record +
                              "' AND instr(fields, " + Quote(w.value) + ") > 0)";
      if (std::stoll(SqliteRows(d.db, sql).at(0)) == 0) forgotten_.insert(i);
    }
  }

  size_t writes() const { return written_.size(); }
  int restores() const { return restores_; }
  int settled() const { return settled_; }
  int cuts() const { return cuts_; }

 private:
  static std::string Quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  void AddDevice(const std::string& name, const std::vector<std::string>& territories, std::string clock = "") {
    DeviceState d{name, dir_ / (name + ".db"), territories, std::move(clock)};
    RunResult r = Relais(d, {"init", "--server", central_.url(), "--token", central_.Enrol(name, territories)});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    devices_.push_back(std::move(d));
  }

  const DeviceState& Device(const std::string& name) const {
    for (const auto& d : devices_) {
      if (d.name == name) return d;
    }
    throw std::runtime_error("no device " + name);
  }

  // The open cases this device holds now.
  std::vector<std::string> Cases(const DeviceState& d) {
    return SqliteRows(d.db, "SELECT id FROM cases WHERE merged_into IS NULL ORDER BY id");
  }

  void Create(DeviceState& d) {
    static const char* kLast[] = {"Martin", "Lefèvre", "Névache", "Girard"};
    static const char* kFirst[] = {"Élodie", "Maël", "Zoé", "Inès"};
    std::string territory = d.territories[Pick(d.territories.size())];
    std::string last = kLast[Pick(4)], first = kFirst[Pick(4)];
    std::string birth = "1990-0" + std::to_string(1 + Pick(3)) + "-1" + std::to_string(Pick(3));  // duplicates happen
    RunResult r = Relais(d, {"case", "add", "--last-name", last, "--first-name", first, "--birth-date", birth,
                             "--territory", territory, "--json"});
    REQUIRE(r.exit_code == 0);
    std::string id = json::parse(r.out)["id"];
    written_.push_back({d.name, id, "last_name", last});
  }

  void Edit(DeviceState& d) {
    auto cases = Cases(d);
    if (cases.empty()) return Create(d);
    std::string id = cases[Pick(cases.size())];
    static const std::vector<std::pair<std::string, std::vector<std::string>>> kEdits = {
        {"phone", {"0611111111", "0622222222", "0633333333", "0644444444"}},
        {"email", {"a@exemple.fr", "b@exemple.fr", "c@exemple.fr"}},
        {"status", {"salarie", "independant", "etudiant", "demandeur_emploi"}},
        {"notes", {"Entretien prévu.", "Dossier complet.", "Relancer en décembre.", "Orientée vers le GRETA."}},
    };
    const auto& [field, values] = kEdits[Pick(kEdits.size())];
    std::string value = values[Pick(values.size())] + (field == "notes" ? " (" + d.name + ")" : "");
    std::string option = "--" + field;
    RunResult r = Relais(d, {"case", "edit", id, option, value, "--json"});
    if (r.exit_code == 0) written_.push_back({d.name, id, field, value});
  }

  void Followup(DeviceState& d) {
    // And a visit in the register of its first territory, drawn from nothing: the seed's sequence of
    // operations stays what it was before visits existed.
    Relais(d, {"visit", "add", "--territory", d.territories.front(), "--channel", "accueil", "--mode", "flux",
               "--reason", "emploi", "--note", "Visite de " + d.name});
    auto cases = Cases(d);
    if (cases.empty()) return;
    const std::string id = cases[Pick(cases.size())];
    Relais(d, {"followup", "add", id, "--kind", "entretien", "--text", "Suivi de " + d.name});
    Refer(d, id);
  }

  // A referral of that case to a partner, with the person's consent, and an answer to the oldest
  // referral still waiting on this device: accepted or refused in turn, so that two devices answer
  // one referral differently (a conflict for review). Drawn from nothing, as the visit above.
  void Refer(DeviceState& d, const std::string& case_id) {
    std::vector<std::string> partner = SqliteRows(d.db, "SELECT id FROM contacts ORDER BY id LIMIT 1");
    if (partner.empty()) {
      RunResult added = Relais(d, {"contact", "add", "--organisation", "GRETA de " + d.name, "--json"});
      if (added.exit_code != 0) return;
      partner.push_back(json::parse(added.out)["id"]);
    }
    Relais(d, {"case", "edit", case_id, "--consent-sharing", "oui"});
    Relais(d, {"referral", "add", case_id, "--to", partner.front(), "--service", "formation"});
    const std::vector<std::string> waiting =
        SqliteRows(d.db, "SELECT id FROM referrals WHERE status = 'envoyee' ORDER BY id LIMIT 1");
    if (waiting.empty()) return;
    if (++answers_ % 2 == 0) {
      Relais(d, {"referral", "update", waiting.front(), "--status", "acceptee"});
    } else {
      Relais(d, {"referral", "update", waiting.front(), "--status", "refusee", "--reason", "Complet (" + d.name + ")"});
    }
  }

  void Close(DeviceState& d) {
    auto cases = Cases(d);
    if (cases.empty()) return;
    Relais(d, {"case", "close", cases[Pick(cases.size())], "--reason", "Emploi trouvé"});
  }

  void Move(DeviceState& d) {
    if (d.territories.size() < 2) return;
    auto cases = Cases(d);
    if (cases.empty()) return;
    std::string id = cases[Pick(cases.size())];
    std::string territory = d.territories[Pick(d.territories.size())];
    if (Relais(d, {"case", "edit", id, "--territory", territory}).exit_code == 0) {
      written_.push_back({d.name, id, "territory", territory});
    }
  }

  void Sync(DeviceState& d, bool cut) {
    ForgetReplaced(d);
    if (!cut) {
      behind_.erase(d.name);
      RunResult r = Relais(d, {"sync", "--json", "--batch", "7", "--page", "11"});
      INFO(d.name << ": " << r.err);
      REQUIRE(r.exit_code == 0);
      // The recovery would mend a replica that went astray (a record left out of a pull as this
      // device's own echo while its row lacked that version, say): it must find nothing to mend.
      json summary = json::parse(r.out);
      INFO(summary.dump());
      CHECK(summary["divergence"].is_null());
      return;
    }
    ++cuts_;
    RunAndKill(RelaisArgv(d, {"sync", "--batch", "3", "--page", "5"}), static_cast<int>(Pick(40)));
  }

  const TempDir& dir_;
  Central central_;
  std::mt19937_64 rng_;
  std::vector<DeviceState> devices_;
  std::vector<Written> written_;
  int settled_ = 0;
  int cuts_ = 0;
  int answers_ = 0;             // referral answers given, accepted and refused in turn
  std::set<size_t> forgotten_;  // indexes in written_ of values the restore took with it
  int restores_ = 0;
  size_t restored_at_ = 0;        // written_'s size when the centre was restored
  std::set<std::string> behind_;  // devices that have not synced whole since the restore
};

}  // namespace

TEST_CASE("replicas converge and nothing written is lost, whatever the order of syncs and cuts", "[e2e][convergence]") {
  const uint64_t seed = static_cast<uint64_t>(EnvInt("RELAIS_CONVERGENCE_SEED", 20261123));
  const int64_t rounds = EnvInt("RELAIS_CONVERGENCE_ROUNDS", 150);
  INFO("seed " << seed << ", " << rounds << " rounds");
  TempDir dir;
  World world(dir, seed);
  for (int64_t i = 0; i < rounds; ++i) {
    if (i == rounds / 3) world.BackUpCentre();
    if (i == 2 * rounds / 3) world.RestoreCentre();
    world.Round();
  }
  world.SyncAllTwice();  // everything offline reaches the centre first
  world.SettleEverything();
  world.SyncAllTwice();
  world.CheckConverged();
  world.CheckNothingLost();
  WARN("convergence: seed " << seed << ", " << rounds << " rounds, " << world.writes() << " values written, "
                            << world.cuts() << " syncs cut, " << world.settled() << " conflicts settled, "
                            << world.restores() << " restore(s) of the centre");
}
