// SPDX-License-Identifier: BSD-3-Clause
#include "server/app/suboptions.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

namespace warmcache::app {

namespace {

Status Illegal(const std::string& item) {
  return Status::InvalidArgument("Illegal suboption \"" + item + "\"");
}

bool ToLong(const std::string& text, long* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  *out = std::strtol(text.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

bool ToDouble(const std::string& text) {
  if (text.empty()) return false;
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return *end == '\0';
}

// Accepted with no effect: they tune memcached internals warmcache does not have.
const std::set<std::string> kIgnoredFlags = {"slab_reassign",      "no_slab_reassign",
                                             "slab_automove",      "no_slab_automove",
                                             "lru_maintainer",     "no_lru_maintainer",
                                             "track_sizes",        "no_inline_ascii_resp",
                                             "inline_ascii_resp",  "modern",
                                             "no_modern",          "no_chunked_items",
                                             "no_hashexpand",      "drop_privileges",
                                             "no_drop_privileges", "ext_drop_unread",
                                             "ssl_session_cache",  "ssl_kernel_tls"};
const std::set<std::string> kIgnoredIntegers = {
    "slab_automove",      "slab_automove_window", "tail_repair_time",    "hot_lru_pct",
    "warm_lru_pct",       "temporary_ttl",        "watcher_logbuf_size", "worker_logbuf_size",
    "read_buf_mem_limit", "resp_obj_mem_limit",   "sock_cookie_id",      "ext_page_size",
    "ext_wbuf_size",      "ext_threads",          "ext_io_depth",        "ext_item_size",
    "ext_item_age",       "ext_low_ttl",          "ext_recache_rate",    "ext_compact_under",
    "ext_drop_under",     "ext_max_sleep",        "ssl_verify_mode",     "ssl_wbuf_size",
    "ssl_min_version",    "proxy_uring"};
const std::set<std::string> kIgnoredDoubles = {"slab_automove_ratio", "hot_max_factor",
                                               "warm_max_factor", "ext_max_frag",
                                               "slab_automove_freeratio"};
const std::set<std::string> kIgnoredStrings = {"slab_sizes",  "ext_path",      "ssl_chain_cert",
                                               "ssl_key",     "ssl_keyformat", "ssl_ciphers",
                                               "ssl_ca_cert", "proxy_config",  "ext_path_temp"};

Status ApplyOne(const std::string& item, Settings* s) {
  const size_t eq = item.find('=');
  const std::string key = item.substr(0, eq);
  const bool has_value = eq != std::string::npos;
  const std::string value = has_value ? item.substr(eq + 1) : "";
  long n = 0;

  if (key == "maxconns_fast" && !has_value) {
    s->maxconns_fast = true;
  } else if (key == "no_maxconns_fast" && !has_value) {
    s->maxconns_fast = false;
  } else if (key == "hashpower") {
    if (!ToLong(value, &n))
      return Status::InvalidArgument("Missing numeric argument for hashpower");
    if (n < 12) {
      return Status::InvalidArgument("Initial hashtable multiplier of " + std::to_string(n) +
                                     " is too low");
    }
    if (n > 64) {
      return Status::InvalidArgument("Initial hashtable multiplier of " + std::to_string(n) +
                                     " is too high. Choose a value <= 64");
    }
    s->hashpower = static_cast<int>(n);
  } else if (key == "idle_timeout") {
    if (!ToLong(value, &n) || n < 0 || n > INT_MAX) return Illegal(item);
    s->idle_timeout = static_cast<int>(n);
  } else if (key == "lru_crawler" && !has_value) {
    s->lru_crawler = true;
  } else if (key == "no_lru_crawler" && !has_value) {
    s->lru_crawler = false;
  } else if (key == "lru_crawler_sleep") {
    if (!ToLong(value, &n) || n < 0 || n > 1000000) return Illegal(item);
    s->lru_crawler_sleep = static_cast<int>(n);
  } else if (key == "lru_crawler_tocrawl") {
    if (!ToLong(value, &n) || n < 0 || n > INT_MAX) return Illegal(item);
    s->lru_crawler_tocrawl = static_cast<int>(n);
  } else if (key == "slab_chunk_max") {
    if (!ToLong(value, &n) || n <= 0) return Illegal(item);
    s->slab_chunk_max = static_cast<size_t>(n) * 1024;
  } else if (key == "hash_algorithm") {
    if (value != "jenkins" && value != "murmur3" && value != "xxh3") {
      return Status::InvalidArgument("Unknown hash_algorithm option (jenkins, murmur3, xxh3)");
    }
    s->ignored.push_back("-o hash_algorithm: keys are always hashed with xxh3");
  } else if (kIgnoredFlags.count(key) && (!has_value || key == "slab_automove")) {
    if (has_value && !ToLong(value, &n)) return Illegal(item);
    s->ignored.push_back("-o " + item + ": no slab allocator or LRU maintainer to tune here");
  } else if (kIgnoredIntegers.count(key) && has_value) {
    if (!ToLong(value, &n)) return Illegal(item);
    s->ignored.push_back("-o " + key + ": has no meaning for warmcache; ignored");
  } else if (kIgnoredDoubles.count(key) && has_value) {
    if (!ToDouble(value)) return Illegal(item);
    s->ignored.push_back("-o " + key + ": has no meaning for warmcache; ignored");
  } else if (kIgnoredStrings.count(key) && has_value && !value.empty()) {
    if (key.rfind("ssl_", 0) == 0) {
      return Status::InvalidArgument("-o " + key + ": TLS is not supported by this build");
    }
    s->ignored.push_back("-o " + key + ": has no meaning for warmcache; ignored");
  } else {
    return Illegal(item);
  }
  return Status::Ok();
}

}  // namespace

Status ApplySuboptions(const char* list, Settings* settings) {
  std::stringstream items(list ? list : "");
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty()) continue;
    WC_RETURN_IF_ERROR(ApplyOne(item, settings));
  }
  return Status::Ok();
}

}  // namespace warmcache::app
