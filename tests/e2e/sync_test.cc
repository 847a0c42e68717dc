// End-to-end sync: real `relais-central` on loopback, real `relais` replicas in temp folders.
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/device.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
const std::string kBastia = "corse-bastia";

// A centre and two devices of the same territory sharing one synced case.
struct TwoDevicesOneCase {
  explicit TwoDevicesOneCase(const std::string& last, const std::string& first)
      : central(dir.path()), a(dir, "a"), b(dir, "b") {
    central.Start();
    a.Init(central, central.Enrol("a", {kGap}));
    b.Init(central, central.Enrol("b", {kGap}));
    id = a.AddCase(last, first, kGap);
    a.Sync();
    b.Sync();
  }
  TempDir dir;
  Central central;
  Device a, b;
  std::string id;
};

}  // namespace

TEST_CASE("a thousand cases made offline reach the same territory, not another, which still gets the directory",
          "[e2e][sync]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), b(dir, "b"), c(dir, "c");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  c.Init(central, central.Enrol("c", {kBastia}));

  REQUIRE(a.Cmd({"import", CasesFile(dir, 1000, kGap)}).exit_code == 0);
  a.Json({"contact", "add", "--organisation", "Mission locale Gap", "--phone", "0492000000"});
  CHECK(a.Json({"status"})["pending"] == 1001);

  json pushed = a.Sync();
  CHECK(pushed["pushed"] == 1001);
  CHECK(pushed["rejected"] == 0);
  CHECK(a.Json({"status"})["pending"] == 0);

  json got_b = b.Sync();
  CHECK(got_b["pulled"] == 1001);
  CHECK(b.CaseCount() == 1000);
  CHECK(got_b["bytes_received"].get<int64_t>() > 0);

  json got_c = c.Sync();
  CHECK(got_c["pulled"] == 1);
  CHECK(c.CaseCount() == 0);
  CHECK(c.Json({"contact", "list"}).size() == 1);

  SECTION("a second sync with nothing to do moves nothing") {
    json again = b.Sync();
    CHECK(again["pushed"] == 0);
    CHECK(again["pulled"] == 0);
  }
}

TEST_CASE("edits of different fields made on two devices flow both ways and merge", "[e2e][sync]") {
  TwoDevicesOneCase w("Lefèvre", "Élodie");
  Device& a = w.a;
  Device& b = w.b;
  const std::string& id = w.id;

  a.Json({"case", "edit", id, "--email", "elodie@exemple.fr"});
  b.Json({"case", "edit", id, "--phone", "0698765432"});
  json first = a.Sync();
  json second = b.Sync();
  CHECK(first["applied"] == 1);
  CHECK(second["merged"] == 1);
  a.Sync();
  for (const Device* d : {&a, &b}) {
    json shown = d->Show(id);
    CHECK(shown["email"] == "elodie@exemple.fr");
    CHECK(shown["phone"] == "0698765432");
    CHECK(shown["last_name"] == "Lefèvre");
  }
}

TEST_CASE("a value that lost to a later edit is named: the field, the case, the value kept, and where the other is",
          "[e2e][sync]") {
  TwoDevicesOneCase w("Girard", "Maël");
  // The phone is last-writer-wins: b writes it after a, so b's value stays whoever syncs first.
  w.a.Json({"case", "edit", w.id, "--phone", "0611111111"});
  w.b.Json({"case", "edit", w.id, "--phone", "0622222222"});
  w.b.Sync();
  const std::string sentence =
      "Le champ téléphone du dossier Girard Maël a gardé « 0622222222 », saisi plus "
      "récemment ailleurs ; votre valeur n'est pas perdue : elle reste dans l'historique "
      "de la fiche au centre (le personnel central la voit avec relais-central history " +
      w.id + ")";
  SECTION("in words") {
    RunResult told = w.a.Cmd({"sync"});
    INFO(told.out << told.err);
    REQUIRE(told.exit_code == 0);
    CHECK(told.out.find(sentence) != std::string::npos);
  }
  SECTION("in --json") {
    json told = w.a.Sync();
    CHECK(told["merged"] == 1);
    REQUIRE(told["lost"].size() == 1);
    CHECK(told["lost"][0]["table"] == "cases");
    CHECK(told["lost"][0]["record"] == w.id);
    CHECK(told["lost"][0]["field"] == "phone");
    CHECK(told["lost"][0]["message"] == sentence);
  }
  CHECK(w.a.Show(w.id)["phone"] == "0622222222");
  CHECK(w.central.Count("SELECT count(*) FROM history WHERE lost LIKE '%0611111111%'") == 1);
}

