// SPDX-License-Identifier: BSD-3-Clause
// warmcachectl: offline and admin tools for warmcache. One file per command group; this file
// only lists the groups.
#include <vector>

#include "tools/ctl/ctl_args.h"
#include "tools/ctl/ring_command.h"
#include "tools/ctl/snapshot_command.h"

namespace {

constexpr const char* kHelp =
    "Usage: warmcachectl COMMAND [ARGS...]\n"
    "Administers warmcache data: run 'warmcachectl COMMAND --help' for a command's usage.\n"
    "Exit status: 0 ok, 1 the command failed (e.g. a damaged file), 64 usage error.";

}  // namespace

int main(int argc, char** argv) {
  using namespace warmcache::ctl;
  const std::vector<Command> groups = {
      {"snapshot", "create, inspect, verify or restore a portable snapshot file",
       RunSnapshotCommand},
      {"ring", "which server of a pool file owns each key; `ring move`: hand-off after a change",
       RunRingCommand},
  };
  return Dispatch("", kHelp, groups, Args(argv + 1, argv + argc));
}
