// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the binary-protocol parser. Feeds the input to Parse the way a
// session does (request after request, skipping swallowed bytes, stopping where the session
// would wait or close) and checks the parser's promises on the way:
//   - kOk/kError consume at least a header and never more than the input;
//   - every view lies inside the input, and the key of a kOk request fits a reply head;
//   - one byte less than what was consumed is kNeedMore, and `need` is what was consumed
//     (or 0 before the header); given `need` bytes, the frame parses and uses them all;
//   - replies for every request encode within their documented buffer sizes.
// The first input byte picks the value limit, so small limits reach the too-large path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <string_view>

#include "server/protocol/binary_codec.h"

namespace bin = warmcache::protocol::binary;

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool Inside(std::string_view part, std::string_view input) {
  if (part.empty()) return true;
  return part.data() >= input.data() && part.data() + part.size() <= input.data() + input.size();
}

// Parses an exactly-sized heap copy of input[0, n), so AddressSanitizer sees any overread.
bin::ParseResult ParseCopy(std::string_view input, size_t n, const bin::ParseLimits& limits) {
  std::unique_ptr<char[]> copy(new char[n == 0 ? 1 : n]);
  if (n > 0) std::memcpy(copy.get(), input.data(), n);
  bin::Request request;
  return bin::Parse(std::string_view(copy.get(), n), &request, limits);
}

// Once `need` bytes are in (the rest zero-filled here), the frame parses.
void CheckNeedIsEnough(std::string_view input, size_t need, const bin::ParseLimits& limits) {
  std::unique_ptr<char[]> full(new char[need]());
  std::memcpy(full.get(), input.data(), input.size());
  bin::Request request;
  const bin::ParseResult r = bin::Parse(std::string_view(full.get(), need), &request, limits);
  Check(r.status != bin::ParseStatus::kNeedMore && r.status != bin::ParseStatus::kClose);
  Check(r.consumed == need);
}

void EncodeReplies(const bin::Request& request, const bin::ParseResult& result) {
  char buf[bin::kMaxResponseHead + bin::kMaxErrorResponse];
  if (result.status == bin::ParseStatus::kError) {
    Check(bin::EncodeError(request.opcode, result.error, request.opaque, buf) <=
          bin::kMaxErrorResponse);
    return;
  }
  Check(request.key.size() <= bin::kMaxKeyLength);
  Check(bin::EncodeValueHeader(request, 0xabcdef01, 42, request.value.size(), buf) <=
        bin::kMaxResponseHead);
  Check(bin::EncodeNotFound(request, buf) <= bin::kMaxResponseHead);
  Check(bin::EncodeCounter(request, 1, 2, buf) == bin::kCounterResponseSize);
  Check(bin::EncodeSuccess(request, 3, buf) == bin::kHeaderSize);
  (void)bin::ShouldReply(request, bin::ResponseStatus::kKeyNotFound);
  (void)bin::NotStoredStatus(request.command);
}

void CheckResult(std::string_view input, const bin::Request& request,
                 const bin::ParseResult& result, const bin::ParseLimits& limits) {
  if (result.status == bin::ParseStatus::kNeedMore) {
    Check(result.need == 0 ? input.size() < bin::kHeaderSize : result.need > input.size());
    if (result.need > 0) CheckNeedIsEnough(input, result.need, limits);
    return;
  }
  if (result.status == bin::ParseStatus::kClose) return;
  Check(result.consumed >= bin::kHeaderSize && result.consumed <= input.size());
  Check(Inside(request.extras, input) && Inside(request.key, input) &&
        Inside(request.value, input));
  Check(request.value.size() <= limits.max_value_len);
  Check(request.key.data() == nullptr ||
        request.key.data() + request.key.size() <= input.data() + result.consumed);
  const bin::ParseResult shorter = ParseCopy(input, result.consumed - 1, limits);
  Check(shorter.status == bin::ParseStatus::kNeedMore);
  Check(shorter.need == (result.consumed - 1 < bin::kHeaderSize ? 0 : result.consumed));
  const bin::ParseResult exact = ParseCopy(input, result.consumed, limits);
  Check(exact.status == result.status && exact.consumed == result.consumed &&
        exact.swallow == result.swallow && exact.error == result.error);
  EncodeReplies(request, result);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr size_t kLimits[] = {0, 1, 8, 100, 1u << 20};
  const bin::ParseLimits limits{.max_value_len = kLimits[data[0] % std::size(kLimits)]};
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  bin::Request request;
  // Each step consumes at least a header, so this bound is never the one that stops.
  for (size_t step = 0; step <= size / bin::kHeaderSize + 1 && !stream.empty(); ++step) {
    const bin::ParseResult result = bin::Parse(stream, &request, limits);
    CheckResult(stream, request, result, limits);
    if (result.status == bin::ParseStatus::kNeedMore) break;
    if (result.status == bin::ParseStatus::kClose) break;
    if (result.status == bin::ParseStatus::kError && result.close_after_reply) break;
    const size_t skip = result.consumed + result.swallow;
    stream.remove_prefix(skip < stream.size() ? skip : stream.size());
  }
  return 0;
}
