// SPDX-License-Identifier: BSD-3-Clause
// `warmcachectl snapshot ...`: the portable snapshot file (issue #5).
#pragma once

#include "tools/ctl/ctl_args.h"

namespace warmcache::ctl {

// args: what follows "snapshot" (e.g. {"verify", "PATH"}). Returns the process exit code.
int RunSnapshotCommand(const Args& args);

}  // namespace warmcache::ctl
