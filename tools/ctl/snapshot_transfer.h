// SPDX-License-Identifier: BSD-3-Clause
// `warmcachectl snapshot create` and `snapshot restore`: files out of and into warm tiers.
#pragma once

#include "tools/ctl/ctl_args.h"

namespace warmcache::ctl {

extern const Command kSnapshotCreate;
extern const Command kSnapshotRestore;

}  // namespace warmcache::ctl
