// SPDX-License-Identifier: BSD-3-Clause
// TestClient calls for GoogleTest fixtures: a failed call is a test failure (with the request
// in the message) and an empty reply, so a test reads as a list of expected replies.
#pragma once

#include <cstdint>
#include <string>

#include "tests/testutil/test_client.h"

namespace warmcache::testutil {

// Send + read through `terminator`.
std::string CallOrFail(TestClient& client, const std::string& request,
                       const std::string& terminator = "\r\n");
// A get/gets/gat/gats reply through END, values read by their length (TestClient::CallGet).
std::string GetOrFail(TestClient& client, const std::string& request);
// A meta reply line and, after "VA <n>", the data (TestClient::CallMeta).
std::string MetaOrFail(TestClient& client, const std::string& request);
// Stores with `ms ... c` (a set that also returns its CAS); the CAS, or 0 on a failure.
uint64_t StoreWithCas(TestClient& client, const std::string& key, const std::string& data,
                      uint32_t flags = 0, int64_t exptime = 0);

}  // namespace warmcache::testutil
