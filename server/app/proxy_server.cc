// SPDX-License-Identifier: BSD-3-Clause
#include "server/app/proxy_server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>

#include "server/protocol/replies.h"

namespace warmcache::app {

namespace {

using protocol::reply::AppendStat;

// A twemproxy `listen:` value: "host:port", or a unix socket "/path [mode]".
net::ListenSpec PoolListenSpec(const std::string& listen, const Settings& s) {
  if (!listen.empty() && listen[0] == '/') {
    net::ListenSpec spec;
    spec.is_unix = true;
    const size_t space = listen.find(' ');
    spec.path = listen.substr(0, space);
    spec.unix_mask = space == std::string::npos
                         ? s.unix_mask
                         : static_cast<int>(std::strtol(listen.c_str() + space + 1, nullptr, 8));
    return spec;
  }
  return ParseListenAddress(listen, s.port);
}

}  // namespace

ProxyServer::ProxyServer(const Settings& settings, const Clock* clock)
    : settings_(settings),
      clock_(clock),
      started_at_(clock->NowSeconds()),
      parser_(ParserOptionsFrom(settings)) {
  context_.parser = &parser_;
  context_.reqs_per_event = settings.reqs_per_event;
  context_.flush_enabled = settings.flush_enabled;
  context_.stats = [this](const std::string_view* args, int nargs) {
    return StatsReply(args, nargs);
  };
}

ProxyServer::~ProxyServer() {
  for (auto& worker : workers_) worker->Join();
}

Status ProxyServer::OpenListeners() {
  std::vector<net::ListenSpec> specs;
  if (settings_.listen_given || pool_->config().listen.empty()) {
    specs = ListenSpecsFrom(settings_);
  } else {
    specs.push_back(PoolListenSpec(pool_->config().listen, settings_));
  }
  auto on_accept = [this](int fd, bool is_unix, const std::string& listen_addr) {
    OnAccept(fd, is_unix, listen_addr);
  };
  return app::OpenListeners(specs, settings_.backlog, &acceptor_, on_accept, &registry_,
                            &listeners_);
}

Status ProxyServer::Start() {
  Result<ring::PoolConfig> config = ring::LoadPoolConfig(settings_.pool_file, settings_.pool_name);
  if (!config.ok()) return config.status();
  for (const std::string& warning : config->warnings) spdlog::warn("{}", warning);
  pool_ = std::make_shared<proxy::PoolState>(std::move(config).value(), clock_, 0);
  WC_RETURN_IF_ERROR(OpenListeners());
  connections_.total.store(listeners_.size(), std::memory_order_relaxed);
  WritePortFile(listeners_);
  net::WorkerContext context;
  context.clock = clock_;
  context.registry = &registry_;
  context.open_connections = &connections_.open;
  for (int i = 0; i < settings_.threads; ++i) {
    // The factory runs on worker i's thread; proxy_workers_[i] exists before it starts.
    auto factory = [this, i](net::Connection& conn) -> std::unique_ptr<net::ConnectionHandler> {
      return std::make_unique<proxy::ProxySession>(&context_, proxy_workers_[i].get(), &conn);
    };
    // One write per node per batch of events, whatever number of clients sent requests.
    context.after_events = [this, i] { proxy_workers_[i]->AfterEvents(); };
    workers_.push_back(
        std::make_unique<net::Worker>(i, WorkerOptionsFrom(settings_), context, factory));
    proxy_workers_.push_back(std::make_unique<proxy::ProxyWorker>(workers_.back().get(), pool_));
    workers_.back()->AddStopHook([pw = proxy_workers_.back().get()] { pw->Shutdown(); });
  }
  for (auto& worker : workers_) worker->Start();
  const int signums[] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};
  for (int i = 0; i < 4; ++i) {
    uv_signal_init(acceptor_.uv(), &signals_[i]);
    signals_[i].data = this;
    uv_signal_start(
        &signals_[i],
        [](uv_signal_t* handle, int signum) {
          auto* self = static_cast<ProxyServer*>(handle->data);
          if (signum == SIGHUP) {
            self->Reload();
            return;
          }
          spdlog::info("signal {} received: shutting down", signum);
          self->Shutdown();
        },
        signums[i]);
  }
  acceptor_.SetStopHook([this] { Shutdown(); });
  return Status::Ok();
}

void ProxyServer::Run() {
  acceptor_.Run();
  for (auto& worker : workers_) worker->Join();
  spdlog::info("shutdown complete");
}

