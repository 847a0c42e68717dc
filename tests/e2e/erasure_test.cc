// End-to-end erasure of a person (docs/PRIVACY.md, "Erasure"): `relais-central person erase`
// reaches the centre's store (live rows, every history version, conflicts), every device that
// holds the case, a change pushed later by a device that was offline, and a backup restored
// afterwards. Real `relais-central serve`, real `relais` replicas.
//
// Laptops a and b have plain replicas (RELAIS_PLAIN_REPLICA_FOR_BENCH=1, docs/PRIVACY.md) so that a
// scan of their files' raw bytes means something: an encrypted replica never shows a name in clear.
// The offline laptop keeps an encrypted replica, as a counsellor's is: it is checked through its
// decrypted content (search, rejected changes), and its erasure rewrites an encrypted file. The
// centre's SQLite file and its WAL are scanned raw too; on PostgreSQL every table is read through
// SQL, each row as text.
#include <catch2/catch.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "tests/e2e/central.h"
#include "tests/e2e/run.h"

using namespace relais::e2e;
using nlohmann::json;

namespace {

const std::string kGap = "hautes-alpes-gap";
// Words found nowhere else: the person's names, a note, a follow-up's text and each device's edit.
const std::vector<std::string> kDistinctive = {"Quenardelle", "Ombeline",  "Vrillonnet", "Zarbanique",
                                               "Plumecoq",    "Brindaval", "Sirlotte"};

// A counsellor's laptop, its replica plain or encrypted.
class Laptop {
 public:
  Laptop(const TempDir& dir, std::string name, bool plain = true)
      : name_(std::move(name)), db_(dir / (name_ + ".db")), plain_(plain) {}

