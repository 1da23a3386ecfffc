// SPDX-License-Identifier: BSD-3-Clause
// Expected reply text and awkward test data shared by the integration tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace warmcache::testutil {

// "VALUE <key> <flags> <len>[ <cas>]\r\n<data>\r\n", one item of a get/gets reply.
std::string Value(const std::string& key, uint32_t flags, const std::string& data,
                  std::optional<uint64_t> cas = std::nullopt);

// Random bytes from a seed, with "\r\n", NUL and "\r\nEND\r\n" planted inside: a value that
// breaks any reader that does not go by the length.
std::string AwkwardBytes(size_t size, uint32_t seed);

}  // namespace warmcache::testutil
