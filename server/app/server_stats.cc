// SPDX-License-Identifier: BSD-3-Clause
// The `stats` family, with memcached's names and order so dashboards and tools keep working.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "server/app/server.h"
#include "server/common/numbers.h"
#include "server/protocol/replies.h"
#include "warmcache_version.h"

namespace warmcache::app {

using protocol::reply::AppendStat;

namespace {

constexpr std::string_view kMemcachedVersion = "1.6.18";
constexpr uint64_t kPageBytes = 1024 * 1024;  // memcached's slab page, for `stats slabs`

std::string Seconds(const timeval& tv) {
  return fmt::format("{}.{:06d}", static_cast<long>(tv.tv_sec), static_cast<int>(tv.tv_usec));
}

const char* YesNo(bool b) { return b ? "yes" : "no"; }

}  // namespace

StatsSnapshot Server::SumThreadStats() const {
  StatsSnapshot sum;
  for (const auto& worker : workers_) sum.Add(worker->stats());
  std::lock_guard lock(stats_mu_);
  sum.Subtract(stats_baseline_);
  return sum;
}

std::string Server::StatsReply(const std::string_view* args, int nargs) {
  std::string out;
  const std::string_view sub = nargs > 0 ? args[0] : std::string_view();
  if (nargs == 0) {
    WriteGeneralStats(out);
  } else if (sub == "reset") {
    ResetStats();
    return std::string(protocol::reply::kReset);
  } else if (sub == "detail") {
    return StatsDetail(args, nargs);
  } else if (sub == "settings") {
    WriteSettingsStats(out);
  } else if (sub == "items") {
    WriteItemsStats(out);
  } else if (sub == "slabs") {
    WriteSlabsStats(out);
  } else if (sub == "sizes") {
    AppendStat(out, "sizes_status", "disabled");
  } else if (sub == "conns") {
    WriteConnsStats(out);
  } else if (sub == "cachedump") {
    return CacheDump(args, nargs);
  } else {
    return std::string(protocol::reply::kError);
  }
  out.append(protocol::reply::kEnd);
  return out;
}

// What memcached's `stats reset` clears: request counters, cumulative tier counters, connection
// totals and per-prefix stats. Gauges (curr_items, bytes, curr_connections) are kept.
void Server::ResetStats() {
  StatsSnapshot now;
  for (const auto& worker : workers_) now.Add(worker->stats());
  {
    std::lock_guard lock(stats_mu_);
    stats_baseline_ = now;
  }
  memory_.ResetStats();
  if (warm_) warm_->ResetStats();
  prefix_stats_.Clear();
  connections_.total.store(0, std::memory_order_relaxed);
  connections_.rejected.store(0, std::memory_order_relaxed);
  crawler_passes_.store(0, std::memory_order_relaxed);
}

// memcached's `stats cachedump <class> <limit>`: "ITEM <key> [<bytes> b; <exptime> s]" lines
// for live items of one size class (limit 0 = no count limit), at most 2 MB, then END.
std::string Server::CacheDump(const std::string_view* args, int nargs) {
  if (!settings_.dump_enabled) return std::string(protocol::reply::kCachedumpDisabled);
  if (nargs < 3) return std::string(protocol::reply::kBadCommandLine);
  uint32_t id = 0;
  uint32_t limit = 0;
  if (!SafeStrtoul(args[1], &id) || !SafeStrtoul(args[2], &limit)) {
    return std::string(protocol::reply::kBadFormat);
  }
  if (id >= storage::SizeClasses::kMaxClasses) return "CLIENT_ERROR Illegal slab id\r\n";
  constexpr size_t kMaxDumpBytes = 2 * 1024 * 1024;  // memcached's cap
  std::string out;
  uint32_t shown = 0;
  memory_.ForEachLiveItem([&](const storage::Item& item, int64_t) {
    if (item.size_class != id) return true;
    std::string line =
        fmt::format("ITEM {} [{} b; {} s]\r\n", item.key(), item.value_len, item.exptime);
    if (out.size() + line.size() + 5 > kMaxDumpBytes) return false;
    out += line;
    return limit == 0 || ++shown < limit;
  });
  out += "END\r\n";
  return out;
}

std::string Server::StatsDetail(const std::string_view* args, int nargs) {
  const std::string_view mode = nargs >= 2 ? args[1] : std::string_view();
  if (mode == "on") {
    prefix_stats_.SetEnabled(true);
    return "OK\r\n";
  }
  if (mode == "off") {
    prefix_stats_.SetEnabled(false);
    return "OK\r\n";
  }
  if (mode == "dump") return prefix_stats_.Dump();
  return std::string(protocol::reply::kStatsDetailUsage);
}

void Server::WriteGeneralStats(std::string& out) {
  const StatsSnapshot t = SumThreadStats();
  const storage::MemoryTierStats m = memory_.Stats();
  const int64_t now = clock_->NowSeconds();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  uint64_t cmd_set = 0;
  for (const auto& c : t.classes) cmd_set += c.cmd_set;
  const uint64_t listeners = listeners_.size();
  const uint64_t conns = static_cast<uint64_t>(connections_.open.load());

  AppendStat(out, "pid", static_cast<uint64_t>(getpid()));
  AppendStat(out, "uptime", static_cast<uint64_t>(now - started_at_));
  AppendStat(out, "time", static_cast<uint64_t>(now));
  AppendStat(out, "version", kMemcachedVersion);
  AppendStat(out, "libevent", std::string("libuv-") + uv_version_string());
  AppendStat(out, "pointer_size", uint64_t{8 * sizeof(void*)});
  AppendStat(out, "rusage_user", Seconds(usage.ru_utime));
  AppendStat(out, "rusage_system", Seconds(usage.ru_stime));
  AppendStat(out, "max_connections", static_cast<uint64_t>(settings_.max_connections));
  AppendStat(out, "curr_connections", conns);
  AppendStat(out, "total_connections", connections_.total.load());
  AppendStat(out, "rejected_connections", connections_.rejected.load());
  AppendStat(out, "connection_structures", conns + listeners);
  AppendStat(out, "response_obj_oom", uint64_t{0});
  AppendStat(out, "response_obj_count", conns);
  AppendStat(out, "response_obj_bytes", uint64_t{0});
  AppendStat(out, "read_buf_count", conns);
  AppendStat(out, "read_buf_bytes", uint64_t{0});
  AppendStat(out, "read_buf_bytes_free", uint64_t{0});
  AppendStat(out, "read_buf_oom", uint64_t{0});
  AppendStat(out, "reserved_fds", static_cast<uint64_t>(5 + 3 * settings_.threads));
  AppendStat(out, "cmd_get", t.get_cmds);
  AppendStat(out, "cmd_set", cmd_set);
  AppendStat(out, "cmd_flush", t.flush_cmds);
  AppendStat(out, "cmd_touch", t.touch_cmds);
  AppendStat(out, "cmd_meta", t.meta_cmds);
  AppendStat(out, "get_hits", t.get_hits);
  AppendStat(out, "get_misses", t.get_misses);
  AppendStat(out, "get_expired", t.get_expired);
  AppendStat(out, "get_flushed", t.get_flushed);
  AppendStat(out, "delete_misses", t.delete_misses);
  AppendStat(out, "delete_hits", t.delete_hits);
  AppendStat(out, "incr_misses", t.incr_misses);
  AppendStat(out, "incr_hits", t.incr_hits);
  AppendStat(out, "decr_misses", t.decr_misses);
  AppendStat(out, "decr_hits", t.decr_hits);
  AppendStat(out, "cas_misses", t.cas_misses);
  AppendStat(out, "cas_hits", t.cas_hits);
  AppendStat(out, "cas_badval", t.cas_badval);
  AppendStat(out, "touch_hits", t.touch_hits);
  AppendStat(out, "touch_misses", t.touch_misses);
  AppendStat(out, "store_too_large", t.store_too_large);
  AppendStat(out, "store_no_memory", t.store_no_memory);
  AppendStat(out, "auth_cmds", t.auth_cmds);
  AppendStat(out, "auth_errors", t.auth_errors);
  AppendStat(out, "bytes_read", t.bytes_read);
  AppendStat(out, "bytes_written", t.bytes_written);
  AppendStat(out, "limit_maxbytes", static_cast<uint64_t>(memory_.memory_limit()));
  AppendStat(out, "accepting_conns",
             uint64_t{shutting_down_.load(std::memory_order_relaxed) ? 0u : 1u});
  AppendStat(out, "listen_disabled_num", uint64_t{0});
  AppendStat(out, "time_in_listen_disabled_us", uint64_t{0});
  AppendStat(out, "threads", static_cast<uint64_t>(settings_.threads));
  AppendStat(out, "conn_yields", t.conn_yields);
  uint64_t power = 0;
  while ((uint64_t{1} << power) < m.hash_buckets) ++power;
  AppendStat(out, "hash_power_level", power);
  AppendStat(out, "hash_bytes", m.hash_buckets * sizeof(void*));
  AppendStat(out, "hash_is_expanding", uint64_t{0});
  for (const char* name :
       {"slab_reassign_rescues", "slab_reassign_chunk_rescues", "slab_reassign_evictions_nomem",
        "slab_reassign_inline_reclaim", "slab_reassign_busy_items", "slab_reassign_busy_deletes",
        "slab_reassign_running", "slabs_moved", "lru_crawler_running"}) {
    AppendStat(out, name, uint64_t{0});
  }
  AppendStat(out, "lru_crawler_starts", crawler_passes_.load());
  AppendStat(out, "lru_maintainer_juggles", uint64_t{0});
  AppendStat(out, "malloc_fails", m.malloc_fails);
  for (const char* name :
       {"log_worker_dropped", "log_worker_written", "log_watcher_skipped", "log_watcher_sent",
        "log_watchers", "unexpected_napi_ids", "round_robin_fallback"}) {
    AppendStat(out, name, uint64_t{0});
  }
  AppendStat(out, "bytes", m.bytes);
  AppendStat(out, "curr_items", m.curr_items);
  AppendStat(out, "total_items", m.total_items);
  AppendStat(out, "slab_global_page_pool", uint64_t{0});
  AppendStat(out, "expired_unfetched", m.expired_unfetched);
  AppendStat(out, "evicted_unfetched", m.evicted_unfetched);
  AppendStat(out, "evicted_active", uint64_t{0});
  AppendStat(out, "evictions", m.evictions);
  AppendStat(out, "reclaimed", m.reclaimed);
  AppendStat(out, "crawler_reclaimed", m.crawler_reclaimed);
  AppendStat(out, "crawler_items_checked", m.crawler_items_checked);
  AppendStat(out, "lrutail_reflocked", uint64_t{0});
  uint64_t to_protected = 0;
  uint64_t to_probation = 0;
  for (const auto& c : m.classes) {
    to_protected += c.moves_to_protected;
    to_probation += c.moves_to_probation;
  }
  AppendStat(out, "moves_to_cold", to_probation);
  AppendStat(out, "moves_to_warm", to_protected);
  AppendStat(out, "moves_within_lru", uint64_t{0});
  AppendStat(out, "direct_reclaims", uint64_t{0});
  AppendStat(out, "lru_bumps_dropped", uint64_t{0});
  // warmcache's own, after memcached's.
  AppendStat(out, "warmcache_version", WARMCACHE_VERSION);
  AppendStat(out, "hot_items", m.curr_items);
  AppendStat(out, "hot_bytes", m.used_memory);
  WriteWarmStats(out, t);
}

void Server::WriteSettingsStats(std::string& out) const {
  const Settings& s = settings_;
  AppendStat(out, "maxbytes", static_cast<uint64_t>(memory_.memory_limit()));
  AppendStat(out, "maxconns", static_cast<uint64_t>(s.max_connections));
  AppendStat(out, "tcpport", std::to_string(s.port));
  AppendStat(out, "udpport", std::to_string(s.udp_port));
  std::string inter;
  for (const std::string& l : s.listen) inter += (inter.empty() ? "" : ",") + l;
  AppendStat(out, "inter", inter.empty() ? "NULL" : inter);
  AppendStat(out, "verbosity", static_cast<uint64_t>(s.verbose));
  AppendStat(out, "oldest", static_cast<uint64_t>(memory_.Stats().oldest_item_age));
  AppendStat(out, "evictions", s.evictions ? "on" : "off");
  AppendStat(out, "domain_socket", s.unix_socket.empty() ? "NULL" : s.unix_socket);
  AppendStat(out, "umask", fmt::format("{:o}", s.unix_mask));
  AppendStat(out, "shutdown_command", YesNo(s.shutdown_enabled));
  AppendStat(out, "growth_factor", fmt::format("{:.2f}", s.growth_factor));
  AppendStat(out, "chunk_size", static_cast<uint64_t>(s.chunk_size));
  AppendStat(out, "num_threads", static_cast<uint64_t>(s.threads));
  AppendStat(out, "num_threads_per_udp", static_cast<uint64_t>(s.threads));
  AppendStat(out, "stat_key_prefix", std::string(1, s.prefix_delimiter));
  AppendStat(out, "detail_enabled", YesNo(prefix_stats_.enabled()));
  AppendStat(out, "reqs_per_event", static_cast<uint64_t>(s.reqs_per_event));
  AppendStat(out, "cas_enabled", YesNo(s.use_cas));
  AppendStat(out, "tcp_backlog", static_cast<uint64_t>(s.backlog));
  AppendStat(out, "binding_protocol", s.protocol == "auto" ? "auto-negotiate" : s.protocol);
  AppendStat(out, "auth_enabled_sasl", "no");
  AppendStat(out, "auth_enabled_ascii", "no");
  AppendStat(out, "item_size_max", static_cast<uint64_t>(s.item_size_max));
  AppendStat(out, "maxconns_fast", YesNo(s.maxconns_fast));
  AppendStat(out, "hashpower_init", static_cast<uint64_t>(s.hashpower));
  AppendStat(out, "slab_reassign", "no");
  AppendStat(out, "slab_automove", uint64_t{0});
  AppendStat(out, "slab_automove_ratio", "0.80");
  AppendStat(out, "slab_automove_window", uint64_t{30});
  AppendStat(out, "slab_chunk_max", static_cast<uint64_t>(s.slab_chunk_max));
  AppendStat(out, "lru_crawler", YesNo(s.lru_crawler));
  AppendStat(out, "lru_crawler_sleep", static_cast<uint64_t>(s.lru_crawler_sleep));
  AppendStat(out, "lru_crawler_tocrawl", static_cast<uint64_t>(s.lru_crawler_tocrawl));
  AppendStat(out, "tail_repair_time", uint64_t{0});
  AppendStat(out, "flush_enabled", YesNo(s.flush_enabled));
  AppendStat(out, "dump_enabled", YesNo(s.dump_enabled));
  AppendStat(out, "hash_algorithm", "xxh3");
  AppendStat(out, "lru_maintainer_thread", "no");
  AppendStat(out, "lru_segmented", "yes");
  // memcached's LRU-maintainer, log and extstore settings: reported at memcached's defaults so
  // tools that read them find them; they shape nothing here (docs/compatibility.md).
  AppendStat(out, "hot_lru_pct", uint64_t{20});
  AppendStat(out, "warm_lru_pct", uint64_t{40});
  AppendStat(out, "hot_max_factor", "0.20");
  AppendStat(out, "warm_max_factor", "2.00");
  AppendStat(out, "temp_lru", "no");
  AppendStat(out, "temporary_ttl", uint64_t{61});
  AppendStat(out, "idle_timeout", static_cast<uint64_t>(s.idle_timeout));
  AppendStat(out, "watcher_logbuf_size", uint64_t{262144});
  AppendStat(out, "worker_logbuf_size", uint64_t{65536});
  AppendStat(out, "read_buf_mem_limit", uint64_t{0});
  AppendStat(out, "track_sizes", "no");
  AppendStat(out, "inline_ascii_response", "no");
  AppendStat(out, "ext_item_size", uint64_t{512});
  AppendStat(out, "ext_item_age", uint64_t{4294967295u});
  AppendStat(out, "ext_low_ttl", uint64_t{0});
  AppendStat(out, "ext_recache_rate", uint64_t{2000});
  AppendStat(out, "ext_wbuf_size", uint64_t{4194304});
  AppendStat(out, "ext_compact_under", uint64_t{0});
  AppendStat(out, "ext_drop_under", uint64_t{0});
  AppendStat(out, "ext_max_sleep", uint64_t{1000000});
  AppendStat(out, "ext_max_frag", "0.80");
  AppendStat(out, "slab_automove_freeratio", "0.010");
  AppendStat(out, "ext_drop_unread", "no");
  AppendStat(out, "ssl_enabled", "no");
  AppendStat(out, "ssl_chain_cert", "(null)");
  AppendStat(out, "ssl_key", "(null)");
  AppendStat(out, "ssl_verify_mode", uint64_t{0});
  AppendStat(out, "ssl_keyformat", uint64_t{1});
  AppendStat(out, "ssl_ciphers", "NULL");
  AppendStat(out, "ssl_ca_cert", "NULL");
  AppendStat(out, "ssl_wbuf_size", uint64_t{16384});
  AppendStat(out, "ssl_session_cache", "no");
  AppendStat(out, "ssl_kernel_tls", "no");
  AppendStat(out, "ssl_min_version", "tlsv1.2");
  AppendStat(out, "num_napi_ids", "(null)");
  AppendStat(out, "memory_file", "(null)");
  WriteWarmSettings(out);  // warmcache's own, after memcached's
}

void Server::WriteItemsStats(std::string& out) const {
  const storage::MemoryTierStats m = memory_.Stats();
  for (size_t id = 1; id < m.classes.size(); ++id) {
    const storage::ClassCounters& c = m.classes[id];
    if (c.items == 0 && c.evicted == 0) continue;
    auto stat = [&](std::string_view name, uint64_t value) {
      AppendStat(out, fmt::format("items:{}:{}", id, name), value);
    };
    stat("number", c.items);
    stat("number_hot", 0);
    stat("number_warm", c.items - c.items_probation);
    stat("number_cold", c.items_probation);
    stat("age_hot", 0);
    stat("age_warm", 0);
    stat("age", m.oldest_item_age);
    stat("mem_requested", c.bytes);
    stat("evicted", c.evicted);
    stat("evicted_nonzero", c.evicted_nonzero);
    stat("evicted_time", c.evicted_time);
    stat("outofmemory", c.outofmemory);
    stat("tailrepairs", 0);
    stat("reclaimed", c.reclaimed);
    stat("expired_unfetched", c.expired_unfetched);
    stat("evicted_unfetched", c.evicted_unfetched);
    stat("evicted_active", 0);
    stat("crawler_reclaimed", c.crawler_reclaimed);
    stat("crawler_items_checked", 0);
    stat("lrutail_reflocked", 0);
    stat("moves_to_cold", c.moves_to_probation);
    stat("moves_to_warm", c.moves_to_protected);
    stat("moves_within_lru", 0);
    stat("direct_reclaims", 0);
    stat("hits_to_hot", 0);
    stat("hits_to_warm", c.hits_to_protected);
    stat("hits_to_cold", c.hits_to_probation);
    stat("hits_to_temp", 0);
  }
}

void Server::WriteSlabsStats(std::string& out) {
  const storage::MemoryTierStats m = memory_.Stats();
  const StatsSnapshot t = SumThreadStats();
  const storage::SizeClasses& classes = memory_.size_classes();
  uint64_t active = 0;
  for (int id = 1; id <= classes.count(); ++id) {
    const storage::ClassCounters& c = m.classes[static_cast<size_t>(id)];
    if (c.items == 0) continue;
    ++active;
    const uint64_t chunk = classes.chunk_size(id);
    const uint64_t per_page = std::max<uint64_t>(1, kPageBytes / chunk);
    const uint64_t pages = (c.items + per_page - 1) / per_page;
    auto stat = [&](std::string_view name, uint64_t value) {
      AppendStat(out, fmt::format("{}:{}", id, name), value);
    };
    const auto& k = t.classes[static_cast<size_t>(id)];
    stat("chunk_size", chunk);
    stat("chunks_per_page", per_page);
    stat("total_pages", pages);
    stat("total_chunks", pages * per_page);
    stat("used_chunks", c.items);
    stat("free_chunks", pages * per_page - c.items);
    stat("free_chunks_end", 0);
    stat("get_hits", k.get_hits);
    stat("cmd_set", k.cmd_set);
    stat("delete_hits", k.delete_hits);
    stat("incr_hits", k.incr_hits);
    stat("decr_hits", k.decr_hits);
    stat("cas_hits", k.cas_hits);
    stat("cas_badval", k.cas_badval);
    stat("touch_hits", k.touch_hits);
  }
  AppendStat(out, "active_slabs", active);
  AppendStat(out, "total_malloced", m.used_memory);
}

void Server::WriteConnsStats(std::string& out) const {
  const int64_t now = clock_->NowSeconds();
  registry_.ForEach([&](const net::ConnInfo& info) {
    const std::string id = std::to_string(info.fd);
    AppendStat(out, id + ":addr", info.addr);
    if (!info.listen_addr.empty()) AppendStat(out, id + ":listen_addr", info.listen_addr);
    AppendStat(out, id + ":state", net::ConnStateName(info.state.load()));
    const bool listening = info.state.load() == net::ConnState::kListening;
    const int64_t idle = listening ? 0 : now - info.last_cmd_time.load();
    AppendStat(out, id + ":secs_since_last_cmd", static_cast<uint64_t>(idle > 0 ? idle : 0));
  });
}

}  // namespace warmcache::app
