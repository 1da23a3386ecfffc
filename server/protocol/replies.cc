// SPDX-License-Identifier: BSD-3-Clause
#include "server/protocol/replies.h"

#include <charconv>
#include <cstring>

namespace warmcache::protocol::reply {

namespace {
char* PutNumber(char* p, uint64_t value) { return std::to_chars(p, p + 21, value).ptr; }
}  // namespace

size_t FormatValueHeader(char* buf, std::string_view key, uint32_t flags, uint32_t bytes,
                         const uint64_t* cas) {
  char* p = buf;
  std::memcpy(p, "VALUE ", 6);
  p += 6;
  std::memcpy(p, key.data(), key.size());
  p += key.size();
  *p++ = ' ';
  p = PutNumber(p, flags);
  *p++ = ' ';
  p = PutNumber(p, bytes);
  if (cas != nullptr) {
    *p++ = ' ';
    p = PutNumber(p, *cas);
  }
  *p++ = '\r';
  *p++ = '\n';
  return static_cast<size_t>(p - buf);
}

size_t FormatNumberLine(char* buf, uint64_t value) {
  char* p = PutNumber(buf, value);
  *p++ = '\r';
  *p++ = '\n';
  return static_cast<size_t>(p - buf);
}

void AppendStat(std::string& out, std::string_view name, std::string_view value) {
  out.append("STAT ");
  out.append(name);
  out.push_back(' ');
  out.append(value);
  out.append("\r\n");
}

void AppendStat(std::string& out, std::string_view name, uint64_t value) {
  char buf[24];
  char* end = PutNumber(buf, value);
  AppendStat(out, name, std::string_view(buf, static_cast<size_t>(end - buf)));
}

}  // namespace warmcache::protocol::reply
