// SPDX-License-Identifier: BSD-3-Clause
#include "tools/ctl/ctl_args.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

namespace warmcache::ctl {

int Fail(std::string_view message) {
  fmt::print(stderr, "warmcachectl: {}\n", message);
  return kExitFailure;
}

int UsageError(std::string_view command, std::string_view message) {
  const std::string full =
      command.empty() ? "warmcachectl" : fmt::format("warmcachectl {}", command);
  const std::string where = command.empty() ? "" : fmt::format("{}: ", command);
  fmt::print(stderr, "warmcachectl: {}{}\nTry '{} --help'.\n", where, message, full);
  return kExitUsage;
}

bool IsHelp(std::string_view arg) { return arg == "-h" || arg == "--help"; }

int Dispatch(std::string_view group, std::string_view help, const std::vector<Command>& commands,
             const Args& args) {
  if (args.empty()) return UsageError(group, "missing command");
  if (IsHelp(args[0])) {
    fmt::print("{}\nCommands:\n", help);
    for (const Command& c : commands) fmt::print("  {:<10} {}\n", c.name, c.summary);
    return kExitOk;
  }
  for (const Command& c : commands) {
    if (args[0] == c.name) return c.run(Args(args.begin() + 1, args.end()));
  }
  return UsageError(group, fmt::format("unknown command '{}'", args[0]));
}

PathArgs ParseOnePath(const Args& args) {
  PathArgs out;
  bool options_done = false;
  for (const std::string& arg : args) {
    if (!options_done && IsHelp(arg)) {
      out.kind = PathArgs::Kind::kHelp;
      return out;
    }
    if (!options_done && arg == "--") {
      options_done = true;
    } else if (!options_done && arg.size() > 1 && arg[0] == '-') {
      out.error = fmt::format("unknown option '{}'", arg);
      return out;
    } else if (!out.path.empty()) {
      out.error = "expected one PATH";
      return out;
    } else {
      out.path = arg;
    }
  }
  if (out.path.empty()) {
    out.error = "missing PATH";
    return out;
  }
  out.kind = PathArgs::Kind::kPath;
  return out;
}

std::string ParsedOptions::Get(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::string() : it->second;
}

ParsedOptions ParseOptions(const Args& args, const std::vector<std::string>& with_value,
                           const std::vector<std::string>& flags) {
  ParsedOptions p;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (IsHelp(arg)) {
      p.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      p.positional.push_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (std::find(flags.begin(), flags.end(), name) != flags.end() && eq == std::string::npos) {
      p.options[name] = "1";
    } else if (std::find(with_value.begin(), with_value.end(), name) == with_value.end()) {
      if (p.error.empty()) p.error = "unknown option " + arg;
    } else if (eq != std::string::npos) {
      p.options[name] = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      p.options[name] = args[++i];
    } else if (p.error.empty()) {
      p.error = arg + " needs a value";
    }
  }
  return p;
}

}  // namespace warmcache::ctl
