// SPDX-License-Identifier: BSD-3-Clause
#include "server/common/status.h"

namespace warmcache {

namespace {
const char* CodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kExists:
      return "exists";
    case StatusCode::kNotStored:
      return "not stored";
    case StatusCode::kTooLarge:
      return "too large";
    case StatusCode::kNoMemory:
      return "out of memory";
    case StatusCode::kNonNumeric:
      return "non-numeric";
    case StatusCode::kIoError:
      return "I/O error";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kBusy:
      return "busy";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kShutdown:
      return "shutting down";
  }
  return "unknown";
}
}  // namespace

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = CodeName(code());
  if (!message().empty()) {
    out += ": ";
    out += message();
  }
  return out;
}

}  // namespace warmcache
