// SPDX-License-Identifier: BSD-3-Clause
// NutcrackerOracle: asks a real twemproxy (Debian's nutcracker 0.5.0) which server it sends
// each key to. It runs fake memcached backends on loopback (each answers every get with END
// and notes the keys it was asked for), starts nutcracker on a pool file naming them, sends
// multi-gets through each pool's unix socket and reports, per key, the backend that saw it.
// Thread safety: none; one test thread. nutcracker is killed with the oracle (or the test).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/common/status.h"
#include "tests/testutil/temp_dir.h"

namespace warmcache::ring {

class NutcrackerOracle {
 public:
  // Binds `backends` listeners on 127.0.0.1 (ephemeral ports). kIoError if a bind fails.
  static Result<std::unique_ptr<NutcrackerOracle>> Create(int backends);
  ~NutcrackerOracle();
  NutcrackerOracle(const NutcrackerOracle&) = delete;
  NutcrackerOracle& operator=(const NutcrackerOracle&) = delete;

  uint16_t backend_port(int i) const { return backends_[i].port; }
  // Where pool `name` should listen: "listen: <ListenPath(name)> 0600".
  std::string ListenPath(const std::string& name) const;

  // Writes `pools_yaml` as nutcracker's pool file, starts nutcracker and waits until each of
  // `pools` accepts connections. kIoError with nutcracker's log if it does not start.
  Status Start(const std::string& pools_yaml, const std::vector<std::string>& pools);

  // For each key, the index of the backend nutcracker sent it to (-1 if none saw it).
  // Keys must be distinct and valid memcache keys. kIoError on a timeout or a closed socket.
  Result<std::vector<int>> Route(const std::string& pool, const std::vector<std::string>& keys);

 private:
  struct Backend {
    int listen_fd = -1;
    uint16_t port = 0;
    std::vector<int> conns;           // -1 once nutcracker closed one
    std::vector<std::string> inputs;  // one per conn
  };
  NutcrackerOracle() = default;
  Status RouteBatch(int client_fd, const std::vector<std::string>& keys, size_t begin, size_t end,
                    std::vector<int>* owners);
  void ServeBackend(int backend, size_t conn, std::vector<int>* owners);
  std::string Log() const;

  std::unique_ptr<testutil::TempDir> dir_;
  std::vector<Backend> backends_;
  std::unordered_map<std::string, size_t> key_index_;  // Route's keys -> their index
  pid_t pid_ = -1;
};

}  // namespace warmcache::ring
