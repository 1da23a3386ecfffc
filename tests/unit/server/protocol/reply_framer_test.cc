// SPDX-License-Identifier: BSD-3-Clause
#include "server/protocol/reply_framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace warmcache::protocol {
namespace {

// A copy in a heap block of exactly its size, so an over-read is an ASan error, not a read of
// std::string's spare capacity or terminating NUL.
class Exact {
 public:
  explicit Exact(std::string_view bytes)
      : bytes_(std::make_unique<char[]>(bytes.size())), size_(bytes.size()) {
    if (size_ > 0) std::memcpy(bytes_.get(), bytes.data(), size_);
  }
  std::string_view view() const { return {bytes_.get(), size_}; }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t size_;
};

Frame FrameOf(std::string_view wire, ReplyShape shape) {
  Exact exact(wire);
  return FrameReply(exact.view(), shape);
}

ValuePiece PieceOf(std::string_view wire) {
  Exact exact(wire);
  return NextValuePiece(exact.view());
}

// Every proper prefix needs more; the whole is one complete reply, also with the next reply's
// bytes behind it.
void ExpectWhole(std::string_view wire, ReplyShape shape, bool error = false) {
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    const Frame f = FrameOf(wire.substr(0, cut), shape);
    ASSERT_EQ(FrameStatus::kNeedMore, f.status) << "cut=" << cut << " of " << wire;
  }
  for (std::string_view next : {"", "END\r\n", "VALUE x 0 1\r\n", "garbage"}) {
    const Frame f = FrameOf(std::string(wire) + std::string(next), shape);
    EXPECT_EQ(FrameStatus::kComplete, f.status) << wire << next;
    EXPECT_EQ(wire.size(), f.length) << wire << next;
    EXPECT_EQ(error, f.error) << wire;
  }
}

void ExpectInvalid(std::string_view wire, ReplyShape shape) {
  EXPECT_EQ(FrameStatus::kInvalid, FrameOf(wire, shape).status) << wire;
}

TEST(ReplyFramerTest, LineReplies) {
  for (std::string_view wire :
       {"STORED\r\n", "NOT_STORED\r\n", "EXISTS\r\n", "NOT_FOUND\r\n", "DELETED\r\n", "TOUCHED\r\n",
        "OK\r\n", "12345\r\n", "VERSION 1.6.18\r\n", "RESET\r\n"}) {
    ExpectWhole(wire, ReplyShape::kLine);
  }
}

TEST(ReplyFramerTest, LineErrors) {
  for (std::string_view wire :
       {"ERROR\r\n", "ERROR Too many open connections\r\n", "ERROR: shutdown not enabled\r\n",
        "CLIENT_ERROR bad command line format\r\n", "SERVER_ERROR out of memory\r\n",
        "CLIENT_ERROR\r\n"}) {
    ExpectWhole(wire, ReplyShape::kLine, /*error=*/true);
  }
  // Words that only look like errors.
  ExpectWhole("CLIENT_ERRORS x\r\n", ReplyShape::kLine, false);
  ExpectWhole("SERVER_ERRORx\r\n", ReplyShape::kLine, false);
}

TEST(ReplyFramerTest, LineInvalid) {
  ExpectInvalid("\r\n", ReplyShape::kLine);
  ExpectInvalid("\n", ReplyShape::kLine);
  ExpectInvalid("STORED\n", ReplyShape::kLine);
  ExpectInvalid("\rSTORED\n", ReplyShape::kLine);
}

TEST(ReplyFramerTest, LineTooLong) {
  const std::string longest = std::string(kMaxReplyLine - 2, 'x') + "\r\n";
  EXPECT_EQ(FrameStatus::kComplete, FrameOf(longest, ReplyShape::kLine).status);
  const std::string no_end(kMaxReplyLine - 1, 'x');
  EXPECT_EQ(FrameStatus::kNeedMore, FrameOf(no_end, ReplyShape::kLine).status);
  ExpectInvalid(no_end + "x", ReplyShape::kLine);
  ExpectInvalid(std::string(kMaxReplyLine - 1, 'x') + "\r\n", ReplyShape::kLine);
}

TEST(ReplyFramerTest, ValuesReplies) {
  ExpectWhole("END\r\n", ReplyShape::kValues);
  ExpectWhole("VALUE k 0 5\r\nhello\r\nEND\r\n", ReplyShape::kValues);
  ExpectWhole("VALUE k 4294967295 0 18446744073709551615\r\n\r\nEND\r\n", ReplyShape::kValues);
  // Data holding what looks like the end, and like another header.
  ExpectWhole("VALUE a 1 12\r\n\r\nEND\r\nVALUE\r\nVALUE b 2 3 99\r\nxyz\r\nEND\r\n",
              ReplyShape::kValues);
  const std::string key(250, 'k');
  ExpectWhole("VALUE " + key + " 0 1\r\nv\r\nEND\r\n", ReplyShape::kValues);
}

