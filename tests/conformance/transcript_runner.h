// SPDX-License-Identifier: BSD-3-Clause
// Plays a conformance transcript against a running server and checks every reply byte.
#pragma once

#include <chrono>
#include <cstdint>

#include "server/common/status.h"
#include "tests/conformance/transcript.h"

namespace warmcache::conformance {

struct RunOptions {
  // How long each expectation waits for its bytes (and "<closed" for the close).
  std::chrono::milliseconds reply_timeout = std::chrono::seconds(2);
  // At the end, how long each open connection must stay silent: catches extra replies
  // (e.g. a reply to a noreply command).
  std::chrono::milliseconds quiet_period = std::chrono::milliseconds(100);
  // How long a "<quiet" step waits.
  std::chrono::milliseconds quiet_step = std::chrono::milliseconds(30);
};

// Runs `transcript` against the server on 127.0.0.1:`port`, connecting as the steps need.
// Returns OK if every expectation held. Otherwise the first failure, as
// "<case>.txt line N: ..." with the expected and received bytes escaped: kCorruption for a
// wrong reply, kIoError for connection trouble (timeout, unexpected close).
Status RunTranscript(const Transcript& transcript, uint16_t port, const RunOptions& options = {});

}  // namespace warmcache::conformance
