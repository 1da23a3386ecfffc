// SPDX-License-Identifier: BSD-3-Clause
// Parsing of binary-protocol requests. The expected statuses and close decisions are what
// memcached 1.6.18 did with the same frames (tests/probes/binary_probe.out.txt, case names
// quoted in comments).
#include "server/protocol/binary_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/server/protocol/binary_test_util.h"

namespace warmcache::protocol::binary {
namespace {

using testing::DeltaExtras;
using testing::Frame;
using testing::FromHex;
using testing::Req;
using testing::StoreExtras;

class BinaryParseTest : public ::testing::Test {
 protected:
  ParseResult Parse(const std::string& wire) {
    input_ = wire;
    result_ = binary::Parse(input_, &request_, limits_);
    return result_;
  }
  ParseStatus Status(const std::string& wire) { return Parse(wire).status; }
  // Parses a frame memcached rejects; returns the status it answered with.
  ResponseStatus Error(const std::string& wire) {
    const ParseResult r = Parse(wire);
    EXPECT_EQ(ParseStatus::kError, r.status);
    return r.error;
  }
  const Request& request() const { return request_; }

  ParseLimits limits_{.max_value_len = 1024};
  std::string input_;
  Request request_;
  ParseResult result_;
};

// ---- Every opcode ------------------------------------------------------------------------

TEST_F(BinaryParseTest, CapturedGetRequest) {
  // The "get miss" request as sent by the probe.
  ASSERT_EQ(ParseStatus::kOk, Status(FromHex("80 00 00 05 00 00 00 00 00 00 00 05 11 22 33 44 "
                                             "00 00 00 00 00 00 00 00 6e 6f 6b 65 79")));
  EXPECT_EQ(Opcode::kGet, request().opcode);
  EXPECT_EQ(Command::kGet, request().command);
  EXPECT_FALSE(request().quiet);
  EXPECT_EQ("nokey", request().key);
  EXPECT_EQ(0x11223344u, request().opaque);
  EXPECT_EQ(29u, result_.consumed);
  EXPECT_EQ(0u, result_.swallow);
}

TEST_F(BinaryParseTest, GetFamily) {
  struct Case {
    Opcode op;
    Command command;
    bool quiet;
  };
  for (const Case c :
       {Case{Opcode::kGet, Command::kGet, false}, Case{Opcode::kGetQ, Command::kGet, true},
        Case{Opcode::kGetK, Command::kGetK, false}, Case{Opcode::kGetKQ, Command::kGetK, true}}) {
    ASSERT_EQ(ParseStatus::kOk, Status(Req(c.op, "key", "", "", 7, 99)));
    EXPECT_EQ(c.op, request().opcode);
    EXPECT_EQ(c.command, request().command);
    EXPECT_EQ(c.quiet, request().quiet);
    EXPECT_EQ("key", request().key);
    EXPECT_EQ(7u, request().opaque);
    EXPECT_EQ(99u, request().cas);  // memcached ignores it on a get
    EXPECT_EQ(27u, result_.consumed);
  }
}

TEST_F(BinaryParseTest, StoreCommandsDecodeFlagsExptimeAndValue) {
  struct Case {
    Opcode op;
    Command command;
    bool quiet;
  };
  for (const Case c :
       {Case{Opcode::kSet, Command::kSet, false}, Case{Opcode::kSetQ, Command::kSet, true},
        Case{Opcode::kAdd, Command::kAdd, false}, Case{Opcode::kAddQ, Command::kAdd, true},
        Case{Opcode::kReplace, Command::kReplace, false},
        Case{Opcode::kReplaceQ, Command::kReplace, true}}) {
    const std::string wire = Req(c.op, "k1", StoreExtras(0xdeadbeef, 0xffffffff), "hello", 3, 5);
    ASSERT_EQ(ParseStatus::kOk, Status(wire));
    EXPECT_EQ(c.command, request().command);
    EXPECT_EQ(c.quiet, request().quiet);
    EXPECT_EQ("k1", request().key);
    EXPECT_EQ("hello", request().value);
    EXPECT_EQ(5u, request().value_length);
    EXPECT_EQ(0xdeadbeefu, request().flags);
    EXPECT_EQ(0xffffffffu, request().exptime);  // unsigned, not -1
    EXPECT_EQ(5u, request().cas);
    EXPECT_EQ(8u, request().extras.size());
    EXPECT_FALSE(request().value_too_large);
    EXPECT_EQ(wire.size(), result_.consumed);
  }
}

TEST_F(BinaryParseTest, CapturedSetRequest) {
  // "get family hit": set g1 flags=0xdeadbeef exptime=0 value "hello" opaque 9.
  ASSERT_EQ(ParseStatus::kOk,
            Status(FromHex("80 01 00 02 08 00 00 00 00 00 00 0f 00 00 00 09 00 00 00 00 00 00 "
                           "00 00 de ad be ef 00 00 00 00 67 31 68 65 6c 6c 6f")));
  EXPECT_EQ(Command::kSet, request().command);
  EXPECT_EQ("g1", request().key);
  EXPECT_EQ("hello", request().value);
  EXPECT_EQ(0xdeadbeefu, request().flags);
  EXPECT_EQ(9u, request().opaque);
}

TEST_F(BinaryParseTest, AppendPrependCarryOnlyKeyAndValue) {
  for (const Opcode op : {Opcode::kAppend, Opcode::kAppendQ, Opcode::kPrepend, Opcode::kPrependQ}) {
    ASSERT_EQ(ParseStatus::kOk, Status(Req(op, "k", "", ">>", 0, 12)));
    const bool append = op == Opcode::kAppend || op == Opcode::kAppendQ;
    EXPECT_EQ(append ? Command::kAppend : Command::kPrepend, request().command);
    EXPECT_EQ(op == Opcode::kAppendQ || op == Opcode::kPrependQ, request().quiet);
    EXPECT_EQ(">>", request().value);
    EXPECT_EQ(12u, request().cas);
  }
  ASSERT_EQ(ParseStatus::kOk, Status(Req(Opcode::kAppend, "k")));  // "append empty value"
  EXPECT_EQ("", request().value);
}

TEST_F(BinaryParseTest, Delete) {
  ASSERT_EQ(ParseStatus::kOk, Status(Req(Opcode::kDelete, "d1", "", "", 1, 77)));
  EXPECT_EQ(Command::kDelete, request().command);
  EXPECT_EQ(77u, request().cas);
  ASSERT_EQ(ParseStatus::kOk, Status(Req(Opcode::kDeleteQ, "d1")));
  EXPECT_TRUE(request().quiet);
}

TEST_F(BinaryParseTest, IncrDecrDecodeDeltaInitialExptime) {
  for (const Opcode op :
       {Opcode::kIncrement, Opcode::kIncrementQ, Opcode::kDecrement, Opcode::kDecrementQ}) {
    const std::string wire = Req(op, "i1", DeltaExtras(5, 10, 0xffffffff));
    ASSERT_EQ(ParseStatus::kOk, Status(wire));
    const bool incr = op == Opcode::kIncrement || op == Opcode::kIncrementQ;
    EXPECT_EQ(incr ? Command::kIncrement : Command::kDecrement, request().command);
    EXPECT_EQ(op == Opcode::kIncrementQ || op == Opcode::kDecrementQ, request().quiet);
    EXPECT_EQ(5u, request().delta);
    EXPECT_EQ(10u, request().initial);
    EXPECT_EQ(Request::kNoAutoCreate, request().exptime);
    EXPECT_EQ(wire.size(), result_.consumed);
  }
  ASSERT_EQ(ParseStatus::kOk,
            Status(Req(Opcode::kIncrement, "i", DeltaExtras(UINT64_MAX, 1ull << 63, 100))));
  EXPECT_EQ(UINT64_MAX, request().delta);
  EXPECT_EQ(1ull << 63, request().initial);
  EXPECT_EQ(100u, request().exptime);
}

TEST_F(BinaryParseTest, TouchAndGatFamily) {
  struct Case {
    Opcode op;
    Command command;
    bool quiet;
  };
  for (const Case c :
       {Case{Opcode::kTouch, Command::kTouch, false}, Case{Opcode::kGat, Command::kGat, false},
        Case{Opcode::kGatQ, Command::kGat, true}, Case{Opcode::kGatK, Command::kGatK, false},
        Case{Opcode::kGatKQ, Command::kGatK, true}}) {
    ASSERT_EQ(ParseStatus::kOk, Status(Req(c.op, "t1", testing::Be32(100))));
    EXPECT_EQ(c.command, request().command);
    EXPECT_EQ(c.quiet, request().quiet);
    EXPECT_EQ("t1", request().key);
    EXPECT_EQ(100u, request().exptime);
  }
}

TEST_F(BinaryParseTest, FlushWithAndWithoutExptime) {
  ASSERT_EQ(ParseStatus::kOk, Status(Req(Opcode::kFlush)));
  EXPECT_EQ(Command::kFlush, request().command);
  EXPECT_EQ(0u, request().exptime);
  ASSERT_EQ(ParseStatus::kOk, Status(Req(Opcode::kFlush, "", testing::Be32(100))));
  EXPECT_EQ(100u, request().exptime);
  EXPECT_EQ(28u, result_.consumed);
  ASSERT_EQ(ParseStatus::kOk, Status(Req(Opcode::kFlushQ)));
  EXPECT_TRUE(request().quiet);
}

TEST_F(BinaryParseTest, BodilessCommands) {
  struct Case {
    Opcode op;
    Command command;
    bool quiet;
  };
  for (const Case c :
       {Case{Opcode::kNoop, Command::kNoop, false},
        Case{Opcode::kVersion, Command::kVersion, false},
        Case{Opcode::kQuit, Command::kQuit, false}, Case{Opcode::kQuitQ, Command::kQuit, true},
        Case{Opcode::kStat, Command::kStat, false}}) {
    ASSERT_EQ(ParseStatus::kOk, Status(Req(c.op, "", "", "", 0x1234)));
    EXPECT_EQ(c.command, request().command);
    EXPECT_EQ(c.quiet, request().quiet);
    EXPECT_EQ(0x1234u, request().opaque);
    EXPECT_EQ(kHeaderSize, result_.consumed);
  }
}

TEST_F(BinaryParseTest, StatWithKey) {
  ASSERT_EQ(ParseStatus::kOk, Status(Req(Opcode::kStat, "settings", "", "", 0x31)));
  EXPECT_EQ(Command::kStat, request().command);
  EXPECT_EQ("settings", request().key);
}

TEST_F(BinaryParseTest, DataTypeAndVbucketAreIgnored) {
  // "datatype and vbucket non-zero": memcached answers the get normally.
  Frame f{.opcode = 0x00, .key = "g1", .data_type = 1, .vbucket = 0xbeef};
  ASSERT_EQ(ParseStatus::kOk, Status(f.Bytes()));
  EXPECT_EQ("g1", request().key);
}

TEST_F(BinaryParseTest, KeysAreOpaqueBytes) {
  // "binary key with space and CRLF": stored and found.
  ASSERT_EQ(ParseStatus::kOk, Status(Req(Opcode::kGetK, std::string("a b\r\n\0", 6))));
  EXPECT_EQ(std::string("a b\r\n\0", 6), request().key);
}

// ---- Validation ----------------------------------------------------------------------------

TEST_F(BinaryParseTest, BadMagicClosesWithoutReply) {
  // "bad magic 0x81 after noop", "bad magic 0x00 after noop".
  for (uint8_t magic : {0x81, 0x00, 0x7f, 0xff}) {
    Frame f{.magic = magic, .opcode = 0x0a};
    const std::string wire = f.Bytes();
    // Not judged before the whole header is in ("noop after 23 bytes of garbage header").
    EXPECT_EQ(ParseStatus::kNeedMore, Status(wire.substr(0, kHeaderSize - 1)));
    EXPECT_EQ(ParseStatus::kClose, Status(wire)) << int{magic};
  }
}

TEST_F(BinaryParseTest, KeyAndExtrasBeyondBodyIsUnknownCommandAndClose) {
  // "keylen > bodylen": Unknown command, then memcached closes.
  Frame f{.opcode = 0x00, .key = "abcde", .body_length = 3};
  EXPECT_EQ(ResponseStatus::kUnknownCommand, Error(f.Bytes()));
  EXPECT_TRUE(result_.close_after_reply);
  EXPECT_EQ(kHeaderSize + 5, result_.consumed);
  // "keylen+extlen > bodylen (set)": the opaque is echoed.
  Frame set{.opcode = 0x01, .extras = StoreExtras(0, 0), .key = "abc", .opaque = 0x66};
  set.body_length = 9;
  EXPECT_EQ(ResponseStatus::kUnknownCommand, Error(set.Bytes()));
  EXPECT_EQ(Opcode::kSet, request().opcode);
  EXPECT_EQ(0x66u, request().opaque);
  // "keylen+extlen > bodylen beats key 251".
  Frame long_key{.opcode = 0x00, .key = std::string(251, 'k'), .body_length = 10};
  EXPECT_EQ(ResponseStatus::kUnknownCommand, Error(long_key.Bytes()));
}

TEST_F(BinaryParseTest, FramingErrorWaitsForTheKeyBytes) {
  // "keylen > bodylen header only": memcached says nothing until the key bytes arrive.
  Frame f{.opcode = 0x00, .key = "abcde", .body_length = 0};
  const std::string wire = f.Bytes();
  const ParseResult r = Parse(wire.substr(0, kHeaderSize));
  EXPECT_EQ(ParseStatus::kNeedMore, r.status);
  EXPECT_EQ(wire.size(), r.need);
}

TEST_F(BinaryParseTest, KeyLongerThan250IsInvalidForEveryOpcode) {
  const std::string k251(251, 'k');
  EXPECT_EQ(ParseStatus::kOk, Status(Req(Opcode::kGet, std::string(250, 'k'))));
  EXPECT_EQ(ResponseStatus::kInvalidArguments, Error(Req(Opcode::kGet, k251)));
  EXPECT_TRUE(result_.close_after_reply);
  EXPECT_EQ(ResponseStatus::kInvalidArguments,
            Error(Req(Opcode::kSet, k251, StoreExtras(0, 0), "v")));
  // "unknown opcode key 251": the key check comes before the opcode is looked at.
  EXPECT_EQ(ResponseStatus::kInvalidArguments, Error(Req(static_cast<Opcode>(0x50), k251)));
  EXPECT_TRUE(result_.close_after_reply);
}

TEST_F(BinaryParseTest, WrongLengthsForTheOpcodeAreInvalidArgumentsAndClose) {
  const std::string x4 = testing::Be32(1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"get with 4 extras", Req(Opcode::kGet, "g1", x4)},
      {"get without key", Req(Opcode::kGet)},
      {"get with a value", Req(Opcode::kGet, "g1", "", "xx")},
      {"getkq with a value", Req(Opcode::kGetKQ, "g1", "", "xx")},
      {"set extlen 0", Req(Opcode::kSet, "s3", "", "v")},
      {"set extlen 4", Req(Opcode::kSet, "s3", x4, "v")},
      {"set extlen 12", Req(Opcode::kSet, "s3", std::string(12, '\0'), "v")},
      {"set extlen 255", Req(Opcode::kSet, "k", std::string(255, '\0'), "v")},
      {"set without key", Req(Opcode::kSet, "", StoreExtras(0, 0), "v")},
      {"setq einval is not quiet", Req(Opcode::kSetQ, "s3", "", "v", 0x21)},
      {"delete with 4 extras", Req(Opcode::kDelete, "d3", x4)},
      {"delete with value", Req(Opcode::kDelete, "d3", "", "x")},
      {"delete without key", Req(Opcode::kDelete)},
      {"incr extlen 0", Req(Opcode::kIncrement, "i9")},
      {"incr with value", Req(Opcode::kIncrement, "i9", std::string(20, '\0'), "1")},
      {"incr without key", Req(Opcode::kIncrement, "", std::string(20, '\0'))},
      {"decrq extlen 8", Req(Opcode::kDecrementQ, "i9", std::string(8, '\0'))},
      {"append with 8 extras", Req(Opcode::kAppend, "ap3", std::string(8, '\0'), "x")},
      {"append without key", Req(Opcode::kAppend, "", "", "x")},
      {"quit with key", Req(Opcode::kQuit, "k")},
      {"quitq with value", Req(Opcode::kQuitQ, "", "", "v")},
      {"noop with key", Req(Opcode::kNoop, "k")},
      {"version with extras", Req(Opcode::kVersion, "", x4)},
      {"touch extlen 0", Req(Opcode::kTouch, "t1")},
      {"touch without key", Req(Opcode::kTouch, "", x4)},
      {"gatkq extlen 8", Req(Opcode::kGatKQ, "t1", std::string(8, '\0'))},
      {"stat with extras", Req(Opcode::kStat, "", x4)},
      {"flush extlen 8", Req(Opcode::kFlush, "", std::string(8, '\0'))},
      {"flush with key", Req(Opcode::kFlush, "k")},
      {"flush with value", Req(Opcode::kFlush, "", "", "v")},
      {"flushq extlen 4 plus value", Req(Opcode::kFlushQ, "", x4, "v")},
      {"sasl auth without key", Req(Opcode::kSaslAuth)},
      {"sasl list mechs with key", Req(Opcode::kSaslListMechs, "x")},
  };
  for (const auto& [name, wire] : cases) {
    const ParseResult r = Parse(wire);
    EXPECT_EQ(ParseStatus::kError, r.status) << name;
    EXPECT_EQ(ResponseStatus::kInvalidArguments, r.error) << name;
    EXPECT_TRUE(r.close_after_reply) << name;
    EXPECT_EQ(0u, r.swallow) << name;
    EXPECT_EQ(Command::kUnknown, request().command) << name;
  }
}

TEST_F(BinaryParseTest, InvalidArgumentsEchoOpcodeAndOpaque) {
  // "einval echoes opaque".
  EXPECT_EQ(ResponseStatus::kInvalidArguments,
            Error(Req(Opcode::kGet, "", testing::Be32(0), "", 0xabcd)));
  EXPECT_EQ(Opcode::kGet, request().opcode);
  EXPECT_EQ(0xabcdu, request().opaque);
}

TEST_F(BinaryParseTest, UnknownOpcodesStayOpenAndSwallowTheDeclaredBody) {
  // "unknown opcode 0x50 empty", "unknown opcode 0xff".
  for (uint8_t op : {0x1f, 0x25, 0x50, 0xff}) {
    Frame f{.opcode = op, .opaque = 0xcafe};
    EXPECT_EQ(ResponseStatus::kUnknownCommand, Error(f.Bytes()));
    EXPECT_FALSE(result_.close_after_reply);
    EXPECT_EQ(kHeaderSize, result_.consumed);
    EXPECT_EQ(0u, result_.swallow);
    EXPECT_EQ(op, static_cast<uint8_t>(request().opcode));
    EXPECT_EQ(0xcafeu, request().opaque);
  }
  // "unknown opcode 0x50 with body 3 then sentinel": the body is skipped.
  EXPECT_EQ(ResponseStatus::kUnknownCommand, Error(Frame{.opcode = 0x50, .value = "abc"}.Bytes()));
  EXPECT_EQ(kHeaderSize, result_.consumed);
  EXPECT_EQ(3u, result_.swallow);
}

TEST_F(BinaryParseTest, UnknownOpcodeSwallowsBodyLengthAfterTheKey) {
  // "unknown opcode with key, then key-sized padding": memcached reads the key, then skips
  // the whole body length again, eating 3 bytes past the frame.
  EXPECT_EQ(ResponseStatus::kUnknownCommand, Error(Frame{.opcode = 0x50, .key = "abc"}.Bytes()));
  EXPECT_EQ(kHeaderSize + 3, result_.consumed);
  EXPECT_EQ(3u, result_.swallow);
  // "verbosity 4 extras then 4 bytes of padding": 1.6.18 does not know verbosity.
  EXPECT_EQ(ResponseStatus::kUnknownCommand,
            Error(Req(Opcode::kVerbosity, "", testing::Be32(1), "", 0x1b)));
  EXPECT_EQ(kHeaderSize + 4, result_.consumed);
  EXPECT_EQ(4u, result_.swallow);
  EXPECT_FALSE(result_.close_after_reply);
  // "unknown opcode body beyond -I": nothing is buffered, whatever the body length.
  Frame huge{.opcode = 0x50, .body_length = 0xffffffff};
  EXPECT_EQ(ResponseStatus::kUnknownCommand, Error(huge.Bytes()));
  EXPECT_EQ(0xffffffffu, result_.swallow);
}

TEST_F(BinaryParseTest, SaslWithoutSaslConfiguredIsUnknownCommand) {
  // "sasl list mechs", "sasl auth", "sasl step": the connection stays usable.
  EXPECT_EQ(ResponseStatus::kUnknownCommand, Error(Req(Opcode::kSaslListMechs)));
  EXPECT_FALSE(result_.close_after_reply);
  EXPECT_EQ(0u, result_.swallow);
  for (const Opcode op : {Opcode::kSaslAuth, Opcode::kSaslStep}) {
    EXPECT_EQ(ResponseStatus::kUnknownCommand,
              Error(Req(op, "PLAIN", "", std::string("\0u\0p", 4))));
    EXPECT_FALSE(result_.close_after_reply);
    EXPECT_EQ(kHeaderSize + 5, result_.consumed);
    EXPECT_EQ(4u, result_.swallow);  // only the value: the key was read
  }
}

TEST_F(BinaryParseTest, HeadBeyondMemcachedsReadBufferCloses) {
  // "get keylen 16360 (frame head 16384 bytes)" is answered; one byte more and memcached
  // closes without a reply. We close as soon as the header shows it.
  EXPECT_EQ(ResponseStatus::kInvalidArguments, Error(Req(Opcode::kGet, std::string(16360, 'k'))));
  const std::string too_long = Req(Opcode::kGet, std::string(16361, 'k'));
  EXPECT_EQ(ParseStatus::kClose, Status(too_long.substr(0, kHeaderSize)));
  // "set key 16352 extlen 8 (head 16384)" / "set key 16353 extlen 8 (head 16385)".
  EXPECT_EQ(ResponseStatus::kInvalidArguments,
            Error(Req(Opcode::kSet, std::string(16352, 'k'), StoreExtras(0, 0), "v")));
  EXPECT_EQ(ParseStatus::kClose,
            Status(Req(Opcode::kSet, std::string(16353, 'k'), StoreExtras(0, 0), "v")));
  Frame max{.opcode = 0x00, .key_length = 0xffff, .extras_length = 255, .body_length = 0xffff};
  EXPECT_EQ(ParseStatus::kClose, Status(max.Bytes()));
}

TEST_F(BinaryParseTest, HugeBodyOnAFixedSizeCommandIsInvalidAtOnce) {
  // "get body beyond -I": answered from the head alone; the body is never awaited.
  Frame f{.opcode = 0x00, .key = "abc", .body_length = 2u << 20};
  EXPECT_EQ(ResponseStatus::kInvalidArguments, Error(f.Bytes()));
  EXPECT_TRUE(result_.close_after_reply);
}

// ---- Values over the limit ------------------------------------------------------------------

TEST_F(BinaryParseTest, ValueOverLimitIsNotBuffered) {
  // "set value 2MB > -I": Too large., the value skipped, the connection kept.
  const std::string value(limits_.max_value_len + 1, 'x');
  const std::string wire = Req(Opcode::kSet, "big", StoreExtras(1, 2), value, 0x42);
  const size_t head = kHeaderSize + 8 + 3;
  const ParseResult r = Parse(wire.substr(0, head));  // decided before the value arrives
  ASSERT_EQ(ParseStatus::kOk, r.status);
  EXPECT_TRUE(request().value_too_large);
  EXPECT_EQ(Command::kSet, request().command);
  EXPECT_EQ("big", request().key);
  EXPECT_EQ("", request().value);
  EXPECT_EQ(value.size(), request().value_length);
  EXPECT_EQ(head, r.consumed);
  EXPECT_EQ(value.size(), r.swallow);
  EXPECT_EQ(ParseStatus::kNeedMore, Status(wire.substr(0, head - 1)));
  EXPECT_EQ(head, result_.need);
}

TEST_F(BinaryParseTest, ValueAtLimitIsBuffered) {
  const std::string value(limits_.max_value_len, 'x');
  const std::string wire = Req(Opcode::kAppendQ, "k", "", value);
  EXPECT_EQ(ParseStatus::kNeedMore, Status(wire.substr(0, wire.size() - 1)));
  EXPECT_EQ(wire.size(), result_.need);
  ASSERT_EQ(ParseStatus::kOk, Status(wire));
  EXPECT_FALSE(request().value_too_large);
  EXPECT_EQ(value, request().value);
  EXPECT_EQ(wire.size(), result_.consumed);
}

TEST_F(BinaryParseTest, EveryStorageOpcodeHonoursTheLimit) {
  const std::string value(limits_.max_value_len + 1, 'y');
  for (const Opcode op : {Opcode::kSetQ, Opcode::kAdd, Opcode::kReplaceQ}) {
    ASSERT_EQ(ParseStatus::kOk, Status(Req(op, "k", StoreExtras(0, 0), value)));
    EXPECT_TRUE(request().value_too_large);
  }
  for (const Opcode op : {Opcode::kAppend, Opcode::kPrependQ}) {  // "append too large"
    ASSERT_EQ(ParseStatus::kOk, Status(Req(op, "k", "", value)));
    EXPECT_TRUE(request().value_too_large);
    EXPECT_EQ(value.size(), result_.swallow);
  }
  Frame max{.opcode = 0x01, .extras = StoreExtras(0, 0), .key = "k", .body_length = 0xffffffff};
  ASSERT_EQ(ParseStatus::kOk, Status(max.Bytes()));
  EXPECT_EQ(0xffffffffu - 9, result_.swallow);
}

// ---- Bytes past the declared parts ------------------------------------------------------

TEST_F(BinaryParseTest, StatAndTouchLeaveExtraBodyBytesForTheNextRequest) {
  // "touch with a noop frame as its value": memcached answers the touch, then the noop.
  const std::string noop = Req(Opcode::kNoop, "", "", "", 0x77);
  const std::string touch = Req(Opcode::kTouch, "g1", testing::Be32(0), noop, 0x76);
  ASSERT_EQ(ParseStatus::kOk, Status(touch));
  EXPECT_EQ(Command::kTouch, request().command);
  EXPECT_EQ(kHeaderSize + 4 + 2, result_.consumed);
  ASSERT_EQ(ParseStatus::kOk, Status(touch.substr(kHeaderSize + 6)));
  EXPECT_EQ(Command::kNoop, request().command);
  EXPECT_EQ(0x77u, request().opaque);
  // "stat with a noop frame as its value".
  const std::string stat = Req(Opcode::kStat, "reset", "", noop, 0x76);
  ASSERT_EQ(ParseStatus::kOk, Status(stat));
  EXPECT_EQ(kHeaderSize + 5, result_.consumed);
  // "gat with value": the stray byte becomes a bad magic, so memcached closes.
  const std::string gat = Req(Opcode::kGat, "t1", testing::Be32(1), "v") + noop;
  ASSERT_EQ(ParseStatus::kOk, Status(gat));
  EXPECT_EQ(ParseStatus::kClose, Status(gat.substr(result_.consumed)));
}

// ---- Partial input -------------------------------------------------------------------------

std::vector<std::string> OneFramePerOpcode() {
  const std::string x4 = testing::Be32(9);
  return {
      Req(Opcode::kGet, "key"),
      Req(Opcode::kGetQ, "key"),
      Req(Opcode::kGetK, "key"),
      Req(Opcode::kGetKQ, "key"),
      Req(Opcode::kSet, "k", StoreExtras(1, 2), "value"),
      Req(Opcode::kSetQ, "k", StoreExtras(1, 2), ""),
      Req(Opcode::kAdd, "k", StoreExtras(1, 2), "v"),
      Req(Opcode::kAddQ, "k", StoreExtras(1, 2), "v"),
      Req(Opcode::kReplace, "k", StoreExtras(1, 2), "v"),
      Req(Opcode::kReplaceQ, "k", StoreExtras(1, 2), "v"),
      Req(Opcode::kAppend, "k", "", "tail"),
      Req(Opcode::kAppendQ, "k", "", "tail"),
      Req(Opcode::kPrepend, "k", "", "head"),
      Req(Opcode::kPrependQ, "k", "", "head"),
      Req(Opcode::kDelete, "k"),
      Req(Opcode::kDeleteQ, "k"),
      Req(Opcode::kIncrement, "k", DeltaExtras(1, 2, 3)),
      Req(Opcode::kIncrementQ, "k", DeltaExtras(1, 2, 3)),
      Req(Opcode::kDecrement, "k", DeltaExtras(1, 2, 3)),
      Req(Opcode::kDecrementQ, "k", DeltaExtras(1, 2, 3)),
      Req(Opcode::kTouch, "k", x4),
      Req(Opcode::kGat, "k", x4),
      Req(Opcode::kGatQ, "k", x4),
      Req(Opcode::kGatK, "k", x4),
      Req(Opcode::kGatKQ, "k", x4),
      Req(Opcode::kFlush),
      Req(Opcode::kFlush, "", x4),
      Req(Opcode::kFlushQ, "", x4),
      Req(Opcode::kNoop),
      Req(Opcode::kVersion),
      Req(Opcode::kQuit),
      Req(Opcode::kQuitQ),
      Req(Opcode::kStat),
      Req(Opcode::kStat, "items"),
      Req(Opcode::kVerbosity, "", x4),
      Req(Opcode::kSaslListMechs),
      Req(Opcode::kSaslAuth, "PLAIN", "", "secret"),
      Req(Opcode::kSaslStep, "PLAIN", "", "secret"),
      Req(static_cast<Opcode>(0x50), "k", "", "v"),
      Req(Opcode::kGet, "", x4),  // invalid: waits for its head all the same
  };
}

TEST_F(BinaryParseTest, EveryFrameSplitAtEveryByteNeedsMore) {
  for (const std::string& wire : OneFramePerOpcode()) {
    ASSERT_NE(ParseStatus::kNeedMore, Status(wire)) << testing::ToHex(wire);
    const ParseResult whole = result_;
    const size_t frame = whole.consumed;
    for (size_t cut = 0; cut < frame; ++cut) {
      const ParseResult r = Parse(wire.substr(0, cut));
      EXPECT_EQ(ParseStatus::kNeedMore, r.status) << testing::ToHex(wire) << " cut=" << cut;
      EXPECT_EQ(cut < kHeaderSize ? 0u : frame, r.need) << testing::ToHex(wire) << " cut=" << cut;
    }
    // Whatever follows the frame does not change how it parses.
    const ParseResult more = Parse(wire + Req(Opcode::kNoop));
    EXPECT_EQ(whole.status, more.status);
    EXPECT_EQ(whole.consumed, more.consumed);
  }
}

TEST_F(BinaryParseTest, EmptyInputNeedsMore) {
  const ParseResult r = Parse("");
  EXPECT_EQ(ParseStatus::kNeedMore, r.status);
  EXPECT_EQ(0u, r.need);
}

// ---- Pipelines -----------------------------------------------------------------------------

// Parses `stream` the way a session does, skipping swallowed bytes; returns one line per
// request: the opcode, then "q" when quiet, "!status" for an error, "close" to stop.
std::vector<std::string> Drive(std::string_view stream, const ParseLimits& limits) {
  std::vector<std::string> seen;
  Request request;
  for (int guard = 0; guard < 1000 && !stream.empty(); ++guard) {
    const ParseResult r = Parse(stream, &request, limits);
    if (r.status == ParseStatus::kNeedMore) break;
    if (r.status == ParseStatus::kClose) {
      seen.push_back("close");
      break;
    }
    std::string line = std::to_string(static_cast<int>(request.opcode));
    if (request.quiet) line += "q";
    if (r.status == ParseStatus::kError) line += "!" + std::to_string(static_cast<int>(r.error));
    seen.push_back(line);
    if (r.close_after_reply) break;
    const size_t skip = std::min(stream.size(), r.consumed + r.swallow);
    stream.remove_prefix(skip);
  }
  return seen;
}

TEST(BinaryPipelineTest, SeveralFramesInOneBuffer) {
  const std::string stream =
      Req(Opcode::kSetQ, "p1", StoreExtras(0, 0), "one") + Req(Opcode::kGetQ, "p1", "", "", 1) +
      Req(Opcode::kGetKQ, "p2", "", "", 4) + Req(Opcode::kIncrement, "n", DeltaExtras(1, 0, 0)) +
      Req(Opcode::kStat, "items") + Req(Opcode::kNoop);
  EXPECT_EQ((std::vector<std::string>{"17q", "9q", "13q", "5", "16", "10"}),
            Drive(stream, ParseLimits{}));
}

TEST(BinaryPipelineTest, TooLargeValueIsSkippedAndTheNextFrameParsed) {
  // "set too large removes old value": the get after the rejected set is answered.
  const std::string stream = Req(Opcode::kSet, "big", StoreExtras(0, 0), std::string(2000, 'x')) +
                             Req(Opcode::kGet, "big");
  EXPECT_EQ((std::vector<std::string>{"1", "0"}),
            Drive(stream, ParseLimits{.max_value_len = 1000}));
}

TEST(BinaryPipelineTest, ErrorsThatCloseStopThePipeline) {
  const std::string stream =
      Req(Opcode::kNoop) + Req(Opcode::kGet, "", "xxxx") + Req(Opcode::kNoop);
  EXPECT_EQ((std::vector<std::string>{"10", "0!4"}), Drive(stream, ParseLimits{}));
  const std::string bad_magic = Req(Opcode::kNoop) + Frame{.magic = 0x81, .opcode = 0x0a}.Bytes();
  EXPECT_EQ((std::vector<std::string>{"10", "close"}), Drive(bad_magic, ParseLimits{}));
}

TEST(BinaryPipelineTest, UnknownCommandKeepsTheConnection) {
  const std::string stream = Req(static_cast<Opcode>(0x50), "", "", "abc") + Req(Opcode::kVersion);
  EXPECT_EQ((std::vector<std::string>{"80!129", "11"}), Drive(stream, ParseLimits{}));
}

// ---- Reply policy -------------------------------------------------------------------------

TEST(BinaryReplyPolicyTest, QuietCommandsDropWhatMemcachedDrops) {
  Request r;
  r.quiet = true;
  for (const Command c : {Command::kGet, Command::kGetK, Command::kGat, Command::kGatK}) {
    r.command = c;
    EXPECT_FALSE(ShouldReply(r, ResponseStatus::kKeyNotFound));  // "getq miss", "gatq miss"
    EXPECT_TRUE(ShouldReply(r, ResponseStatus::kSuccess));       // "getq pipeline hit/miss"
  }
  for (const Command c : {Command::kSet, Command::kAdd, Command::kReplace, Command::kAppend,
                          Command::kPrepend, Command::kDelete, Command::kIncrement,
                          Command::kDecrement, Command::kFlush, Command::kQuit}) {
    r.command = c;
    EXPECT_FALSE(ShouldReply(r, ResponseStatus::kSuccess));     // "setq success silent"
    EXPECT_TRUE(ShouldReply(r, ResponseStatus::kKeyNotFound));  // "deleteq ... miss"
    EXPECT_TRUE(ShouldReply(r, ResponseStatus::kKeyExists));    // "addq existing"
    EXPECT_TRUE(ShouldReply(r, ResponseStatus::kNotStored));    // "appendq/prependq miss"
    EXPECT_TRUE(ShouldReply(r, ResponseStatus::kTooLarge));     // "setq value 2MB > -I"
  }
  r.quiet = false;
  r.command = Command::kGet;
  EXPECT_TRUE(ShouldReply(r, ResponseStatus::kKeyNotFound));
  r.command = Command::kSet;
  EXPECT_TRUE(ShouldReply(r, ResponseStatus::kSuccess));
}

TEST(BinaryReplyPolicyTest, NotStoredDependsOnTheCommand) {
  EXPECT_EQ(ResponseStatus::kKeyExists, NotStoredStatus(Command::kAdd));  // "add new/existing"
  EXPECT_EQ(ResponseStatus::kKeyNotFound, NotStoredStatus(Command::kReplace));  // "replace missing"
  EXPECT_EQ(ResponseStatus::kNotStored, NotStoredStatus(Command::kAppend));     // "append miss"
  EXPECT_EQ(ResponseStatus::kNotStored, NotStoredStatus(Command::kPrepend));
}

}  // namespace
}  // namespace warmcache::protocol::binary
