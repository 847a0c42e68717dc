#include <catch2/catch.hpp>

#include "base/ids.h"
#include "client/cases.h"
#include "client/records.h"
#include "client/replica_port.h"
#include "sync/codec.h"
#include "sync/outbox.h"
#include "tests/client/fixture.h"

using namespace relais;
using namespace relais::client;
using namespace relais::client::testing;

namespace {
const schema::Table& Cases() { return schema::CasesTable(); }
}  // namespace

TEST_CASE("creating a case writes its row at version 0, which is the pending create until batched", "[records]") {
  TestReplica t;
  auto created = t.records().Create(Cases(), ACase());
  REQUIRE(created.ok());
  CHECK(IsUuid(created->id));
  CHECK(created->id[14] == '7');  // UUIDv7
  CHECK(t.Counts() == "1/0/0/0/0");
  CHECK(t.Scalar("SELECT version FROM cases") == 0);
  CHECK(t.records().PendingFor(Cases(), created->id)->pending == 1);
  CHECK(t.records().PendingTotal()->pending == 1);

  // Put in a push batch, the create gets its entry with the row's values, frozen: a later edit is its
  // own entry.
  SqliteReplicaPort port(t.replica());
  CHECK(*port.PendingCount() == 1);
  auto batch = port.FormBatch(100);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  REQUIRE((*batch)->changes.size() == 1);
  const sync::Change& create = (*batch)->changes[0];
  CHECK(create.op == sync::Op::kCreate);
  CHECK(create.record_id == created->id);
  CHECK(create.base_version == 0);
  CHECK(create.hlc.find(t.replica().node_id()) != std::string::npos);
  CHECK(create.fields.size() == ACase().size());  // every non-null field, nothing else
  CHECK(t.Scalar("SELECT count(*) FROM outbox WHERE batch_key IS NOT NULL") == 1);
  CHECK(t.records().PendingTotal()->pending == 1);  // once, in the outbox now
  REQUIRE(t.records().Edit(Cases(), created->id, {{"phone", std::string("0699887766")}}).ok());
  auto again = port.UnacknowledgedBatch();
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  CHECK(sync::EncodePushRequest(**again) == sync::EncodePushRequest(**batch));  // a retry is identical
}

TEST_CASE("an invalid value is refused naming the field and the rule, and nothing is written", "[records]") {
  TestReplica t;
  auto values = ACase();
  values.emplace_back("birth_date", "1990-13-45");
  const std::string before = t.ContentHash();
  auto created = t.records().Create(Cases(), values);
  REQUIRE_FALSE(created.ok());
  CHECK(created.error().code == ErrorCode::kValidation);
  CHECK(created.error().message == "birth_date: « 1990-13-45 » n'est pas une date qui existe (attendu : AAAA-MM-JJ)");
  CHECK(t.ContentHash() == before);
}

TEST_CASE("values are normalised before they are stored", "[records]") {
  TestReplica t;
  auto values = ACase();
  values.emplace_back("phone", " 06.12.34.56.78 ");
  auto created = t.records().Create(Cases(), values);
  REQUIRE(created.ok());
  CHECK(t.Text("SELECT phone FROM cases") == "0612345678");
}

TEST_CASE("editing a case appends an update with new and base values and the base version", "[records]") {
  TestReplica t;
  auto created = t.records().Create(Cases(), ACase());
  REQUIRE(created.ok());
  REQUIRE(t.replica().db().Exec("UPDATE cases SET version = 7").ok());  // as if synced
  auto edited = t.records().Edit(Cases(), created->id, {{"commune", "Névache"}, {"last_name", "Lefèvre"}});
  REQUIRE(edited.ok());
  CHECK(edited->changed);
  CHECK(Field(Cases(), edited->record, "commune") == "Névache");
  CHECK(t.Text("SELECT op FROM outbox ORDER BY seq DESC") == "update");
  CHECK(t.Scalar("SELECT base_version FROM outbox ORDER BY seq DESC") == 7);
  auto fields = sync::DecodeOutboxFields(sync::Op::kUpdate, t.Text("SELECT fields FROM outbox ORDER BY seq DESC"));
  REQUIRE(fields.ok());
  REQUIRE(fields->size() == 1);  // only the changed field: last_name was given its own value
  CHECK((*fields)[0].field == "commune");
  CHECK(*(*fields)[0].value == "Névache");
  CHECK(*(*fields)[0].base == "Briançon");
}

