// sync/json_sax.h against nlohmann::json::sax_parse, the reader it replaces: on every text both
// accept or both refuse, and on an accepted text both give the same events with the same values.
// The texts: edge cases written by hand, then thousands of mutations (bytes changed, inserted,
// deleted; cuts) of a push request, a pull page and documents with escapes and numbers.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sync/json_sax.h"

using relais::sync::ParseJsonSax;

namespace {

// Writes each event as a line; both readers are given one of these.
struct Recorder {
  std::string log;
  bool refuse_at_key = false;  // returns false on the first key, to see the reader stop

  bool null() { return Add("null"); }
  bool boolean(bool b) { return Add(b ? "true" : "false"); }
  bool number_integer(int64_t n) { return Add("int " + std::to_string(n)); }
  bool number_unsigned(uint64_t n) { return Add("unsigned " + std::to_string(n)); }
  bool number_float(double d, const std::string& text) {
    char value[64];
    std::snprintf(value, sizeof value, "%a", d);
    return Add("float " + text + " " + value);
  }
  bool string(std::string& s) {
    bool ok = Add("string " + s);
    s = "moved";  // a reader may take the text: the next one must not see it
    return ok;
  }
  bool binary(nlohmann::json::binary_t&) { return Add("binary"); }
  bool start_object(std::size_t n) { return Add("{ " + std::to_string(n)); }
  bool end_object() { return Add("}"); }
  bool start_array(std::size_t n) { return Add("[ " + std::to_string(n)); }
  bool end_array() { return Add("]"); }
  bool key(std::string& k) {
    Add("key " + k);
    k = "moved";
    return !refuse_at_key;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  bool Add(const std::string& line) {
    log += line;
    log += '\n';
    return true;
  }
};

struct Outcome {
  bool accepted;
  std::string log;
};

Outcome Nlohmann(const std::string& text) {
  Recorder r;
  bool ok = nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &r);
  return {ok, ok ? r.log : ""};
}

Outcome Ours(const std::string& text) {
  Recorder r;
  bool ok = ParseJsonSax(text, r);
  return {ok, ok ? r.log : ""};
}

// Checks one text, naming it in the failure.
void Same(const std::string& text) {
  INFO("text: " << nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  Outcome theirs = Nlohmann(text);
  Outcome ours = Ours(text);
  REQUIRE(ours.accepted == theirs.accepted);
  REQUIRE(ours.log == theirs.log);
}

const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {
      R"({"batch":"b-1","changes":[{"base":{},"base_version":0,"hlc":"1700000000000-0001-dev","id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","op":"create","record":"c1","table":"cases","values":{"first_name":"Anaïs","last_name":"Lefèvre","service_level":2,"notes":null}}],"protocol":1})",
      R"({"changes":[{"columns":{"id":["a","b"],"last_name":["Dupré","Nguyễn"],"service_level":[1,null]},"run":"create","table":"cases"}],"more":false,"next":"1234","now":1700000000000})",
      R"([1,-1,0,-0,1.5,-2.25e3,1E+2,1e-2,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809,9223372036854775807,9223372036854775808,true,false,null])",
      R"({"e":"\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00\u0000","k\u00e9y":[],"o":{},"n":[[[]],{"a":{"b":[{}]}}]})",
      "\xEF\xBB\xBF {\"bom\" : [ 1 , 2 ]\r\n}\t",
  };
  return seeds;
}

}  // namespace