void ProxyServer::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  for (auto& listener : listeners_) listener->Close();
  for (uv_signal_t& sig : signals_) uv_close(reinterpret_cast<uv_handle_t*>(&sig), nullptr);
  for (auto& worker : workers_) worker->Stop();
  acceptor_.Stop();
}

void ProxyServer::Reload() {
  Result<ring::PoolConfig> config = ring::LoadPoolConfig(settings_.pool_file, settings_.pool_name);
  if (!config.ok()) {
    spdlog::error("SIGHUP: pool file not reloaded, the old pool stays: {}",
                  config.status().message());
    return;
  }
  for (const std::string& warning : config->warnings) spdlog::warn("{}", warning);
  std::shared_ptr<proxy::PoolState> pool;
  {
    std::lock_guard lock(pool_mu_);
    if (config->listen != pool_->config().listen) {
      spdlog::warn("SIGHUP: `listen` changed; it takes effect at the next start");
    }
    pool = std::make_shared<proxy::PoolState>(std::move(config).value(), clock_, ++reloads_);
    // Ejected nodes stay out, with what they must drop before rejoining.
    pool->InheritFrom(*pool_);
    pool_ = pool;
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->Post([pw = proxy_workers_[i].get(), pool] { pw->SetPool(pool); });
  }
  spdlog::info("SIGHUP: pool {} reloaded: {} servers", pool->config().name, pool->size());
}

void ProxyServer::OnAccept(int fd, bool is_unix, const std::string& listen_addr) {
  if (!AdmitConnection(fd, settings_, &connections_)) return;
  net::Worker& worker = *workers_[next_worker_++ % workers_.size()];
  worker.Adopt(fd, is_unix, net::DescribeSocket(fd, is_unix, /*peer=*/true), listen_addr);
}

std::vector<std::string> ProxyServer::ListenerNames() const {
  std::vector<std::string> names;
  registry_.ForEach([&](const net::ConnInfo& info) {
    if (info.state.load() == net::ConnState::kListening) names.push_back(info.addr);
  });
  return names;
}

std::string ProxyServer::StatsReply(const std::string_view* args, int nargs) {
  if (nargs > 0 && args[0] != "proxy") return std::string(protocol::reply::kError);
  std::shared_ptr<proxy::PoolState> pool;
  uint64_t reloads = 0;
  {
    std::lock_guard lock(pool_mu_);
    pool = pool_;
    reloads = reloads_;
  }
  const int64_t now = clock_->NowSeconds();
  std::string out;
  AppendStat(out, "pid", static_cast<uint64_t>(getpid()));
  AppendStat(out, "uptime", static_cast<uint64_t>(now - started_at_));
  AppendStat(out, "time", static_cast<uint64_t>(now));
  AppendStat(out, "version", "1.6.18");
  AppendStat(out, "threads", static_cast<uint64_t>(settings_.threads));
  AppendStat(out, "curr_connections",
             static_cast<uint64_t>(connections_.open.load()) + listeners_.size());
  AppendStat(out, "total_connections", connections_.total.load());
  AppendStat(out, "rejected_connections", connections_.rejected.load());
  AppendStat(out, "proxy_pool", pool->config().name);
  AppendStat(out, "proxy_servers", static_cast<uint64_t>(pool->size()));
  AppendStat(out, "proxy_reloads", reloads);
  for (int i = 0; i < pool->size(); ++i) {
    const proxy::BackendCounters& c = pool->counters(i);
    const std::string prefix = "backend:" + pool->config().servers[i].Address() + ":";
    const uint64_t replies = c.replies.load();
    AppendStat(out, prefix + "ejected", uint64_t{pool->IsEjected(i) ? 1u : 0u});
    AppendStat(out, prefix + "requests", c.requests.load());
    AppendStat(out, prefix + "replies", replies);
    AppendStat(out, prefix + "errors", c.errors.load());
    AppendStat(out, prefix + "timeouts", c.timeouts.load());
    AppendStat(out, prefix + "ejections", c.ejections.load());
    AppendStat(out, prefix + "connections", c.connections.load());
    AppendStat(out, prefix + "latency_mean_us", replies ? c.latency_us.load() / replies : 0);
    AppendStat(out, prefix + "latency_max_us", c.latency_max_us.load());
  }
  out.append(protocol::reply::kEnd);
  return out;
}

}  // namespace warmcache::app
