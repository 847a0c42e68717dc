#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "base/gzip.h"
#include "base/ids.h"
#include "base/text.h"

using namespace relais;

TEST_CASE("folding removes accents and case from French names", "[text]") {
  CHECK(FoldForMatch("Élodie") == "elodie");
  CHECK(FoldForMatch("Briançon") == "briancon");
  CHECK(FoldForMatch("LEFÈVRE") == "lefevre");
  CHECK(FoldForMatch("Œuvre Noël") == "oeuvre noel");
}

TEST_CASE("folding drops combining marks: a name folds the same in either Unicode form", "[text]") {
  // "Éloïse Lefèvre" decomposed (NFD: letter, then its accent), as macOS and some browsers type it.
  const std::string nfd = "E\u0301loi\u0308se Lefe\u0300vre";
  CHECK(FoldForMatch(nfd) == "eloise lefevre");
  CHECK(FoldForMatch(nfd) == FoldForMatch("Éloïse Lefèvre"));
}

TEST_CASE("text is put in NFC; text already in it is left alone", "[text]") {
  std::string nfd = "E\u0301loi\u0308se Lefe\u0300vre";
  CHECK(ToNfcInPlace(nfd));
  CHECK(nfd == "Éloïse Lefèvre");
  std::string nfc = "Éloïse Lefèvre";
  CHECK_FALSE(ToNfcInPlace(nfc));
  CHECK(nfc == "Éloïse Lefèvre");
  std::string ascii = "Martin";
  CHECK_FALSE(ToNfcInPlace(ascii));
  std::string hangul = "\u1112\u1161\u11ab";  // conjoining jamo: beyond the fast path, composed
  CHECK(ToNfcInPlace(hangul));
  CHECK(hangul == "\ud55c");
  std::string greek = "\u03ac";  // ά, NFC already, beyond the fast path
  CHECK_FALSE(ToNfcInPlace(greek));
  std::string bad("e\xcc", 2);  // not UTF-8: left for validation to refuse
  CHECK_FALSE(ToNfcInPlace(bad));
  CHECK(bad == std::string("e\xcc", 2));
}

TEST_CASE("invalid UTF-8 is detected", "[text]") {
  CHECK(IsValidUtf8("Névache"));
  CHECK_FALSE(IsValidUtf8(std::string("\xc3\x28", 2)));
  CHECK_FALSE(IsValidUtf8(std::string("\xed\xa0\x80", 3)));  // a UTF-16 surrogate
  CHECK_FALSE(IsValidUtf8(std::string("\xc0\xaf", 2)));      // an overlong '/'
}

TEST_CASE("a bad byte is found wherever it sits in long ASCII text", "[text]") {
  // ASCII is checked eight bytes at a time: the fault may sit in a word, at its edges or in the tail.
  for (size_t at = 0; at < 37; ++at) {
    std::string text(37, 'a');  // four words and a tail of five
    text[at] = '\xff';
    INFO("bad byte at " << at);
    CHECK_FALSE(IsValidUtf8(text));
  }
  for (size_t at = 0; at + 2 <= 37; ++at) {
    std::string text(37, 'a');
    text.replace(at, 2, "\xc3\xa9");  // é across every position, word edges included
    INFO("é at " << at);
    CHECK(IsValidUtf8(text));
    text[at + 1] = 'a';  // its lead byte alone
    CHECK_FALSE(IsValidUtf8(text));
  }
}

TEST_CASE("UUIDv7 ids are well formed and sort by time", "[ids]") {
  std::string a = NewUuidV7(1700000000000);
  std::string b = NewUuidV7(1700000000001);
  CHECK(IsUuid(a));
  CHECK(a[14] == '7');
  CHECK(a.substr(0, 13) == "018bcfe5-6800");  // the 48 bits of the millisecond, in hex
  CHECK(b.substr(0, 13) == "018bcfe5-6801");
  CHECK(a < b);
  CHECK_FALSE(IsUuid("not-a-uuid"));
}

