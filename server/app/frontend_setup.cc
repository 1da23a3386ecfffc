// SPDX-License-Identifier: BSD-3-Clause
#include "server/app/frontend_setup.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "server/protocol/replies.h"

namespace warmcache::app {

protocol::ParserOptions ParserOptionsFrom(const Settings& s) {
  protocol::ParserOptions o;
  o.max_value_len = s.item_size_max;
  return o;
}

net::WorkerOptions WorkerOptionsFrom(const Settings& s) {
  net::WorkerOptions o;
  o.idle_timeout_seconds = s.idle_timeout;
  // Room for the largest request: a full-size value and its command line, or a long multiget.
  o.limits.max_input = std::max(s.item_size_max + 4096, protocol::ParserOptions().max_get_line);
  return o;
}

net::ListenSpec ParseListenAddress(const std::string& text, int default_port) {
  net::ListenSpec spec;
  spec.port = default_port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    spec.host = text.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < text.size() && text[close + 1] == ':') {
      spec.port = std::atoi(text.c_str() + close + 2);
    }
    return spec;
  }
  const size_t colon = text.find(':');
  if (colon != std::string::npos && text.find(':', colon + 1) == std::string::npos) {
    spec.host = text.substr(0, colon);
    spec.port = std::atoi(text.c_str() + colon + 1);
  } else {
    spec.host = text;
  }
  return spec;
}

std::vector<net::ListenSpec> ListenSpecsFrom(const Settings& s) {
  std::vector<net::ListenSpec> specs;
  if (!s.unix_socket.empty()) {
    net::ListenSpec spec;
    spec.is_unix = true;
    spec.path = s.unix_socket;
    spec.unix_mask = s.unix_mask;
    specs.push_back(spec);  // a unix socket replaces TCP, as in memcached
    return specs;
  }
  if (s.port == 0) return specs;
  if (s.listen.empty()) specs.push_back(ParseListenAddress("", s.port));
  for (const std::string& arg : s.listen) {
    size_t start = 0;
    while (start <= arg.size()) {
      const size_t comma = std::min(arg.find(',', start), arg.size());
      if (comma > start)
        specs.push_back(ParseListenAddress(arg.substr(start, comma - start), s.port));
      start = comma + 1;
    }
  }
  return specs;
}

Status OpenListeners(const std::vector<net::ListenSpec>& specs, int backlog, net::Loop* acceptor,
                     const net::Listener::AcceptFn& on_accept, net::ConnRegistry* registry,
                     std::vector<std::unique_ptr<net::Listener>>* listeners) {
  for (const net::ListenSpec& spec : specs) {
    auto opened = net::Listener::Open(acceptor, spec, backlog, on_accept, registry);
    if (!opened.ok()) return opened.status();
    for (auto& listener : *opened) listeners->push_back(std::move(listener));
  }
  return Status::Ok();
}

void WritePortFile(const std::vector<std::unique_ptr<net::Listener>>& listeners) {
  const char* path = std::getenv("MEMCACHED_PORT_FILENAME");
  if (path == nullptr) return;
  const std::string temp = std::string(path) + ".lck";
  {
    std::ofstream out(temp, std::ios::trunc);
    for (const auto& listener : listeners) {
      if (listener->is_unix()) continue;
      out << "TCP " << (listener->is_ipv6() ? "INET6" : "INET") << ": " << listener->port() << "\n";
    }
  }
  if (std::rename(temp.c_str(), path) != 0) spdlog::warn("cannot write port file {}", path);
}

bool AdmitConnection(int fd, const Settings& s, ConnectionCounts* counts) {
  if (counts->open.load(std::memory_order_relaxed) >= s.max_connections) {
    counts->rejected.fetch_add(1, std::memory_order_relaxed);
    const std::string_view refusal = protocol::reply::kTooManyConnections;
    if (s.maxconns_fast)
      (void)!send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
    return false;
  }
  counts->open.fetch_add(1, std::memory_order_relaxed);
  counts->total.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace warmcache::app
