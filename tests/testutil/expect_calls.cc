// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/expect_calls.h"

#include <gtest/gtest.h>

#include "tests/testutil/escape.h"

namespace warmcache::testutil {

std::string CallOrFail(TestClient& client, const std::string& request,
                       const std::string& terminator) {
  auto reply = client.Call(request, terminator);
  EXPECT_TRUE(reply.ok()) << EscapeBytes(request.substr(0, 200)) << ": "
                          << reply.status().ToString();
  return reply.ok() ? *reply : "";
}

std::string GetOrFail(TestClient& client, const std::string& request) {
  auto reply = client.CallGet(request);
  EXPECT_TRUE(reply.ok()) << request << ": " << reply.status().ToString();
  return reply.ok() ? *reply : "";
}

std::string MetaOrFail(TestClient& client, const std::string& request) {
  auto reply = client.CallMeta(request);
  EXPECT_TRUE(reply.ok()) << request << ": " << reply.status().ToString();
  return reply.ok() ? *reply : "";
}

uint64_t StoreWithCas(TestClient& client, const std::string& key, const std::string& data,
                      uint32_t flags, int64_t exptime) {
  const std::string reply = CallOrFail(
      client, "ms " + key + " " + std::to_string(data.size()) + " c F" + std::to_string(flags) +
                  " T" + std::to_string(exptime) + "\r\n" + data + "\r\n");
  EXPECT_EQ(0u, reply.rfind("HD c", 0)) << key << ": " << EscapeBytes(reply);
  return reply.rfind("HD c", 0) == 0 ? std::stoull(reply.substr(4)) : 0;
}

}  // namespace warmcache::testutil
