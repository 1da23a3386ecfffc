// SPDX-License-Identifier: BSD-3-Clause
// What every warmcachectl command shares: exit codes, messages, argument checks.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace warmcache::ctl {

// 64 is sysexits.h's EX_USAGE, which scripts already know.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and found a problem (a bad file)
inline constexpr int kExitUsage = 64;

// The arguments after a command's name, e.g. {"PATH"} for `warmcachectl snapshot verify PATH`.
using Args = std::vector<std::string>;

// A command or command group: `run` gets the arguments after `name` and returns an exit code.
struct Command {
  const char* name;
  const char* summary;  // one line, for the group's help
  int (*run)(const Args& args);
};

// Prints "warmcachectl: <message>" on stderr, one line; returns kExitFailure.
int Fail(std::string_view message);
// Prints "warmcachectl: <command>: <message>" and a hint to use --help on stderr; kExitUsage.
// `command` is e.g. "snapshot verify", or empty for the top level.
int UsageError(std::string_view command, std::string_view message);

bool IsHelp(std::string_view arg);  // -h or --help

// Runs the command named by args[0] from `commands`, passing it the rest. `group` names the
// caller in messages ("snapshot"); `help` is printed for -h/--help.
int Dispatch(std::string_view group, std::string_view help, const std::vector<Command>& commands,
             const Args& args);

// For commands that take exactly one PATH and no options.
struct PathArgs {
  enum class Kind { kPath, kHelp, kError } kind = Kind::kError;
  std::string path;   // kPath
  std::string error;  // kError: what was wrong
};
PathArgs ParseOnePath(const Args& args);

// `--name VALUE`, `--name=VALUE` and `--flag` options; anything else (not starting with "--") is
// a positional argument. -h/--help anywhere sets `help`.
struct ParsedOptions {
  std::map<std::string, std::string> options;  // a flag present maps to "1"
  std::vector<std::string> positional;
  bool help = false;
  std::string error;  // the first unknown option or missing value; empty if none

  // The option's value, or "" when absent.
  std::string Get(const std::string& name) const;
  bool Has(const std::string& name) const { return options.count(name) > 0; }
};
ParsedOptions ParseOptions(const Args& args, const std::vector<std::string>& with_value,
                           const std::vector<std::string>& flags);

}  // namespace warmcache::ctl
