// SPDX-License-Identifier: BSD-3-Clause
// Standard base64 (RFC 4648, padded) for meta-protocol binary keys ("b" flag).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace warmcache::protocol {

// Decodes `in` into `out` (room for in.size() * 3 / 4 bytes). Returns the decoded length, or 0
// for input memcached would reject (bad length, characters or padding).
size_t Base64Decode(std::string_view in, char* out);
void Base64Encode(std::string_view in, std::string* out);

}  // namespace warmcache::protocol