TEST_CASE("status counts the records waiting to be sent, successive edits of one record once", "[e2e][sync]") {
  TwoDevicesOneCase w("Girard", "Maël");
  w.a.Json({"case", "edit", w.id, "--phone", "0611111111"});
  w.a.Json({"case", "edit", w.id, "--email", "mael@exemple.fr"});
  w.a.Json({"case", "edit", w.id, "--commune", "Gap"});
  json status = w.a.Json({"status"});
  CHECK(status["pending_records"] == 1);
  RunResult shown = w.a.Cmd({"status"});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("1 fiche modifiée") != std::string::npos);
  CHECK(shown.out.find("odifications à synchroniser") == std::string::npos);
  w.a.AddCase("Roux", "Inès", kGap);
  CHECK(w.a.Cmd({"status"}).out.find("2 fiches modifiées") != std::string::npos);
  w.a.Sync();
  CHECK(w.a.Cmd({"status"}).out.find("aucune fiche modifiée") != std::string::npos);
}

TEST_CASE("a same-field edit is kept for review: the server keeps its value and loses nothing", "[e2e][sync]") {
  TwoDevicesOneCase w("Girard", "Maël");
  Device& a = w.a;
  Device& b = w.b;
  const std::string& id = w.id;
  Central& central = w.central;
  a.Json({"case", "edit", id, "--status", "salarie"});
  b.Json({"case", "edit", id, "--status", "independant"});
  a.Sync();
  json second = b.Sync();
  CHECK(second["conflicts"] == 1);
  CHECK(b.Show(id)["status"] == "salarie");  // the server's value, until central staff settle
  CHECK(central.Count("SELECT count(*) FROM conflicts WHERE status = 'open' AND device_value = 'independant'") == 1);
}

TEST_CASE("a change outside the device's territories is rejected, kept and shown", "[e2e][sync]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  central.Enrol("b", {kBastia});  // declares kBastia: a device may only name a declared territory
  a.Init(central, central.Enrol("a", {kGap}));
  std::string id = a.AddCase("Dubois", "Zoé", kBastia);
  json result = a.Sync();
  CHECK(result["rejected"] == 1);
  REQUIRE(result["rejections"].size() == 1);
  CHECK(result["rejections"][0]["reason"].get<std::string>().find(kBastia) != std::string::npos);
  json status = a.Json({"status"});
  CHECK(status["rejected"] == 1);
  REQUIRE(status["rejections"].size() == 1);
  CHECK(status["rejections"][0]["record"] == id);
  CHECK(a.Cmd({"status"}).out.find(kBastia) != std::string::npos);  // the reason, shown to people
  CHECK(a.Show(id)["last_name"] == "Dubois");                       // still on the device
  CHECK(a.Sync()["pushed"] == 0);                                   // not resent in a loop
}

TEST_CASE("a case moved to another territory leaves the replicas that no longer see it", "[e2e][sync]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device both(dir, "both"), gap(dir, "gap"), bastia(dir, "bastia");
  both.Init(central, central.Enrol("both", {kGap, kBastia}));
  gap.Init(central, central.Enrol("gap", {kGap}));
  bastia.Init(central, central.Enrol("bastia", {kBastia}));
  std::string id = both.AddCase("Roux", "Inès", kGap);
  both.Json({"followup", "add", id, "--kind", "entretien", "--text", "Premier entretien."});
  both.Sync();
  gap.Sync();
  REQUIRE(gap.CaseCount() == 1);

  both.Json({"case", "edit", id, "--territory", kBastia});
  both.Sync();
  json left = gap.Sync();
  CHECK(left["removed"] == 2);  // the case and its follow-up
  CHECK(gap.CaseCount() == 0);
  CHECK(gap.Cmd({"case", "show", id}).exit_code == 4);
  bastia.Sync();
  json shown = bastia.Show(id);
  CHECK(shown["territory"] == kBastia);
  CHECK(shown["followups"].size() == 1);
}

TEST_CASE("a server killed in the middle of a push loses nothing and applies every change once",
          "[e2e][sync][faults]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), b(dir, "b");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  const int n = 3000;
  REQUIRE(a.Cmd({"import", CasesFile(dir, n, kGap)}).exit_code == 0);

  // Kill the server while the sync runs; each round lets a little more through. The delays are the
  // thing under test (kills at three instants of the push), not an order of events.
  for (int delay_ms : {30, 80, 150}) {
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      central.Kill(SIGKILL);
    });
    a.Cmd({"sync", "--batch", "200", "--attempts", "1"});
    killer.join();
    central.Start();
  }
  json done = a.Sync();
  CHECK(a.Json({"status"})["pending"] == 0);
  CHECK(central.Count("SELECT count(*) FROM cases") == n);
  CHECK(central.Count("SELECT count(*) FROM history") == n);  // each create applied exactly once
  b.Sync();
  CHECK(b.CaseCount() == static_cast<size_t>(n));
}

