// SPDX-License-Identifier: BSD-3-Clause
// Reply encoding, byte for byte. Every expected frame below was captured from memcached
// 1.6.18 by tests/probes/binary_probe.py; the comment names the probe case in
// tests/probes/binary_probe.out.txt. The request is rebuilt, parsed, and answered with the
// same CAS, flags and value memcached used.
#include <gtest/gtest.h>

#include <string>

#include "server/protocol/binary_codec.h"
#include "tests/unit/server/protocol/binary_test_util.h"

namespace warmcache::protocol::binary {
namespace {

using testing::DeltaExtras;
using testing::FromHex;
using testing::Req;
using testing::StoreExtras;
using testing::ToHex;

// Parses a request that must be valid.
Request Parsed(const std::string& wire, std::string* storage) {
  *storage = wire;
  Request request;
  const ParseResult r = Parse(*storage, &request, ParseLimits{});
  EXPECT_EQ(ParseStatus::kOk, r.status) << ToHex(wire);
  return request;
}

std::string Head(const char* buf, size_t n) { return std::string(buf, n); }

TEST(BinaryRepliesTest, GetMiss) {
  // "get miss": opaque 0x11223344.
  std::string wire;
  const Request get = Parsed(Req(Opcode::kGet, "nokey", "", "", 0x11223344), &wire);
  char buf[kMaxResponseHead];
  EXPECT_EQ(ToHex(FromHex("81 00 00 00 00 00 00 01 00 00 00 09 11 22 33 44 00 00 00 00 00 00 "
                          "00 00 4e 6f 74 20 66 6f 75 6e 64")),
            ToHex(Head(buf, EncodeNotFound(get, buf))));
}

TEST(BinaryRepliesTest, GetKAndGatKMissCarryTheKeyAndNoMessage) {
  // "getk miss" (opaque 2), "gat family miss" gatk (opaque 3).
  std::string wire;
  char buf[kMaxResponseHead];
  const Request getk = Parsed(Req(Opcode::kGetK, "nokey", "", "", 2), &wire);
  EXPECT_EQ(ToHex(FromHex("81 0c 00 05 00 00 00 01 00 00 00 05 00 00 00 02 00 00 00 00 00 00 "
                          "00 00 6e 6f 6b 65 79")),
            ToHex(Head(buf, EncodeNotFound(getk, buf))));
  const Request gatk = Parsed(Req(Opcode::kGatK, "t0", testing::Be32(100), "", 3), &wire);
  EXPECT_EQ(ToHex(FromHex("81 23 00 02 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 00 00 00 "
                          "00 00 74 30")),
            ToHex(Head(buf, EncodeNotFound(gatk, buf))));
  const Request gat = Parsed(Req(Opcode::kGat, "t0", testing::Be32(100), "", 1), &wire);
  EXPECT_EQ(ToHex(FromHex("81 1d 00 00 00 00 00 01 00 00 00 09 00 00 00 01 00 00 00 00 00 00 "
                          "00 00 4e 6f 74 20 66 6f 75 6e 64")),
            ToHex(Head(buf, EncodeNotFound(gat, buf))));
}

TEST(BinaryRepliesTest, GetFamilyHits) {
  // "get family hit": g1 = "hello", flags 0xdeadbeef, CAS 1; the value is sent separately.
  std::string wire;
  char buf[kMaxResponseHead];
  const Request get = Parsed(Req(Opcode::kGet, "g1", "", "", 0x0a), &wire);
  EXPECT_EQ(ToHex(FromHex("81 00 00 00 04 00 00 00 00 00 00 09 00 00 00 0a 00 00 00 00 00 00 "
                          "00 01 de ad be ef")),
            ToHex(Head(buf, EncodeValueHeader(get, 0xdeadbeef, 1, 5, buf))));
  const Request getq = Parsed(Req(Opcode::kGetQ, "g1", "", "", 0x0b), &wire);
  EXPECT_EQ(ToHex(FromHex("81 09 00 00 04 00 00 00 00 00 00 09 00 00 00 0b 00 00 00 00 00 00 "
                          "00 01 de ad be ef")),
            ToHex(Head(buf, EncodeValueHeader(getq, 0xdeadbeef, 1, 5, buf))));
  const Request getk = Parsed(Req(Opcode::kGetK, "g1", "", "", 0x0c), &wire);
  EXPECT_EQ(ToHex(FromHex("81 0c 00 02 04 00 00 00 00 00 00 0b 00 00 00 0c 00 00 00 00 00 00 "
                          "00 01 de ad be ef 67 31")),
            ToHex(Head(buf, EncodeValueHeader(getk, 0xdeadbeef, 1, 5, buf))));
  const Request getkq = Parsed(Req(Opcode::kGetKQ, "g1", "", "", 0x0d), &wire);
  EXPECT_EQ(ToHex(FromHex("81 0d 00 02 04 00 00 00 00 00 00 0b 00 00 00 0d 00 00 00 00 00 00 "
                          "00 01 de ad be ef 67 31")),
            ToHex(Head(buf, EncodeValueHeader(getkq, 0xdeadbeef, 1, 5, buf))));
}

TEST(BinaryRepliesTest, GatKHitAndTouch) {
  // "gat family hit": t2 = "val", flags 3, CAS 45. "touch hit/miss": flags only, CAS 44.
  std::string wire;
  char buf[kMaxResponseHead];
  const Request gatkq = Parsed(Req(Opcode::kGatKQ, "t2", testing::Be32(100), "", 4), &wire);
  EXPECT_EQ(ToHex(FromHex("81 24 00 02 04 00 00 00 00 00 00 09 00 00 00 04 00 00 00 00 00 00 "
                          "00 2d 00 00 00 03 74 32")),
            ToHex(Head(buf, EncodeValueHeader(gatkq, 3, 45, 3, buf))));
  const Request touch = Parsed(Req(Opcode::kTouch, "t1", testing::Be32(100), "", 1), &wire);
  EXPECT_EQ(ToHex(FromHex("81 1c 00 00 04 00 00 00 00 00 00 04 00 00 00 01 00 00 00 00 00 00 "
                          "00 2c 00 00 00 03")),
            ToHex(Head(buf, EncodeValueHeader(touch, 3, 44, 0, buf))));
}

TEST(BinaryRepliesTest, StoreSuccessCarriesTheNewCas) {
  // "set success": opaque 0xaa, CAS 4. "add new/existing": CAS 10.
  std::string wire;
  char buf[kHeaderSize];
  const Request set = Parsed(Req(Opcode::kSet, "s1", StoreExtras(7, 0), "v", 0xaa), &wire);
  ASSERT_EQ(kHeaderSize, EncodeSuccess(set, 4, buf));
  EXPECT_EQ(ToHex(FromHex("81 01 00 00 00 00 00 00 00 00 00 00 00 00 00 aa 00 00 00 00 00 00 "
                          "00 04")),
            ToHex(Head(buf, kHeaderSize)));
  const Request add = Parsed(Req(Opcode::kAdd, "a1", StoreExtras(0, 0), "x", 1), &wire);
  EncodeSuccess(add, 10, buf);
  EXPECT_EQ(ToHex(FromHex("81 02 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 "
                          "00 0a")),
            ToHex(Head(buf, kHeaderSize)));
}

TEST(BinaryRepliesTest, BodilessSuccesses) {
  // "delete hit/miss" (opaque 1, CAS 0), "flush no extras" (opaque 1), "noop" (0x1234),
  // "quit" (0x77).
  std::string wire;
  char buf[kHeaderSize];
  EncodeSuccess(Parsed(Req(Opcode::kDelete, "d1", "", "", 1), &wire), 0, buf);
  EXPECT_EQ("81 04 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00",
            ToHex(Head(buf, kHeaderSize)));
  EncodeSuccess(Parsed(Req(Opcode::kFlush, "", "", "", 1), &wire), 0, buf);
  EXPECT_EQ("81 08 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00",
            ToHex(Head(buf, kHeaderSize)));
  EncodeSuccess(Parsed(Req(Opcode::kNoop, "", "", "", 0x1234), &wire), 0, buf);
  EXPECT_EQ("81 0a 00 00 00 00 00 00 00 00 00 00 00 00 12 34 00 00 00 00 00 00 00 00",
            ToHex(Head(buf, kHeaderSize)));
  EncodeSuccess(Parsed(Req(Opcode::kQuit, "", "", "", 0x77), &wire), 0, buf);
  EXPECT_EQ("81 07 00 00 00 00 00 00 00 00 00 00 00 00 00 77 00 00 00 00 00 00 00 00",
            ToHex(Head(buf, kHeaderSize)));
}

TEST(BinaryRepliesTest, Counter) {
  // "incr miss creates initial": 10 with CAS 21 (0x15), then 15 with CAS 22.
  std::string wire;
  char buf[kCounterResponseSize];
  const Request incr = Parsed(Req(Opcode::kIncrement, "i1", DeltaExtras(5, 10, 0), "", 1), &wire);
  ASSERT_EQ(kCounterResponseSize, EncodeCounter(incr, 21, 10, buf));
  EXPECT_EQ(ToHex(FromHex("81 05 00 00 00 00 00 00 00 00 00 08 00 00 00 01 00 00 00 00 00 00 "
                          "00 15 00 00 00 00 00 00 00 0a")),
            ToHex(Head(buf, kCounterResponseSize)));
  const Request again = Parsed(Req(Opcode::kIncrement, "i1", DeltaExtras(5, 0, 0), "", 2), &wire);
  EncodeCounter(again, 22, 15, buf);
  EXPECT_EQ(ToHex(FromHex("81 05 00 00 00 00 00 00 00 00 00 08 00 00 00 02 00 00 00 00 00 00 "
                          "00 16 00 00 00 00 00 00 00 0f")),
            ToHex(Head(buf, kCounterResponseSize)));
}

TEST(BinaryRepliesTest, ErrorBodiesAreMemcachedsStrings) {
  char buf[kMaxErrorResponse];
  struct Case {
    const char* probe_case;
    Opcode opcode;
    ResponseStatus status;
    uint32_t opaque;
    const char* hex;
  };
  const Case cases[] = {
      {"set cas match/mismatch/missing", Opcode::kSet, ResponseStatus::kKeyExists, 3,
       "81 01 00 00 00 00 00 02 00 00 00 14 00 00 00 03 00 00 00 00 00 00 00 00 44 61 74 61 20 "
       "65 78 69 73 74 73 20 66 6f 72 20 6b 65 79 2e"},
      {"setq cas mismatch", Opcode::kSetQ, ResponseStatus::kKeyExists, 5,
       "81 11 00 00 00 00 00 02 00 00 00 14 00 00 00 05 00 00 00 00 00 00 00 00 44 61 74 61 20 "
       "65 78 69 73 74 73 20 66 6f 72 20 6b 65 79 2e"},
      {"set value 2MB > -I", Opcode::kSet, ResponseStatus::kTooLarge, 0x42,
       "81 01 00 00 00 00 00 03 00 00 00 0a 00 00 00 42 00 00 00 00 00 00 00 00 54 6f 6f 20 6c "
       "61 72 67 65 2e"},
      {"einval echoes opaque", Opcode::kGet, ResponseStatus::kInvalidArguments, 0xabcd,
       "81 00 00 00 00 00 00 04 00 00 00 11 00 00 ab cd 00 00 00 00 00 00 00 00 49 6e 76 61 6c "
       "69 64 20 61 72 67 75 6d 65 6e 74 73"},
      {"unknown opcode 0x50 empty", static_cast<Opcode>(0x50), ResponseStatus::kUnknownCommand,
       0xcafe,
       "81 50 00 00 00 00 00 81 00 00 00 0f 00 00 ca fe 00 00 00 00 00 00 00 00 55 6e 6b 6e 6f "
       "77 6e 20 63 6f 6d 6d 61 6e 64"},
      {"keylen+extlen > bodylen (set)", Opcode::kSet, ResponseStatus::kUnknownCommand, 0x66,
       "81 01 00 00 00 00 00 81 00 00 00 0f 00 00 00 66 00 00 00 00 00 00 00 00 55 6e 6b 6e 6f "
       "77 6e 20 63 6f 6d 6d 61 6e 64"},
      {"append/prepend miss", Opcode::kPrepend, ResponseStatus::kNotStored, 2,
       "81 0f 00 00 00 00 00 05 00 00 00 0b 00 00 00 02 00 00 00 00 00 00 00 00 4e 6f 74 20 73 "
       "74 6f 72 65 64 2e"},
      {"decrq non-numeric", Opcode::kDecrementQ, ResponseStatus::kDeltaBadValue, 9,
       "81 16 00 00 00 00 00 06 00 00 00 2e 00 00 00 09 00 00 00 00 00 00 00 00 4e 6f 6e 2d 6e "
       "75 6d 65 72 69 63 20 73 65 72 76 65 72 2d 73 69 64 65 20 76 61 6c 75 65 20 66 6f 72 20 "
       "69 6e 63 72 20 6f 72 20 64 65 63 72"},
      {"replaceq missing", Opcode::kReplaceQ, ResponseStatus::kKeyNotFound, 4,
       "81 13 00 00 00 00 00 01 00 00 00 09 00 00 00 04 00 00 00 00 00 00 00 00 4e 6f 74 20 66 "
       "6f 75 6e 64"},
  };
  for (const Case& c : cases) {
    const size_t n = EncodeError(c.opcode, c.status, c.opaque, buf);
    EXPECT_LE(n, kMaxErrorResponse);
    EXPECT_EQ(ToHex(FromHex(c.hex)), ToHex(Head(buf, n))) << c.probe_case;
  }
}

TEST(BinaryRepliesTest, MessagesNotSeenOnTheWireMatchMemcachedsSource) {
  // Out-of-memory and auth errors need conditions the probe cannot create.
  EXPECT_EQ("Out of memory", ErrorMessage(ResponseStatus::kOutOfMemory));
  EXPECT_EQ("Auth failure.", ErrorMessage(ResponseStatus::kAuthError));
  EXPECT_EQ("", ErrorMessage(ResponseStatus::kSuccess));
}

TEST(BinaryRepliesTest, VersionWithAppendResponse) {
  // "version": opaque 0x99, body "1.6.18".
  std::string wire;
  const Request version = Parsed(Req(Opcode::kVersion, "", "", "", 0x99), &wire);
  Response response;
  response.opcode = version.opcode;
  response.opaque = version.opaque;
  std::string out = "prefix";
  AppendResponse(out, response, "1.6.18");
  EXPECT_EQ("prefix" + FromHex("81 0b 00 00 00 00 00 00 00 00 00 06 00 00 00 99 00 00 00 00 00 "
                               "00 00 00 31 2e 36 2e 31 38"),
            out);
}

TEST(BinaryRepliesTest, StatPacketsAndTheEmptyEnd) {
  // "stat settings": opaque 0x31; maxbytes 67108864, maxconns 1024, then the end packet.
  const std::string expected =
      FromHex(
          "81 10 00 08 00 00 00 00 00 00 00 10 00 00 00 31 00 00 00 00 00 00 00 00 6d 61 "
          "78 62 79 74 65 73 36 37 31 30 38 38 36 34") +
      FromHex(
          "81 10 00 08 00 00 00 00 00 00 00 0c 00 00 00 31 00 00 00 00 00 00 00 00 6d 61 "
          "78 63 6f 6e 6e 73 31 30 32 34") +
      FromHex("81 10 00 00 00 00 00 00 00 00 00 00 00 00 00 31 00 00 00 00 00 00 00 00");
  std::string out;
  AppendStat(out, 0x31, "maxbytes", "67108864");
  AppendStat(out, 0x31, "maxconns", "1024");
  AppendStatsEnd(out, 0x31);
  EXPECT_EQ(ToHex(expected), ToHex(out));

  std::string converted;
  ASSERT_TRUE(AppendStatsFromText(converted, 0x31,
                                  "STAT maxbytes 67108864\r\nSTAT maxconns 1024\r\nEND\r\n"));
  EXPECT_EQ(ToHex(expected), ToHex(converted));
}

TEST(BinaryRepliesTest, StatsFromTextKeepsSpacesInValuesAndRejectsOtherText) {
  std::string out = "x";
  ASSERT_TRUE(AppendStatsFromText(out, 0, "STAT a b c\r\nEND\r\n"));
  std::string expected = "x";
  AppendStat(expected, 0, "a", "b c");
  AppendStatsEnd(expected, 0);
  EXPECT_EQ(expected, out);

  out = "x";
  ASSERT_TRUE(AppendStatsFromText(out, 7, "END\r\n"));  // "stat reset": just the end
  EXPECT_EQ(1 + kHeaderSize, out.size());
  for (const char* bad : {"", "RESET\r\n", "STAT a 1\r\n", "STAT a 1\r\nEND", "STAT\r\nEND\r\n",
                          "STAT a 1\r\nERROR\r\n", "END\r\nEND\r\n"}) {
    out = "x";
    EXPECT_FALSE(AppendStatsFromText(out, 0, bad)) << bad;
    EXPECT_EQ("x", out) << bad;
  }
}

TEST(BinaryRepliesTest, HeaderFieldsAreBigEndian) {
  Response response;
  response.opcode = Opcode::kGetK;
  response.status = ResponseStatus::kOutOfMemory;
  response.opaque = 0x01020304;
  response.cas = 0x0102030405060708;
  response.extras = "EXTR";
  response.key = "key";
  response.value_length = 0x10000;
  char buf[kMaxResponseHead];
  const size_t n = EncodeResponseHeader(response, buf);
  EXPECT_EQ(kHeaderSize + 7, n);
  EXPECT_EQ(ToHex(FromHex("81 0c 00 03 04 00 00 82 00 01 00 07 01 02 03 04 01 02 03 04 05 06 07 "
                          "08") +
                  "EXTRkey"),
            ToHex(Head(buf, n)));
}

}  // namespace
}  // namespace warmcache::protocol::binary
