// SPDX-License-Identifier: BSD-3-Clause
// Thousands of items at once, for tests that fill several servers (the ring and hand-off tests):
// pipelined stores, and multi-gets parsed into a map.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "tests/testutil/test_client.h"

namespace warmcache::testutil {

struct BulkItem {
  std::string key;  // a text key: printable, no spaces
  std::string data;
  uint32_t flags = 0;
  int64_t ttl = 0;  // the T token: 0 never expires
};

// Stores `items` with quiet meta sets (`ms <key> <len> F<flags> T<ttl> q`), pipelined in
// batches closed by `mn`. kIoError on a failed connection or any reply but the batch's MN
// (quoted in the message).
Status StoreMany(TestClient& client, const std::vector<BulkItem>& items);

// What a get found for one key.
struct Found {
  std::string data;
  uint32_t flags = 0;
  bool operator==(const Found&) const = default;
};

// Gets `keys` with `get` requests of up to 100 keys each; returns the keys found (a miss is
// absent from the map). Values are read by their length, so they may hold any bytes.
Result<std::map<std::string, Found>> GetMany(TestClient& client,
                                             const std::vector<std::string>& keys);

}  // namespace warmcache::testutil