TEST_CASE("a client killed in the middle of a sync resumes and applies every change once", "[e2e][sync][faults]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  const int n = 3000;
  REQUIRE(a.Cmd({"import", CasesFile(dir, n, kGap)}).exit_code == 0);
  for (int delay_ms : {40, 120}) RunAndKill({RelaisBinary(), "--db", a.db(), "sync", "--batch", "200"}, delay_ms);
  a.Sync();
  CHECK(a.Json({"status"})["pending"] == 0);
  CHECK(Integrity(a.db()) == "ok");
  CHECK(central.Count("SELECT count(*) FROM cases") == n);
  CHECK(central.Count("SELECT count(*) FROM history") == n);
}

TEST_CASE("an unknown or revoked token is refused with a clear message", "[e2e][sync]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  RunResult bad = a.Cmd({"init", "--server", central.url(), "--token", "not-a-token"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("jeton") != std::string::npos);

  a.Init(central, central.Enrol("a", {kGap}));
  a.AddCase("Martin", "Zoé", kGap);
  REQUIRE(Run({CentralBinary(), "device", "revoke", "a", central.StoreArgs()[0], central.StoreArgs()[1]}).exit_code ==
          0);
  RunResult refused = a.Cmd({"sync"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("révoqué") != std::string::npos);
  CHECK(a.Json({"status"})["pending"] == 1);  // nothing lost
}

TEST_CASE("with the centre unreachable, sync stops after bounded retries and says what to do", "[e2e][sync]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a");
  a.Init(central, central.Enrol("a", {kGap}));
  a.AddCase("Martin", "Zoé", kGap);
  central.Kill(SIGKILL);
  RunResult r = a.Cmd({"sync", "--attempts", "2"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("Rien n'est perdu") != std::string::npos);
  CHECK(a.Json({"status"})["pending"] == 1);
}

TEST_CASE("a replica corrupted on purpose is found different and recovered, keeping every pending edit",
          "[e2e][sync][divergence]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device a(dir, "a"), b(dir, "b");
  a.Init(central, central.Enrol("a", {kGap}));
  b.Init(central, central.Enrol("b", {kGap}));
  REQUIRE(a.Cmd({"import", CasesFile(dir, 50, kGap)}).exit_code == 0);
  a.Sync();
  json clean = b.Sync();
  CHECK(clean["checked"] == true);
  CHECK(clean["divergence"].is_null());
  REQUIRE(b.CaseCount() == 50);

  const std::string lost = "0190a1b2-0000-7000-8000-000000000001";
  const std::string stale = "0190a1b2-0000-7000-8000-000000000002";
  const std::string edited = "0190a1b2-0000-7000-8000-000000000003";
  SECTION("a lost row, a stale version and a phantom record") {
    Exec(b.db(), "DELETE FROM cases WHERE id = '" + lost + "'");
    Exec(b.db(), "UPDATE cases SET version = version - 1, phone = '0699999999' WHERE id = '" + stale + "'");
    Exec(b.db(),
         "INSERT INTO contacts (id, version, organisation) VALUES ('0190a1b2-0000-7000-8000-0000000fffff', 3, "
         "'Fantôme')");
  }
  SECTION("a cursor moved past changes never received") {
    a.Json({"case", "edit", lost, "--phone", "0611223344"});
    a.Sync();
    Exec(b.db(),
         "UPDATE sync_state SET value = (SELECT value FROM sync_state WHERE key = 'pull_cursor') + 1 "
         "WHERE key = 'pull_cursor'");
  }
  SECTION("a cursor ahead of the centre (a centre restored from an older backup)") {
    Exec(b.db(), "UPDATE sync_state SET value = '100000' WHERE key = 'pull_cursor'");
    Exec(b.db(), "DELETE FROM cases WHERE id = '" + lost + "'");
  }
  // Offline work of b waiting to be sent: an edit of a synced case, a new case, a follow-up.
  b.Json({"case", "edit", edited, "--notes", "Rappeler lundi."});
  std::string fresh = b.AddCase("Nouveau", "Dossier", kGap);
  b.Json({"followup", "add", edited, "--kind", "entretien", "--text", "Entretien du 23 novembre."});

  json recovered = b.Sync();
  INFO(recovered.dump());
  CHECK(recovered["checked"] == true);
  // A cursor ahead of the centre is found before the push, as a centre that lost history.
  CHECK((recovered["divergence"].is_string() || recovered["centre_restored"] == true));
  CHECK(recovered["recovered_records"].get<int64_t>() >= 50);
  CHECK(recovered["rejected"] == 0);
  // The replica now holds exactly the centre's view, the pending work included.
  json again = b.Sync();
  CHECK(again["divergence"].is_null());
  CHECK(again["checked"] == true);
  CHECK(b.CaseCount() == 51);  // 50 imported and the new one
  CHECK(b.Show(lost)["id"] == lost);
  CHECK(b.Show(stale)["phone"] != "0699999999");
  CHECK(Count(b.db(), "SELECT count(*) FROM contacts WHERE organisation = 'Fantôme'") == 0);
  CHECK(Count(b.db(), "SELECT count(*) FROM outbox") == 0);
  CHECK(Integrity(b.db()) == "ok");
  // Every pending edit reached the centre and came back to a.
  a.Sync();
  CHECK(a.Show(edited)["notes"] == "Rappeler lundi.");
  CHECK(a.Show(fresh)["last_name"] == "Nouveau");
  CHECK(a.Show(edited)["followups"].size() == 1);
}

TEST_CASE("clocks a month behind or ahead, or going back, keep the order of edits", "[e2e][sync][clock]") {
  TempDir dir;
  Central central(dir.path());
  central.Start();
  Device ok(dir, "ok"), behind(dir, "behind"), ahead(dir, "ahead");
  ok.Init(central, central.Enrol("ok", {kGap}));
  behind.Init(central, central.Enrol("behind", {kGap}));
  ahead.Init(central, central.Enrol("ahead", {kGap}));
  const std::string id = ok.AddCase("Girard", "Maël", kGap);
  const std::string contact =
      ok.Json({"contact", "add", "--organisation", "Mission locale Gap", "--phone", "0492000000"})["id"]
          .get<std::string>();
  ok.Sync();
  SkewedJson(behind, "-30d", {"sync"});
  SkewedJson(ahead, "+30d", {"sync"});

  SECTION("a device a month behind: once it has synced, its later edit wins") {
    ok.Json({"case", "edit", id, "--phone", "0611111111"});
    ok.Sync();
    json s = SkewedJson(behind, "-30d", {"sync"});
    CHECK(s["clock_skew_ms"].get<int64_t>() < -29LL * 86400000);
    SkewedJson(behind, "-30d", {"case", "edit", id, "--phone", "0622222222"});
    SkewedJson(behind, "-30d", {"sync"});
    ok.Sync();
    CHECK(ok.Show(id)["phone"] == "0622222222");
  }
  SECTION("a device a month ahead: the centre dates its edit on receipt, a later edit elsewhere wins") {
    json s = SkewedJson(ahead, "+30d", {"contact", "edit", contact, "--phone", "0633333333"});
    json synced = SkewedJson(ahead, "+30d", {"sync"});
    CHECK(synced["clock_skew_ms"].get<int64_t>() > 29LL * 86400000);
    // The centre stamped the edit with its own time of receipt. The edit elsewhere must be later
    // than that stamp: wait until the wall clock has passed it (a millisecond at most), not for a
    // fixed time.
    const std::string stamp =
        central.Rows("SELECT hlc FROM history WHERE record_id = '" + contact + "' ORDER BY seq DESC LIMIT 1").at(0);
    const int64_t received_ms = std::stoll(stamp.substr(0, 13));
    auto now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    REQUIRE(received_ms < now_ms() + 60000);  // the centre's time, not the laptop's month ahead
    while (now_ms() <= received_ms) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ok.Json({"contact", "edit", contact, "--phone", "0644444444"});
    ok.Sync();
    SkewedJson(ahead, "+30d", {"sync"});
    CHECK(ok.Json({"contact", "show", contact})["phone"] == "0644444444");
    CHECK(SkewedJson(ahead, "+30d", {"contact", "show", contact})["phone"] == "0644444444");
  }
  SECTION("a clock that goes back between two syncs: the device's later edit still comes after its earlier one") {
    ok.Json({"case", "edit", id, "--phone", "0655555555"});
    ok.Sync();
    SkewedJson(ok, "-30d", {"case", "edit", id, "--phone", "0666666666"});
    SkewedJson(ok, "-30d", {"sync"});
    behind.Json({"sync"});
    CHECK(behind.Show(id)["phone"] == "0666666666");
  }
  // The text output says what to do about a clock that is far off.
  RunResult text = SkewedRun(ahead, "+30d", {"sync"});
  CHECK(text.out.find("l'horloge de cet ordinateur avance de 30 jours") != std::string::npos);
}
