// SPDX-License-Identifier: BSD-3-Clause
// Command line and config file -> Settings, with memcached's option syntax (getopt_long, the
// parser memcached itself uses) and its error messages where it has them.
#pragma once

#include <string>
#include <vector>

#include "server/app/settings.h"
#include "server/common/status.h"

namespace warmcache::app {

// What main() should do after parsing.
enum class ParseAction { kRun, kPrintHelp, kPrintVersion, kPrintLicense };

struct ParsedOptions {
  Settings settings;
  ParseAction action = ParseAction::kRun;
};

// Exit status for a bad command line, as memcached (EX_USAGE).
inline constexpr int kExitUsage = 64;

// Parses argv (argv[0] included). --config FILE is read first, so the command line wins.
// Errors are one line, ready for stderr.
Result<ParsedOptions> ParseOptions(const std::vector<std::string>& args);

// Splits a Debian memcached.conf: one option per line, '#' comments, blank lines ignored.
Result<std::vector<std::string>> ReadConfigFile(const std::string& path);

std::string HelpText();

}  // namespace warmcache::app
