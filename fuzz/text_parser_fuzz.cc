// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: arbitrary bytes through the text and meta parsers the way a session feeds
// them (parse, consume, repeat; stop on need-more or close). Checks the parser's contract:
// consumed bytes never exceed the input, and views point inside it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/protocol/command.h"
#include "server/protocol/text_parser.h"

namespace {

bool Inside(std::string_view part, std::string_view whole, const char* own_begin,
            const char* own_end) {
  if (part.empty()) return true;
  const bool in_input =
      part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
  const bool in_own = part.data() >= own_begin && part.data() + part.size() <= own_end;
  return in_input || in_own;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warmcache::protocol;
  ParserOptions options;
  options.max_value_len = 4096;  // small, so values over the limit are reached
  options.max_get_line = 8192;
  const TextParser parser(options);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Command cmd;
  MetaRequest meta;
  const char* own_begin = meta.key_buf;
  const char* own_end = meta.key_buf + sizeof(meta.key_buf);
  while (!input.empty()) {
    const ParseResult r = parser.Parse(input, &cmd, &meta);
    if (r.status == ParseStatus::kNeedMore || r.status == ParseStatus::kClose) break;
    if (r.consumed == 0 || r.consumed > input.size()) std::abort();
    if (r.status == ParseStatus::kOk) {
      if (!Inside(cmd.key, input, own_begin, own_end) ||
          !Inside(cmd.value, input, own_begin, own_end) ||
          !Inside(cmd.keys, input, own_begin, own_end)) {
        std::abort();
      }
      // A too-large value is discarded by the session rather than consumed here.
      if (cmd.too_large || !cmd.arg_error.empty()) {
        const size_t skip =
            cmd.swallow < input.size() - r.consumed ? cmd.swallow : input.size() - r.consumed;
        input.remove_prefix(skip);
      }
    }
    input.remove_prefix(r.consumed);
  }
  return 0;
}
