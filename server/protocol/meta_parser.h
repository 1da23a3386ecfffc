// SPDX-License-Identifier: BSD-3-Clause
// The meta commands (mg, ms, md, ma, me): one tokenized line -> Command + MetaRequest, with
// memcached 1.6.18's checks in its order and its error strings.
#pragma once

#include <cstddef>
#include <string_view>

#include "server/protocol/command.h"
#include "server/protocol/text_parser.h"

namespace warmcache::protocol {

struct Tokens;

// `t` holds the line's tokens (t.v(0) is the two-letter command); `consumed` is the line's
// length with its newline. A meta set waits in `input` for its data block.
ParseResult ParseMeta(const Tokens& t, std::string_view input, size_t consumed,
                      const ParserOptions& options, Command* cmd, MetaRequest* meta);

}  // namespace warmcache::protocol
