// What a device checks of a pulled page before applying any of it (sync/pull_checks.h): the same
// validation as a local write, its own territories, versions within the page, each record once.
#include <catch2/catch.hpp>

#include "sync/pull_checks.h"
#include "tests/sync/builders.h"

using namespace relais;
using namespace relais::sync;
using relais::testing::ACase;

namespace {

const std::string kOther = "0190a1b2-0000-7000-8000-000000000002";

PullPage PageOf(std::vector<schema::Record> records, int64_t since = 10, int64_t next = 20) {
  PullPage page;
  page.since = since;
  page.next = next;
  for (schema::Record& r : records) page.records.push_back({"cases", std::move(r)});
  return page;
}

PageScope Gap() { return PageScope{std::vector<std::string>{"hautes-alpes-gap"}}; }

std::string Refusal(const PullPage& page, const PageScope& scope = Gap()) {
  Status s = CheckPulledPage(page, scope);
  if (s.ok()) return "";
  CHECK(s.error().code == ErrorCode::kProtocol);
  return s.error().message;
}

}  // namespace

TEST_CASE("a page of valid records of the device's territories passes", "[pull_checks]") {
  CHECK(Refusal(PageOf({ACase().Version(20).With("status", "salarie").record()})) == "");
  schema::Record second = ACase().Version(20).record();
  second.id = kOther;
  CHECK(Refusal(PageOf({ACase().Version(12).record(), second})) == "");
}

TEST_CASE("a pulled value that a local write would refuse refuses the page, naming record and field", "[pull_checks]") {
  auto [field, value, why] = GENERATE(table<std::string, std::string, std::string>({
      {"birth_date", "1990-13-45", "n'est pas une date qui existe"},
      {"status", "hacker", "n'est pas une valeur permise"},
      {"service_level", "99", "« 99 » est hors des valeurs permises (de 1 à 3)"},
      {"last_name", std::string(1 << 20, 'x'), "dépasse 100 octets"},
      {"merged_into", "ailleurs", "UUID"},
      {"first_name", "In\x1b[2Jès", "une seule ligne"},
  }));
  const std::string message = Refusal(PageOf({ACase().Version(12).With(field, value).record()}));
  CHECK_THAT(message, Catch::Contains("cases, fiche 0190a1b2-0000-7000-8000-000000000001") && Catch::Contains(field) &&
                          Catch::Contains(why));
}

TEST_CASE("a case of another territory refuses the page; an unknown scope is not checked", "[pull_checks]") {
  PullPage page = PageOf({ACase().Version(12).With("territory", "embrun").record()});
  CHECK_THAT(Refusal(page), Catch::Contains("« embrun » n'est pas un des territoires de cet appareil"));
  CHECK_THAT(Refusal(PageOf({ACase().Version(12).With("territory", std::nullopt).record()})),
             Catch::Contains("territory"));
  CHECK(Refusal(page, PageScope{}) == "");
}

TEST_CASE("versions and sequence numbers outside the page, and a record twice, refuse the page", "[pull_checks]") {
  CHECK_THAT(Refusal(PageOf({ACase().Version(-3).record()})), Catch::Contains("version -3"));
  CHECK_THAT(Refusal(PageOf({ACase().Version(10).record()})), Catch::Contains("version 10 hors de la page"));
  CHECK_THAT(Refusal(PageOf({ACase().Version(21).record()})), Catch::Contains("version 21"));
  CHECK_THAT(Refusal(PageOf({ACase().Version(15).record(), ACase().Version(12).record()})),
             Catch::Contains("donnée deux fois, aux versions 12 et 15"));

  PullPage removal = PageOf({});
  removal.removed.push_back({"cases", kOther, -1});
  CHECK_THAT(Refusal(removal), Catch::Contains("séquence -1"));
  removal.removed[0] = {"cases", "pas-un-id", 12};
  CHECK_THAT(Refusal(removal), Catch::Contains("UUID"));

  PullPage notice = PageOf({});
  ConflictNotice n;
  n.id = 3;
  n.kind = "field";
  n.status = "open";
  n.table = "cases";
  n.record_id = kOther;
  n.field = "status";
  n.seq = 12;
  notice.conflicts.push_back(n);
  CHECK(Refusal(notice) == "");
  notice.conflicts[0].field = "password";
  CHECK_THAT(Refusal(notice), Catch::Contains("password"));
  notice.conflicts[0].field = "status";
  notice.conflicts[0].seq = 30;
  CHECK_THAT(Refusal(notice), Catch::Contains("séquence 30"));
}
