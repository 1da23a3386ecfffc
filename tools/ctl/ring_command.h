// SPDX-License-Identifier: BSD-3-Clause
// `warmcachectl ring ...`: where keys live in a twemproxy pool file (issue #6).
#pragma once

#include "tools/ctl/ctl_args.h"

namespace warmcache::ctl {

// args: what follows "ring" (e.g. {"--pool", "FILE", "KEY"}). Returns the process exit code.
int RunRingCommand(const Args& args);

}  // namespace warmcache::ctl