// A reply arriving a byte at a time, framed with its place kept between calls: the same answer
// at every length as a scan from the start, and the place is always a VALUE block boundary.
TEST(ReplyFramerTest, ValuesKeepTheirPlaceAcrossCalls) {
  const std::string wire =
      "VALUE a 1 3\r\nabc\r\nVALUE b 0 0\r\n\r\nVALUE c 2 5 7\r\nEND\r\n\r\nEND\r\n";
  const std::vector<size_t> boundaries = {0, 18, 33, 55};
  size_t checked = 0;
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    Exact exact(std::string_view(wire).substr(0, cut));
    const Frame resumed = FrameReply(exact.view(), ReplyShape::kValues, &checked);
    const Frame fresh = FrameReply(exact.view(), ReplyShape::kValues);
    ASSERT_EQ(fresh.status, resumed.status) << "cut=" << cut;
    ASSERT_EQ(fresh.length, resumed.length) << "cut=" << cut;
    ASSERT_LE(checked, cut);
    EXPECT_NE(boundaries.end(), std::find(boundaries.begin(), boundaries.end(), checked))
        << "cut=" << cut << " checked=" << checked;
  }
  EXPECT_EQ(55u, checked) << "every VALUE block was found";
  EXPECT_EQ(wire.size(), FrameReply(wire, ReplyShape::kValues, &checked).length);
  // Other shapes leave the place alone.
  size_t untouched = 3;
  FrameReply("STORED\r\n", ReplyShape::kLine, &untouched);
  EXPECT_EQ(3u, untouched);
}

TEST(ReplyFramerTest, ValuesEndedByError) {
  ExpectWhole("SERVER_ERROR out of memory writing get response\r\n", ReplyShape::kValues, true);
  ExpectWhole("VALUE k 0 1\r\na\r\nSERVER_ERROR out of memory writing get response\r\n",
              ReplyShape::kValues, true);
  ExpectWhole("CLIENT_ERROR bad command line format\r\n", ReplyShape::kValues, true);
  ExpectWhole("ERROR\r\n", ReplyShape::kValues, true);
}

TEST(ReplyFramerTest, ValuesInvalid) {
  const std::string too_long_key(251, 'k');
  for (std::string_view wire : {
           "STORED\r\n",                            // unknown first word
           "END \r\n",                              // END with something after it
           "VALUE k 0 5\r\nhelloXX",                // data not followed by \r\n
           "VALUE k 0 5\r\nhello\rX",               //
           "VALUE k 0 5\r\nhello\n",                //
           "VALUE k 0 5\r\nhelloX",                 // seen before the rest arrives
           "VALUE k 0\r\n",                         // no size
           "VALUE k\r\n",                           //
           "VALUE\r\n",                             //
           "VALUE k 0 1 2 3\r\n",                   // a token too many
           "VALUE k -1 1\r\n",                      // bad numbers
           "VALUE k 0 +1\r\n",                      //
           "VALUE k 0 1x\r\n",                      //
           "VALUE k 4294967296 1\r\n",              // flags past 32 bits
           "VALUE k 0 4294967296\r\n",              // size past 32 bits
           "VALUE k 0 1 18446744073709551616\r\n",  // CAS past 64 bits
           "VALUE k 0 1 x\r\n",                     //
           "VALUE  k 0 1\r\n",                      // two spaces
           "VALUE k  0 1\r\n",                      //
           "VALUE k 0 1 \r\n",                      // trailing space
           "VALUE k\t 0 1\r\n",                     // a control byte in the key
           "VALUE k 0 1\r\nx\r\nSTORED\r\n",        // a later piece out of step
           "VALUE k 0 1\r\nx\r\n\r\n",              //
       }) {
    ExpectInvalid(wire, ReplyShape::kValues);
  }
  ExpectInvalid("VALUE " + too_long_key + " 0 1\r\nv\r\nEND\r\n", ReplyShape::kValues);
}

TEST(ReplyFramerTest, ValuePieces) {
  const std::string wire =
      "VALUE alpha 0 3\r\nabc\r\nVALUE beta 7 0 42\r\n\r\nSERVER_ERROR x\r\nEND\r\n";
  Exact exact(wire);
  std::string_view rest = exact.view();
  ValuePiece p = NextValuePiece(rest);
  ASSERT_EQ(ValuePiece::kValue, p.kind);
  EXPECT_EQ("alpha", p.key);
  EXPECT_EQ(std::string_view("VALUE alpha 0 3\r\nabc\r\n").size(), p.length);
  rest.remove_prefix(p.length);
  p = NextValuePiece(rest);
  ASSERT_EQ(ValuePiece::kValue, p.kind);
  EXPECT_EQ("beta", p.key);
  EXPECT_EQ(rest.data() + 6, p.key.data());  // points into the input
  rest.remove_prefix(p.length);
  p = NextValuePiece(rest);
  ASSERT_EQ(ValuePiece::kError, p.kind);
  EXPECT_EQ(std::string_view("SERVER_ERROR x\r\n").size(), p.length);
  rest.remove_prefix(p.length);
  p = NextValuePiece(rest);
  ASSERT_EQ(ValuePiece::kEnd, p.kind);
  EXPECT_EQ(5u, p.length);
  EXPECT_TRUE(p.key.empty());
}

