// libFuzzer target: the wire decoders of sync/codec.h on arbitrary bytes (pull pages in both layouts). Every decoder
// must return a message or an error (never crash, throw or read out of bounds), and what it accepts must survive a
// round trip: encoding the decoded message and decoding it again gives the same message. The encoders write JSON text
// directly (sync/json_text.h): what they write must be exactly what a JSON DOM dumps for it, since the centre hashes a
// push request's text to recognise a retried batch.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "schema/model.h"
#include "sync/codec.h"
#include "sync/push_runs.h"
#include "tests/fuzz/fuzz_check.h"

using namespace relais;
using relais::fuzz::Require;

namespace {
bool AsTheDomDumps(const std::string& wire) {
  auto doc = nlohmann::json::parse(wire, nullptr, false);
  return !doc.is_discarded() && doc.dump() == wire;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto request = sync::DecodePushRequest(text)) {
    const std::string wire = sync::EncodePushRequest(*request);
    auto again = sync::DecodePushRequest(wire);
    Require(again.ok(), "an encoded push request decodes", again.ok() ? "" : again.error().message);
    Require(sync::EncodePushRequest(*again) == wire, "a push request round-trips");
    Require(AsTheDomDumps(wire), "a push request is written as the DOM dumps it");
    Require(request->changes.size() <= sync::kMaxChangesPerPush, "the change limit holds");
    auto as_runs = sync::DecodePushRequest(sync::EncodePushRequestRuns(*request));
    Require(as_runs.ok(), "a push request written with create runs decodes",
            as_runs.ok() ? "" : as_runs.error().message);
    Require(sync::EncodePushRequest(*as_runs) == wire, "a push request written with create runs is the same batch");
  }

  if (auto response = sync::DecodePushResponse(text)) {
    const std::string wire = sync::EncodePushResponse(*response);
    auto again = sync::DecodePushResponse(wire);
    Require(again.ok(), "an encoded push answer decodes", again.ok() ? "" : again.error().message);
    Require(sync::EncodePushResponse(*again) == wire, "a push answer round-trips");
    Require(AsTheDomDumps(wire), "a push answer is written as the DOM dumps it");
  }

  if (auto page = sync::DecodePullPage(text)) {
    // A page goes back only when it is the empty last page of a centre behind the device's cursor.
    Require(page->next >= page->since ||
                (!page->more && page->records.empty() && page->removed.empty() && page->conflicts.empty()),
            "a page goes backwards only when it is empty and last");
    const std::string wire = sync::EncodePullPage(*page);
    auto again = sync::DecodePullPage(wire);
    Require(again.ok(), "an encoded pull page decodes", again.ok() ? "" : again.error().message);
    Require(sync::EncodePullPage(*again) == wire, "a pull page round-trips");
    Require(AsTheDomDumps(wire), "a pull page is written as the DOM dumps it");
    const std::string by_column = sync::EncodePullPage(*page, sync::PullLayout::kColumns);
    Require(AsTheDomDumps(by_column), "a page by column is written as the DOM dumps it");
    auto from_columns = sync::DecodePullPage(by_column);
    Require(from_columns.ok(), "a page by column decodes", from_columns.ok() ? "" : from_columns.error().message);
    Require(sync::EncodePullPage(*from_columns) == wire, "a page by column holds what the rows hold");
  }

  Error error = sync::DecodeError(text, ErrorCode::kHttp);
  Require(sync::ErrorCodeName(error.code) != nullptr, "an error has a code");

  for (const schema::Table& table : schema::Tables()) {
    if (auto values = sync::DecodeRecordValues(table, text)) {
      Require(values->size() == table.fields.size(), "one value per field");
      Require(AsTheDomDumps(sync::EncodeRecordValues(table, *values)), "a record is written as the DOM dumps it");
    }
  }
  return 0;
}