TEST_CASE("ids of one process are strictly increasing and differ from the one before in a few hex digits", "[ids]") {
  std::vector<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.push_back(NewUuidV7(1700000000000 + i / 100));
  ids.push_back(NewUuidV7(1600000000000));  // a clock that went back: the last millisecond is kept
  size_t changed_digits = 0;
  for (size_t i = 1; i < ids.size(); ++i) {
    INFO(ids[i - 1] << " then " << ids[i]);
    REQUIRE(ids[i - 1] < ids[i]);
    REQUIRE(IsUuid(ids[i]));
    CHECK(ids[i][14] == '7');                                          // version 7
    CHECK(std::string("89ab").find(ids[i][19]) != std::string::npos);  // RFC 9562 variant
    CHECK(ids[i].substr(28) == ids[0].substr(28));                     // the process's remainder
    for (size_t k = 0; k < ids[i].size(); ++k) changed_digits += ids[i][k] != ids[i - 1][k];
  }
  CHECK(ids.back().substr(0, 13) == ids[ids.size() - 2].substr(0, 13));
  // A counter step changes one digit, a carry a few more; a new millisecond one or two.
  CHECK(static_cast<double>(changed_digits) / static_cast<double>(ids.size() - 1) < 2.0);
}

TEST_CASE("ids drawn in bulk are all different, and a forked child does not repeat its parent's", "[ids]") {
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) seen.insert(NewUuidV7(1700000000000));  // several refills of the pool
  CHECK(seen.size() == 5000);

  int pipe_ends[2];
  REQUIRE(pipe(pipe_ends) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::string id = NewUuidV7(1700000000000);
    ssize_t written = write(pipe_ends[1], id.data(), id.size());
    _exit(written == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(pipe_ends[1]);
  std::string parent_id = NewUuidV7(1700000000000);
  std::string child_id(36, '\0');
  ssize_t got = read(pipe_ends[0], child_id.data(), child_id.size());
  close(pipe_ends[0]);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(got == 36);
  CHECK(IsUuid(child_id));
  CHECK(child_id != parent_id);
  CHECK(child_id.substr(28) != parent_id.substr(28));  // the child drew its own remainder
}

TEST_CASE("tokens are hashed with SHA-256", "[ids]") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("gzip round-trips and refuses a bomb beyond the limit", "[gzip]") {
  std::string text(1 << 20, 'a');
  std::string packed = GzipCompress(text);
  CHECK(packed.size() < 10000);
  auto back = GzipDecompress(packed, 2 << 20);
  REQUIRE(back.ok());
  CHECK(*back == text);
  auto bomb = GzipDecompress(packed, 1000);
  REQUIRE_FALSE(bomb.ok());
  CHECK(bomb.error().code == ErrorCode::kTooLarge);
  auto truncated = GzipDecompress(packed.substr(0, packed.size() / 2), 2 << 20);
  CHECK_FALSE(truncated.ok());
}

TEST_CASE("gzip made by libdeflate at every level is one standard member zlib reads back", "[gzip]") {
  std::string text;
  for (int i = 0; text.size() < (300 << 10); ++i) {
    text += "[\"0193" + std::to_string(i * 7919 % 100003) + "\",\"Névache\",\"Zoé\",\"2026-11-" +
            std::to_string(10 + i % 19) + "\"],";
  }
  size_t fastest = 0;
  for (int level : {0, 1, 5, 9, 12, 13}) {  // out of range is clamped to 1..12
    const std::string packed = GzipCompress(text, level);
    CAPTURE(level);
    REQUIRE(packed.size() > 18);
    CHECK(static_cast<unsigned char>(packed[0]) == 0x1f);
    CHECK(static_cast<unsigned char>(packed[1]) == 0x8b);
    auto back = GzipDecompress(packed, 1 << 20);  // zlib
    REQUIRE(back.ok());
    CHECK(*back == text);
    if (level == 1) fastest = packed.size();
    if (level == 12) CHECK(packed.size() < fastest);
  }
  auto empty = GzipDecompress(GzipCompress(""), 10);
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}
