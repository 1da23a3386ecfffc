// SPDX-License-Identifier: BSD-3-Clause
// memcached's -o key[=value],... extended options.
#pragma once

#include "server/app/settings.h"
#include "server/common/status.h"

namespace warmcache::app {

// Applies a comma-separated -o list. Options that shape memcached's slab allocator, LRU
// maintainer or extstore are accepted (so existing command lines start) and noted in
// settings->ignored; unknown ones are an error, as in memcached.
Status ApplySuboptions(const char* list, Settings* settings);

}  // namespace warmcache::app