TEST_CASE("an edit that changes nothing writes nothing", "[records]") {
  TestReplica t;
  auto created = t.records().Create(Cases(), ACase());
  REQUIRE(created.ok());
  auto before = t.ContentHash();
  auto edited = t.records().Edit(Cases(), created->id, {{"commune", " Briançon "}});
  REQUIRE(edited.ok());
  CHECK_FALSE(edited->changed);
  CHECK(t.ContentHash() == before);
}

TEST_CASE("clearing a required field is refused and changes nothing", "[records]") {
  TestReplica t;
  auto created = t.records().Create(Cases(), ACase());
  REQUIRE(created.ok());
  const std::string before = t.ContentHash();
  auto edited = t.records().Edit(Cases(), created->id, {{"last_name", std::nullopt}});
  REQUIRE_FALSE(edited.ok());
  CHECK(edited.error().message == "last_name: obligatoire (ne peut pas être vide)");
  CHECK(t.ContentHash() == before);
}

TEST_CASE("editing a record the replica does not hold is not found", "[records]") {
  TestReplica t;
  auto edited = t.records().Edit(Cases(), NewUuidV7(0), {{"commune", "Gap"}});
  REQUIRE_FALSE(edited.ok());
  CHECK(edited.error().code == ErrorCode::kNotFound);
}

TEST_CASE("follow-up entries can never be edited", "[records]") {
  TestReplica t;
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  auto f = AddFollowup(t.records(), c->id, {{"kind", "entretien"}, {"text", "Premier entretien"}});
  REQUIRE(f.ok());
  auto before = t.ContentHash();
  auto edited = t.records().Edit(schema::FollowupsTable(), f->id, {{"text", "Réécrit"}});
  REQUIRE_FALSE(edited.ok());
  CHECK(edited.error().code == ErrorCode::kValidation);
  CHECK(edited.error().message.find("append-only") != std::string::npos);
  CHECK(t.ContentHash() == before);
}

TEST_CASE("a follow-up is dated today unless given a date, and needs its case", "[records]") {
  TestReplica t;
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  auto f = AddFollowup(t.records(), c->id, {{"kind", "orientation"}, {"text", "Vers la Mission locale"}});
  REQUIRE(f.ok());
  CHECK(Field(schema::FollowupsTable(), *f, "date") == LocalToday(t.clock()));
  auto orphan = AddFollowup(t.records(), NewUuidV7(0), {{"kind", "entretien"}, {"text", "x"}});
  REQUIRE_FALSE(orphan.ok());
  CHECK(orphan.error().code == ErrorCode::kNotFound);
  CHECK(t.Scalar("SELECT count(*) FROM followups") == 1);
}

TEST_CASE("follow-ups are listed newest first", "[records]") {
  TestReplica t;
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  for (const char* date : {"2026-01-05", "2026-02-10", "2025-12-01"}) {
    REQUIRE(AddFollowup(t.records(), c->id, {{"kind", "entretien"}, {"text", "x"}, {"date", date}}).ok());
  }
  auto list = ListFollowups(t.records(), c->id);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 3);
  CHECK(Field(schema::FollowupsTable(), (*list)[0], "date") == "2026-02-10");
  CHECK(Field(schema::FollowupsTable(), (*list)[2], "date") == "2025-12-01");
}

TEST_CASE("a write whose outbox entry fails leaves neither the row nor an outbox entry", "[records][atomicity]") {
  TestReplica t;
  auto existing = t.records().Create(Cases(), ACase("Martin", "Léa"));
  REQUIRE(existing.ok());
  REQUIRE(t.replica()
              .db()
              .Exec("CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox "
                    "BEGIN SELECT RAISE(ABORT, 'outbox refused by the test'); END")
              .ok());
  auto before = t.ContentHash();

  SECTION("edit") {
    auto edited = t.records().Edit(Cases(), existing->id, {{"commune", "Gap"}});
    REQUIRE_FALSE(edited.ok());
    CHECK(t.Text("SELECT commune FROM cases") == "Briançon");
  }
  SECTION("a create put in a push batch") {
    // The create is its row until a batch takes it: the batch fails whole, the create stays pending.
    SqliteReplicaPort port(t.replica());
    auto batch = port.FormBatch(100);
    REQUIRE_FALSE(batch.ok());
    CHECK(batch.error().message.find("outbox refused by the test") != std::string::npos);
    CHECK(t.records().PendingFor(Cases(), existing->id)->pending == 1);
  }
  CHECK(t.ContentHash() == before);
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'gap'") == 0);
}

