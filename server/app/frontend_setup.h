// SPDX-License-Identifier: BSD-3-Clause
// What the cache server and the proxy set up the same way from their settings: listening
// addresses, worker and parser limits, memcached's port file.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/listener.h"
#include "net/worker.h"
#include "server/app/settings.h"
#include "server/protocol/text_parser.h"

namespace warmcache::app {

// "host", "host:port", "[v6]:port" or a bare IPv6 address; the port defaults to `default_port`.
net::ListenSpec ParseListenAddress(const std::string& text, int default_port);
// -s, or -l (each comma-separated address) with -p; nothing with -p 0.
std::vector<net::ListenSpec> ListenSpecsFrom(const Settings& s);
protocol::ParserOptions ParserOptionsFrom(const Settings& s);
net::WorkerOptions WorkerOptionsFrom(const Settings& s);
// Binds every spec on the acceptor loop, appending to `listeners`; the error is one line.
Status OpenListeners(const std::vector<net::ListenSpec>& specs, int backlog, net::Loop* acceptor,
                     const net::Listener::AcceptFn& on_accept, net::ConnRegistry* registry,
                     std::vector<std::unique_ptr<net::Listener>>* listeners);
// memcached's test hook, which test suites rely on: with -p -1 the ports chosen are written
// to $MEMCACHED_PORT_FILENAME, atomically (written aside, then renamed).
void WritePortFile(const std::vector<std::unique_ptr<net::Listener>>& listeners);

// The acceptor's counters, as `stats` reports them.
struct ConnectionCounts {
  std::atomic<int> open{0};  // decremented by the workers as connections close
  std::atomic<uint64_t> total{0};
  std::atomic<uint64_t> rejected{0};
};
// -c: true if the accepted `fd` may be handed to a worker (counted as open); otherwise it is
// refused as memcached refuses it ("ERROR Too many open connections" with maxconns_fast) and
// closed.
bool AdmitConnection(int fd, const Settings& s, ConnectionCounts* counts);

}  // namespace warmcache::app
