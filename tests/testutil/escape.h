// SPDX-License-Identifier: BSD-3-Clause
// Byte escaping shared by test diagnostics and the conformance transcript format.
#pragma once

#include <string>
#include <string_view>

#include "server/common/status.h"

namespace warmcache::testutil {

// Printable ASCII stays as is; '\\' becomes "\\\\", CR/LF/TAB/NUL become \r \n \t \0, any
// other byte becomes \xNN. The result is a one-line, unambiguous picture of `bytes`.
std::string EscapeBytes(std::string_view bytes);

// Inverse of EscapeBytes: understands \r \n \t \0 \\ \xNN (two hex digits). Any other
// backslash sequence, or a trailing lone backslash, is kInvalidArgument.
Result<std::string> UnescapeBytes(std::string_view text);

}  // namespace warmcache::testutil