TEST_CASE("a create whose row is refused midway leaves nothing", "[records][atomicity]") {
  TestReplica t;
  auto existing = t.records().Create(Cases(), ACase("Martin", "Léa"));
  REQUIRE(existing.ok());
  // After the row and its full-text terms are written, as a full disk would.
  REQUIRE(t.replica()
              .db()
              .Exec("CREATE TRIGGER refuse_row AFTER INSERT ON followups "
                    "BEGIN SELECT RAISE(ABORT, 'row refused by the test'); END")
              .ok());
  REQUIRE(t.replica()
              .db()
              .Exec("CREATE TRIGGER refuse_case AFTER INSERT ON cases "
                    "BEGIN SELECT RAISE(ABORT, 'row refused by the test'); END")
              .ok());
  auto before = t.ContentHash();

  SECTION("case") {
    auto created = t.records().Create(Cases(), ACase("Lefèvre", "Élodie", "Gap"));
    REQUIRE_FALSE(created.ok());
    CHECK(created.error().message.find("row refused by the test") != std::string::npos);
  }
  SECTION("follow-up") {
    REQUIRE_FALSE(AddFollowup(t.records(), existing->id, {{"kind", "entretien"}, {"text", "x"}}).ok());
  }
  CHECK(t.ContentHash() == before);
  CHECK(t.records().PendingTotal()->pending == 1);
  CHECK(t.Scalar("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'gap'") == 0);
}