  RunResult Cmd(std::vector<std::string> args) const {
    std::vector<std::string> argv = {RelaisBinary(), "--db", db_};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!plain_) return Run(argv);
    return Run(argv, {{"RELAIS_PLAIN_REPLICA_FOR_BENCH", "1"}});
  }
  json Json(std::vector<std::string> args) const {
    args.push_back("--json");
    RunResult r = Cmd(args);
    INFO("relais " << args.front() << " failed: " << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }
  void Init(Central& c) {
    RunResult r = Cmd({"init", "--server", c.url(), "--token", c.Enrol(name_, {kGap})});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  json Sync() const { return Json({"sync"}); }
  const std::string& db() const { return db_; }

 private:
  std::string name_;
  std::string db_;
  bool plain_;
};

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string Lower(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

// The distinctive words found in the raw bytes of `db` and its WAL, in any case (the search index
// keeps its terms folded: "quenardelle").
std::vector<std::string> FoundInFiles(const std::string& db) {
  std::vector<std::string> found;
  for (const std::string& path : {db, db + "-wal"}) {
    const std::string bytes = Lower(FileBytes(path));
    for (const std::string& word : kDistinctive) {
      if (bytes.find(Lower(word)) != std::string::npos) found.push_back(word + " in " += path);
    }
  }
  return found;
}

// The distinctive words found in any row of any table of the central store: raw bytes of its file
// and WAL on SQLite, every row of every table read as text on PostgreSQL.
std::vector<std::string> FoundAtCentre(const Central& c, const std::string& db) {
  if (!relais::testing::OnPostgres()) return FoundInFiles(db);
  std::vector<std::string> found;
  for (const std::string& table :
       c.Rows("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
              "AND table_type = 'BASE TABLE' ORDER BY table_name")) {
    for (const std::string& row : c.Rows("SELECT t::text FROM \"" + table + "\" t")) {
      for (const std::string& word : kDistinctive) {
        if (row.find(word) != std::string::npos) found.push_back(word + " in " += table);
      }
    }
  }
  return found;
}

RunResult CentralCmd(const Central& c, std::vector<std::string> args) {
  std::vector<std::string> argv = {CentralBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const std::string& a : c.StoreArgs()) argv.push_back(a);
  return Run(argv);
}

}  // namespace

TEST_CASE("an erased person is gone from the centre, its history, its conflicts and every device", "[e2e][erasure]") {
  TempDir dir;
  Central c(dir.path());
  c.Start();
  Laptop a(dir, "a"), b(dir, "b"), offline(dir, "c", /*plain=*/false);
  a.Init(c);
  b.Init(c);
  offline.Init(c);

  const std::string id = a.Json({"case", "add", "--last-name", "Quenardelle", "--first-name", "Ombeline",
                                 "--birth-date", "1988-03-14", "--phone", "0611223344", "--territory", kGap, "--status",
                                 "demandeur_emploi", "--notes", "Vrillonnet souhaite une formation"})["id"]
                             .get<std::string>();
  a.Json({"followup", "add", id, "--kind", "entretien", "--text", "Entretien Zarbanique, premier contact"});
  a.Sync();
  b.Sync();
  offline.Sync();
  // Both edit the notes (reviewed by central staff): a conflict holds both values.
  b.Json({"case", "edit", id, "--notes", "Plumecoq relance"});
  b.Sync();
  a.Json({"case", "edit", id, "--notes", "Brindaval rappel"});
  a.Sync();
  REQUIRE(c.Count("SELECT count(*) FROM conflicts WHERE record_id = '" + id + "'") == 1);
  // A third laptop edits the case offline.
  offline.Json({"case", "edit", id, "--notes", "Sirlotte, vu hors connexion"});
  // The scans can see the words: they are everywhere before the erasure.
  REQUIRE_FALSE(FoundAtCentre(c, dir / "central.db").empty());
  REQUIRE_FALSE(FoundInFiles(b.db()).empty());

  RunResult erased = CentralCmd(
      c, {"person", "erase", id, "--reason", "demande de la personne du 2026-12-01", "--by", "dpo", "--json"});
  INFO(erased.err);
  REQUIRE(erased.exit_code == 0);
  const json receipt = json::parse(erased.out);
  CHECK(receipt["case"] == id);
  CHECK(receipt["records"] == 2);  // the case and its follow-up

  const json on_a = a.Sync();
  CHECK(on_a["erased_cases"] == 1);
  RunResult b_sync = b.Cmd({"sync"});
  REQUIRE(b_sync.exit_code == 0);
  CHECK_THAT(b_sync.out, Catch::Contains("1 dossier effacé à la demande du centre"));

  // The offline laptop's edit comes later: refused, with a reason it shows; then it erases the case.
  const json on_c = offline.Sync();
  REQUIRE(on_c["rejections"].size() == 1);
  CHECK_THAT(on_c["rejections"][0]["reason"].get<std::string>(), Catch::Contains("effacé"));
  CHECK(on_c["erased_cases"] == 1);

  for (const Laptop* l : {&a, &b, &offline}) {
    INFO(l->db());
    CHECK(l->Json({"case", "search", "Quenardelle"}).empty());
    CHECK(l->Json({"rejected", "list", "--all"}).dump().find("Sirlotte") == std::string::npos);
    CHECK(FoundInFiles(l->db()).empty());
  }
  RunResult history = CentralCmd(c, {"history", id, "--json"});
  CHECK(history.out.find("Quenardelle") == std::string::npos);
  // Every version stays, with its coded facts only.
  const std::vector<std::string> versions =
      c.Rows("SELECT snapshot FROM history WHERE record_id = '" + id + "' ORDER BY seq");
  REQUIRE(versions.size() >= 3);
  for (const std::string& v : versions) CHECK(v.find("demandeur_emploi") != std::string::npos);
  CHECK(FoundAtCentre(c, dir / "central.db").empty());
  // The coded facts stay for statistics; the receipt names the case, never the person.
  CHECK(c.Rows("SELECT facts FROM erased_records WHERE record_id = '" + id + "'").at(0).find("demandeur_emploi") !=
        std::string::npos);
  RunResult list = CentralCmd(c, {"erasures", "--json"});
  REQUIRE(list.exit_code == 0);
  const json receipts = json::parse(list.out);
  REQUIRE(receipts.size() == 1);
  CHECK(receipts[0]["by"] == "dpo");
  CHECK(receipts[0]["reason"] == "demande de la personne du 2026-12-01");
  // Erasing twice is refused, and says when it was done.
  RunResult again = CentralCmd(c, {"person", "erase", id, "--reason", "encore"});
  CHECK(again.exit_code != 0);
  CHECK_THAT(again.err, Catch::Contains("déjà été effacé"));
}

TEST_CASE("a backup restored after an erasure does not bring the person back", "[e2e][erasure]") {
  TempDir dir;
  Central c(dir.path());
  const std::string ledger = dir / "registre-effacements";
  c.ServeArgs({"--erasure-ledger", ledger});
  c.Start();
  Laptop a(dir, "a");
  a.Init(c);
  const std::string id =
      a.Json({"case", "add", "--last-name", "Quenardelle", "--first-name", "Ombeline", "--territory", kGap})["id"]
          .get<std::string>();
  a.Sync();
  c.Backup();
  RunResult erased = CentralCmd(c, {"person", "erase", id, "--reason", "demande", "--erasure-ledger", ledger});
  INFO(erased.err);
  REQUIRE(erased.exit_code == 0);
  REQUIRE(a.Sync()["erased_cases"] == 1);
  c.RestoreBackup(/*declare=*/true);
  c.Start();  // serve replays the ledger before it answers anyone
  CHECK(FoundAtCentre(c, dir / "central.db").empty());
  RunResult list = CentralCmd(c, {"erasures", "--json"});
  REQUIRE(list.exit_code == 0);
  const json receipts = json::parse(list.out);
  REQUIRE(receipts.size() == 1);
  CHECK(receipts[0]["source"] == "ledger");
  // The laptop follows the restored centre (a fresh copy of its scope): the person does not come back.
  a.Sync();
  CHECK(a.Json({"case", "search", "Quenardelle"}).empty());
  CHECK(FoundInFiles(a.db()).empty());
}
