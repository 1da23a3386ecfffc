// SPDX-License-Identifier: BSD-3-Clause
// Conformance transcripts: the parsed form of tests/conformance/cases/*.txt.
// The file format is documented in tests/conformance/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace warmcache::conformance {

enum class StepKind {
  kSend,              // "> text" (text + \r\n) and ">> text" (text as is)
  kExpectBytes,       // "< text" (text + \r\n) and "<< text" (text as is)
  kExpectLineRegex,   // "<~ regex": one \r\n-terminated line matching regex
  kExpectLinesRegex,  // "<* regex": zero or more lines matching regex
  kExpectClosed,      // "<closed": the server closes the connection
  kExpectQuiet,       // "<quiet": nothing arrives for a while (e.g. after half a command)
  kUseConnection,     // "@conn NAME": later steps use connection NAME
  kCloseConnection,   // "@close": the client closes the current connection
  kStatsDelta,        // "+ NAME DELTA": stat NAME changed by DELTA since the last check
};

struct Step {
  StepKind kind;
  // Payload before ${...} expansion (and, for bytes, before unescaping); for kUseConnection
  // the connection name; for kStatsDelta the stat name.
  std::string text;
  bool append_crlf = false;  // kSend / kExpectBytes: add "\r\n" after the payload
  int64_t delta = 0;         // kStatsDelta
  int line = 0;              // 1-based line in the case file, for messages
};

struct Transcript {
  std::string name;                     // file stem, e.g. "basic_set"
  std::vector<std::string> extra_args;  // from "# args:" lines
  std::string known_difference;         // from "# known-difference:"; empty if none
  std::vector<Step> steps;
  bool uses_stats_delta = false;
};

// Parses a case file. Every payload is checked (escapes, ${...} forms, regex syntax), so a
// broken case fails before any server is started. Errors are kInvalidArgument, "line N: ...".
Result<Transcript> ParseTranscript(std::string_view name, std::string_view text);
// Reads and parses `path`; the name is the file stem.
Result<Transcript> LoadTranscript(const std::string& path);

// What ${...} can refer to while a case runs.
struct Context {
  int64_t now = 0;  // unix time in seconds
  // Capture groups of the last "<~" line: ${1} is captures[1]. Null while parsing, when any
  // ${N} expands to "0".
  const std::vector<std::string>* captures = nullptr;
};

// Expands ${now}, ${now+N}, ${now-N} (unix time plus or minus N), ${rep N TEXT} (TEXT
// repeated N times; TEXT runs to the matching closing brace) and ${N} (capture group N).
// Forms nest: the inside of ${...} is expanded first.
Result<std::string> ExpandVariables(std::string_view raw, const Context& context);
// ExpandVariables, then UnescapeBytes, then "\r\n" if step.append_crlf: the bytes to send or
// expect.
Result<std::string> StepBytes(const Step& step, const Context& context);

}  // namespace warmcache::conformance