TEST_CASE("closing a case sets its date and reason; closing it again is refused and changes nothing", "[records]") {
  TestReplica t;
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  auto closed = CloseCase(t.records(), c->id, std::string("Emploi trouvé"), std::nullopt);
  REQUIRE(closed.ok());
  CHECK(Field(Cases(), *closed, "closed_on") == LocalToday(t.clock()));
  CHECK(Field(Cases(), *closed, "close_reason") == "Emploi trouvé");
  auto before = t.ContentHash();
  auto again = CloseCase(t.records(), c->id, std::string("Autre"), std::string("2026-04-01"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kValidation);
  CHECK(again.error().message.find("est déjà clos") != std::string::npos);
  CHECK(t.ContentHash() == before);
}

TEST_CASE("search ignores case and accents and matches the start of words", "[records][search]") {
  TestReplica t;
  REQUIRE(t.records().Create(Cases(), ACase("Lefèvre", "Élodie", "Briançon")).ok());
  REQUIRE(t.records().Create(Cases(), ACase("Martin", "Noémie", "Gap")).ok());
  auto [query, expected] = GENERATE(table<std::string, std::string>({{"briancon", "Lefèvre"},
                                                                     {"BRIANÇON", "Lefèvre"},
                                                                     {"elodie", "Lefèvre"},
                                                                     {"lef", "Lefèvre"},
                                                                     {"noemie gap", "Martin"},
                                                                     {"Élodie Lefèvre", "Lefèvre"}}));
  auto found = t.records().Search(Cases(), query);
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK(Field(Cases(), (*found)[0], "last_name") == expected);
}

TEST_CASE("search lists whole words before word starts, by name, without merged cases", "[records][search]") {
  TestReplica t;
  // Made first, so that an index read in rowid order would meet them first; and first by name.
  REQUIRE(t.records().Create(Cases(), ACase("Abadie", "Marielle")).ok());
  REQUIRE(t.records().Create(Cases(), ACase("Bonnet", "Mariette")).ok());
  REQUIRE(t.records().Create(Cases(), ACase("Roux", "Marie")).ok());
  REQUIRE(t.records().Create(Cases(), ACase("Zola", "Marie")).ok());
  REQUIRE(t.records().Create(Cases(), ACase("Martin", "Marie")).ok());
  REQUIRE(t.replica().db().Exec("UPDATE cases SET merged_into = id WHERE last_name = 'Roux'").ok());
  auto names = [&](size_t limit) {
    auto found = t.records().Search(Cases(), "marie", limit);
    REQUIRE(found.ok());
    std::vector<std::string> out;
    for (const auto& r : *found) out.push_back(Field(Cases(), r, "last_name") + " " + Field(Cases(), r, "first_name"));
    return out;
  };
  CHECK(names(50) == std::vector<std::string>{"Martin Marie", "Zola Marie", "Abadie Marielle", "Bonnet Mariette"});
  CHECK(names(3) == std::vector<std::string>{"Martin Marie", "Zola Marie", "Abadie Marielle"});
  REQUIRE(names(1).size() == 1);
  CHECK(names(1)[0].find(" Marie") != std::string::npos);
  CHECK(names(1)[0].find("Roux") == std::string::npos);
}

TEST_CASE("search text is never read as query syntax", "[records][search]") {
  TestReplica t;
  REQUIRE(t.records().Create(Cases(), ACase()).ok());
  for (const char* text : {"\"", "lef\" OR \"x", "NEAR(a b)", "*", "last_name:x", "a AND", "-lef"}) {
    auto found = t.records().Search(Cases(), text);
    if (!found.ok()) CHECK(found.error().code == ErrorCode::kUsage);
  }
  CHECK(PrefixQuery("lef \"o") == "\"lef\"* \"\"\"o\"*");
  CHECK(PrefixQuery("  ") == "");
}

TEST_CASE("lists filter by territory, status and open cases", "[records]") {
  TestReplica t;
  auto a = t.records().Create(Cases(), ACase("Martin", "Léa"));
  auto values = ACase("Bernard", "Hugo");
  values.emplace_back("territory", "corse-bastia");
  values.erase(values.begin() + 5);  // the builder's territory
  REQUIRE(t.records().Create(Cases(), values).ok());
  REQUIRE(a.ok());
  REQUIRE(CloseCase(t.records(), a->id, std::nullopt, std::nullopt).ok());
  ListFilter all;
  CHECK(t.records().List(Cases(), all)->size() == 2);
  ListFilter bastia;
  bastia.equals = {{"territory", "corse-bastia"}};
  REQUIRE(t.records().List(Cases(), bastia)->size() == 1);
  CHECK(Field(Cases(), t.records().List(Cases(), bastia)->at(0), "last_name") == "Bernard");
  ListFilter open;
  open.open_only = true;
  CHECK(t.records().List(Cases(), open)->size() == 1);
  ListFilter status;
  status.equals = {{"status", "salarie"}};
  CHECK(t.records().List(Cases(), status)->empty());
}

TEST_CASE("the pending changes of a record are counted", "[records]") {
  TestReplica t;
  auto c = t.records().Create(Cases(), ACase());
  REQUIRE(c.ok());
  REQUIRE(t.records().Edit(Cases(), c->id, {{"commune", "Gap"}}).ok());
  auto pending = t.records().PendingFor(Cases(), c->id);
  REQUIRE(pending.ok());
  CHECK(pending->pending == 2);
  CHECK(pending->rejected == 0);
  CHECK(t.records().PendingTotal()->pending == 2);
}

TEST_CASE("a contact's search entry follows its indexed fields and only them", "[records][search]") {
  TestReplica t;
  const schema::Table& contacts = schema::ContactsTable();
  auto made = t.records().Create(contacts, {{"organisation", "GRETA Névache"}, {"last_name", "Laurent"}});
  REQUIRE(made.ok());
  REQUIRE(t.records().Edit(contacts, made->id, {{"organisation", "Mission locale Gap"}}).ok());
  auto renamed = t.records().Search(contacts, "mission gap");
  REQUIRE(renamed.ok());
  CHECK(renamed->size() == 1);
  auto old_name = t.records().Search(contacts, "greta");
  REQUIRE(old_name.ok());
  CHECK(old_name->empty());
  // A write of the version alone (the centre's answer to the create, a pulled row whose text did not
  // change) leaves the search index alone: one row changed, none by a trigger.
  sqlite3* db = t.records().replica().db().handle();
  const int before = sqlite3_total_changes(db);
  REQUIRE(t.records().replica().db().Exec("UPDATE contacts SET version = 7 WHERE id = '" + made->id + "'").ok());
  CHECK(sqlite3_total_changes(db) - before == 1);
  auto still = t.records().Search(contacts, "laurent");
  REQUIRE(still.ok());
  CHECK(still->size() == 1);
}
