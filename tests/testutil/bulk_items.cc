// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/bulk_items.h"

#include <cstdio>

#include "tests/testutil/escape.h"

namespace warmcache::testutil {

namespace {

constexpr size_t kStoresPerBatch = 1000;
constexpr size_t kKeysPerGet = 100;

// Parses "VALUE <key> <flags> <len>\r\n<data>\r\n"... "END\r\n" into `out`.
Status ParseGetReply(const std::string& reply, std::map<std::string, Found>* out) {
  size_t pos = 0;
  while (reply.compare(pos, 5, "END\r\n") != 0) {
    const size_t eol = reply.find("\r\n", pos);
    char key[256];
    unsigned flags = 0;
    size_t len = 0;
    if (eol == std::string::npos ||
        std::sscanf(reply.c_str() + pos, "VALUE %255s %u %zu", key, &flags, &len) != 3 ||
        eol + 2 + len + 2 > reply.size()) {
      return Status::IoError("unexpected get reply at byte " + std::to_string(pos) + ": " +
                             EscapeBytes(reply.substr(pos, 200)));
    }
    (*out)[key] = Found{reply.substr(eol + 2, len), flags};
    pos = eol + 2 + len + 2;
  }
  return Status::Ok();
}

}  // namespace

Status StoreMany(TestClient& client, const std::vector<BulkItem>& items) {
  for (size_t first = 0; first < items.size(); first += kStoresPerBatch) {
    std::string batch;
    for (size_t i = first; i < items.size() && i < first + kStoresPerBatch; ++i) {
      const BulkItem& item = items[i];
      batch += "ms " + item.key + " " + std::to_string(item.data.size()) + " F" +
               std::to_string(item.flags) + " T" + std::to_string(item.ttl) + " q\r\n" + item.data +
               "\r\n";
    }
    Result<std::string> reply = client.Call(batch + "mn\r\n", "MN\r\n");
    if (!reply.ok()) return reply.status();
    if (*reply != "MN\r\n") {
      return Status::IoError("a quiet store failed: " + EscapeBytes(reply->substr(0, 200)));
    }
  }
  return Status::Ok();
}

Result<std::map<std::string, Found>> GetMany(TestClient& client,
                                             const std::vector<std::string>& keys) {
  std::map<std::string, Found> found;
  for (size_t first = 0; first < keys.size(); first += kKeysPerGet) {
    std::string request = "get";
    for (size_t i = first; i < keys.size() && i < first + kKeysPerGet; ++i) {
      request += " " + keys[i];
    }
    Result<std::string> reply = client.CallGet(request + "\r\n");
    if (!reply.ok()) return reply.status();
    Status parsed = ParseGetReply(*reply, &found);
    if (!parsed.ok()) return parsed;
  }
  return found;
}

}  // namespace warmcache::testutil