TEST(ReplyFramerTest, ValuePieceSplitAtEveryByte) {
  const std::string wire = "VALUE k 0 10 7\r\n0123\r\n6789\r\n";
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    EXPECT_EQ(ValuePiece::kNeedMore, PieceOf(wire.substr(0, cut)).kind) << "cut=" << cut;
  }
  const ValuePiece p = PieceOf(wire + "END\r\n");
  EXPECT_EQ(ValuePiece::kValue, p.kind);
  EXPECT_EQ(wire.size(), p.length);
  EXPECT_EQ(ValuePiece::kInvalid, PieceOf("NOT_STORED\r\n").kind);
  EXPECT_EQ(ValuePiece::kInvalid, PieceOf("\r\n").kind);
}

TEST(ReplyFramerTest, MetaReplies) {
  for (std::string_view wire :
       {"HD\r\n", "HD c123 f0 t-1\r\n", "EN\r\n", "NF\r\n", "NS\r\n", "EX\r\n", "MN\r\n", "HD \r\n",
        "ME key exp=-1 la=2 cas=3 fetch=no cls=1 size=63\r\n", "VA 0\r\n\r\n",
        "VA 5 f0 c9\r\nhello\r\n", "VA 4\r\n\r\n\r\n\r\n", "VA 2 Oabc k\r\nhi\r\n"}) {
    ExpectWhole(wire, ReplyShape::kMeta);
  }
  ExpectWhole("CLIENT_ERROR bad command line format\r\n", ReplyShape::kMeta, true);
  ExpectWhole("SERVER_ERROR out of memory storing object\r\n", ReplyShape::kMeta, true);
  ExpectWhole("ERROR\r\n", ReplyShape::kMeta, true);
}

TEST(ReplyFramerTest, MetaInvalid) {
  for (std::string_view wire :
       {"STORED\r\n", "END\r\n", "VALUE k 0 1\r\nx\r\n", "H\r\n", "HDX\r\n", "VA\r\n", "VA x\r\n",
        "VA -1\r\n", "VA 5x\r\n", "VA 4294967296\r\n", "VA 5\r\nhelloXX", "VA 5\r\nhelloX",
        "VA 1\r\nab\r\n", "\r\n", "HD\n"}) {
    ExpectInvalid(wire, ReplyShape::kMeta);
  }
}

// Cuts a valid stream at random points and flips random bytes: never a crash, an over-read
// (ASan), or a frame longer than its input; a complete frame frames the same on its own.
TEST(ReplyFramerTest, RandomInputsStayInBounds) {
  const std::vector<std::string> seeds = {"VALUE k 0 5 1\r\nhello\r\nVALUE kk 1 0\r\n\r\nEND\r\n",
                                          "VA 3 f1\r\nabc\r\n",
                                          "SERVER_ERROR x\r\n",
                                          "HD c1\r\n",
                                          "STORED\r\n",
                                          "VALUE k 0 12\r\nEND\r\nVALUE\r\n\r\n"};
  const ReplyShape shapes[] = {ReplyShape::kLine, ReplyShape::kValues, ReplyShape::kMeta};
  std::mt19937 rng(20240606);
  const std::string alphabet = "VALUEND HDAXR0123456789\r\n -+ab";
  int complete = 0;
  int values = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string wire;
    if (round % 2 == 0) {
      wire = seeds[rng() % seeds.size()];
      for (int flips = static_cast<int>(rng() % 4); flips > 0 && !wire.empty(); --flips) {
        wire[rng() % wire.size()] = alphabet[rng() % alphabet.size()];
      }
      wire.resize(rng() % (wire.size() + 1));
    } else {
      wire.resize(rng() % 40);
      for (char& c : wire)
        c = static_cast<char>(rng() % 3 == 0 ? rng() : alphabet[rng() % alphabet.size()]);
    }
    Exact exact(wire);
    const ReplyShape shape = shapes[rng() % 3];
    const Frame f = FrameReply(exact.view(), shape);
    if (f.status == FrameStatus::kComplete) {
      ++complete;
      ASSERT_GT(f.length, 0u);
      ASSERT_LE(f.length, wire.size());
      Exact whole(wire.substr(0, f.length));
      const Frame again = FrameReply(whole.view(), shape);
      ASSERT_EQ(FrameStatus::kComplete, again.status);
      ASSERT_EQ(f.length, again.length);
    } else {
      ASSERT_EQ(0u, f.length);
    }
    const ValuePiece p = NextValuePiece(exact.view());
    ASSERT_LE(p.length, wire.size());
    if (p.kind == ValuePiece::kValue) {
      ++values;
      ASSERT_GE(p.key.data(), exact.view().data());
      ASSERT_LE(p.key.data() + p.key.size(), exact.view().data() + wire.size());
    }
  }
  // The inputs reach the interesting paths, not only the early rejections.
  EXPECT_GT(complete, 5000);
  EXPECT_GT(values, 1000);
}

}  // namespace
}  // namespace warmcache::protocol
