// SPDX-License-Identifier: BSD-3-Clause
// The `servers:` entries of a pool file. twemproxy (src/nc_conf.c, conf_add_server) reads an
// entry from its end: an optional " name", then ":weight", then ":port", and the rest is the
// host. It also takes "/path/unix_socket:weight [name]"; warmcache refuses those and IPv6
// literals, which its "host:port" addresses cannot carry unambiguously.
#include <charconv>
#include <set>
#include <string>
#include <string_view>

#include "server/ring/pool_config_internal.h"

namespace warmcache::ring {

namespace {

constexpr uint32_t kMaxWeight = 65535;
// twemproxy formats "<name>-<n>" into an 86-byte buffer (KETAMA_MAX_HOSTLEN) but hashes the
// untruncated length, so a longer name hashes bytes past its end. 80 leaves room for "-9999".
constexpr size_t kMaxIdentity = 80;

// Digits only, as twemproxy's nc_atoi, and no leading zero: twemproxy would hash the port as
// written ("h:011212"), which HashIdentity() cannot reproduce from a number.
bool ParseDecimal(std::string_view text, uint32_t max, uint32_t* out) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > max) return false;
  *out = static_cast<uint32_t>(value);
  return true;
}

Status Invalid(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("server '" + std::string(text) + "' " + std::string(why));
}

}  // namespace

Result<Node> ParseServer(std::string_view text) {
  constexpr std::string_view kShape = "is not \"host:port:weight [name]\"";
  if (!text.empty() && text[0] == '/') {
    return Invalid(text, "is a unix socket; warmcache pools take host:port servers only");
  }
  Node node;
  std::string_view address = text;
  if (const size_t space = text.find(' '); space != std::string_view::npos) {
    address = text.substr(0, space);
    node.name = std::string(text.substr(space + 1));
    if (node.name.empty() || node.name.find_first_of(" \t") != std::string::npos) {
      return Invalid(text, "has a name with spaces, or more than one space before it");
    }
  }
  const size_t weight_colon = address.rfind(':');
  if (weight_colon == std::string_view::npos || weight_colon == 0) return Invalid(text, kShape);
  const size_t port_colon = address.rfind(':', weight_colon - 1);
  if (port_colon == std::string_view::npos || port_colon == 0) return Invalid(text, kShape);
  const std::string_view host = address.substr(0, port_colon);
  if (host.find_first_of(":[]") != std::string_view::npos) {
    return Invalid(text, "has an IPv6 address; warmcache pools take IPv4 addresses or names");
  }
  uint32_t port = 0;
  if (!ParseDecimal(address.substr(port_colon + 1, weight_colon - port_colon - 1), 65535, &port) ||
      port == 0) {
    return Invalid(text, "has an invalid port (1-65535, no leading zeros)");
  }
  std::string_view weight = address.substr(weight_colon + 1);
  if (!ParseDecimal(weight, kMaxWeight, &node.weight) || node.weight == 0) {
    return Invalid(text, "has an invalid weight (1-65535)");
  }
  node.host = std::string(host);
  node.port = static_cast<uint16_t>(port);
  if (node.HashIdentity().size() > kMaxIdentity) {
    return Invalid(text,
                   "has a name (or host:port) longer than 80 characters, which "
                   "twemproxy cannot hash correctly");
  }
  return node;
}

Status CheckDistinctServers(const std::vector<Node>& servers) {
  std::set<std::string> identities;
  std::set<std::string> addresses;
  for (const Node& node : servers) {
    if (!identities.insert(node.HashIdentity()).second) {
      return Status::InvalidArgument("two servers share the name '" + node.HashIdentity() +
                                     "' (twemproxy refuses this too)");
    }
    if (!addresses.insert(node.Address()).second) {
      return Status::InvalidArgument("server " + node.Address() + " is listed twice");
    }
  }
  return Status::Ok();
}

}  // namespace warmcache::ring