TEST_CASE("json_sax reads and refuses exactly what nlohmann does, on edge cases", "[json_sax]") {
  const std::vector<std::string> cases = {
      "",
      " ",
      "{",
      "}",
      "[",
      "]",
      "[]",
      "{}",
      "[,]",
      "{,}",
      "[1,]",
      "{\"a\":1,}",
      "{\"a\"}",
      "{\"a\":}",
      "{1:2}",
      "{\"a\" 1}",
      "[1 2]",
      "[1,,2]",
      "1",
      "-",
      "-0",
      "-01",
      "01",
      "1.",
      ".5",
      "1e",
      "1e+",
      "1e5",
      "1E-5",
      "0.0e0",
      "1e400",
      "-1e400",
      "1e-400",
      "123456789012345678901234567890",
      "-123456789012345678901234567890",
      "00",
      "true",
      "false",
      "null",
      "tru",
      "truex",
      "nul",
      "True",
      "NULL",
      "\"\"",
      "\"",
      "\"\\\"",
      "\"\\x\"",
      "\"\\u12\"",
      "\"\\u12G4\"",
      "\"\\ud800\"",
      "\"\\udc00\"",
      "\"\\ud800\\u0041\"",
      "\"\\ud800\\udbff\"",
      "\"\\ud83d\\ude00\"",
      std::string("\"a\0b\"", 5),
      std::string("\0", 1),
      "\"\x1f\"",
      "\"\x7f\"",
      "\"\xc3\xa9\"",
      "\"\xc3\"",
      "\"\xc0\xaf\"",
      "\"\xe0\x80\xaf\"",
      "\"\xed\xa0\x80\"",
      "\"\xf4\x90\x80\x80\"",
      "\"\xf0\x9f\x98\x80\"",
      "\"\xff\"",
      "\"\xe2\x82\"",
      "\xEF\xBB\xBF",
      "\xEF\xBB\xBF[]",
      "\xEF\xBB[]",
      " \xEF\xBB\xBF[]",
      "[] ",
      "[] x",
      "[][]",
      "\x0b[]",
      "\f[]",
      "{\"a\":1}{}",
      "/* c */ []",
      "[\"\\/\"]",
      "[-]",
      "[--1]",
      "[+1]",
      "[0x10]",
      "[1.5e3.2]",
      "[Infinity]",
      "[NaN]",
      "{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}",
  };
  for (const std::string& text : cases) Same(text);
  for (const std::string& text : Seeds()) {
    Same(text);
    REQUIRE(Ours(text).accepted);
  }
  // The one difference: nlohmann takes a NUL byte outside a string for the end of the text and
  // ignores what follows; here it is a byte that has no place there.
  CHECK(Nlohmann(std::string("[1]\0junk", 8)).accepted);
  CHECK_FALSE(Ours(std::string("[1]\0junk", 8)).accepted);
  CHECK_FALSE(Ours(std::string("[1]\0", 4)).accepted);
  // Deep nesting: no recursion to run out of.
  Same(std::string(100000, '[') + std::string(100000, ']'));
  Same(std::string(100000, '[') + std::string(99999, ']'));
}

TEST_CASE("json_sax agrees with nlohmann on mutated texts", "[json_sax]") {
  std::mt19937 rng(20261202);
  const std::string alphabet = "{}[]\",:\\/ -+.0123456789eEtrufalsn\x01\x7f\xc3\xa9\xed\xa0\xf0\x9f";
  size_t accepted = 0, refused = 0;
  for (const std::string& seed : Seeds()) {
    for (int i = 0; i < 3000; ++i) {
      std::string text = seed;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !text.empty(); ++e) {
        const size_t at = rng() % text.size();
        switch (rng() % 4) {
          case 0:
            text[at] = alphabet[rng() % alphabet.size()];
            break;
          case 1:
            text.insert(at, 1, alphabet[rng() % alphabet.size()]);
            break;
          case 2:
            text.erase(at, 1);
            break;
          case 3:
            text.resize(at);
            break;
        }
      }
      Same(text);
      (Nlohmann(text).accepted ? accepted : refused)++;
    }
  }
  // Both sides of the line were tried.
  CHECK(accepted > 500);
  CHECK(refused > 5000);
}

TEST_CASE("json_sax stops as soon as the handler says so", "[json_sax]") {
  Recorder r;
  r.refuse_at_key = true;
  CHECK_FALSE(ParseJsonSax(R"({"a":1,"b":2})", r));
  CHECK(r.log == "{ 18446744073709551615\nkey a\n");
}
