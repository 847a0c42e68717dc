// libFuzzer target: the wire decoders of sync/codec.h on arbitrary bytes. Every decoder must return
// a message or an error (never crash, throw or read out of bounds), and what it accepts must survive
// a round trip: encoding the decoded message and decoding it again gives the same message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "schema/model.h"
#include "sync/codec.h"
#include "tests/fuzz/fuzz_check.h"

using namespace relais;
using relais::fuzz::Require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto request = sync::DecodePushRequest(text)) {
    const std::string wire = sync::EncodePushRequest(*request);
    auto again = sync::DecodePushRequest(wire);
    Require(again.ok(), "an encoded push request decodes", again.ok() ? "" : again.error().message);
    Require(sync::EncodePushRequest(*again) == wire, "a push request round-trips");
    Require(request->changes.size() <= sync::kMaxChangesPerPush, "the change limit holds");
  }

  if (auto response = sync::DecodePushResponse(text)) {
    const std::string wire = sync::EncodePushResponse(*response);
    auto again = sync::DecodePushResponse(wire);
    Require(again.ok(), "an encoded push answer decodes", again.ok() ? "" : again.error().message);
    Require(sync::EncodePushResponse(*again) == wire, "a push answer round-trips");
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
  }

  Error error = sync::DecodeError(text, ErrorCode::kHttp);
  Require(sync::ErrorCodeName(error.code) != nullptr, "an error has a code");

  for (const schema::Table& table : schema::Tables()) {
    if (auto values = sync::DecodeRecordValues(table, text)) {
      Require(values->size() == table.fields.size(), "one value per field");
      (void)sync::EncodeRecordValues(table, *values);
    }
  }
  return 0;
}
