// SPDX-License-Identifier: BSD-3-Clause
// The meta commands' meaning, following memcached 1.6.18's proto_text.c behaviour.
#include <cstring>

#include "server/engine/delta.h"
#include "server/engine/engine.h"

namespace warmcache::engine {

using storage::Item;
using storage::ItemRef;
using storage::MemoryTier;

MetaDebugInfo Engine::Debug(std::string_view key, const Caller& caller) {
  return memory_->WithKey(key, [&](MemoryTier::KeyTxn& txn) {
    MetaDebugInfo info;
    if (DeferToWarm(txn, caller)) return info;
    info.now = txn.now();
    const Item* item = txn.item();
    if (item == nullptr) return info;
    // Expiry, access time and the fetched bit change under this lock; copy them here.
    info.exptime = item->exptime;
    info.time = item->time;
    info.fetched = item->fetched;
    info.size_class = item->size_class;
    info.item = txn.Ref();
    return info;
  });
}

MetaGetResult Engine::MetaGet(const MetaGetRequest& r, const Caller& caller) {
  ThreadStats& stats = caller.stats;
  const uint32_t touch_exptime = r.touch ? AbsoluteExptime(r.ttl) : 0;
  const uint32_t vivify_exptime = r.vivify ? AbsoluteExptime(r.vivify_ttl) : 0;
  const uint32_t recache_exptime = r.recache ? AbsoluteExptime(r.recache_ttl) : 0;
  return memory_->WithKey(r.key, [&](MemoryTier::KeyTxn& txn) {
    MetaGetResult result;
    result.now = txn.now();
    if (DeferToWarm(txn, caller)) return result;
    if (txn.item() == nullptr && r.vivify) {
      // A stub for the winner to fill: empty value, flags 0.
      ItemRef stub = ItemRef::Allocate(r.key, 0);
      if (stub) {
        stub->cas = NextCas();  // (memcached does not mark a stub's key as binary)
        result.created = txn.Store(std::move(stub));
      }
    }
    Item* item = txn.item();
    if (item == nullptr) {
      // memcached counts a miss as a get even with T.
      stats.get_cmds.Add();
      stats.get_misses.Add();
      return result;
    }
    result.fetched_before = item->fetched;
    result.idle_before = static_cast<uint32_t>(txn.now() - item->time);
    result.exptime_before = item->exptime;
    // R compares against the TTL as it stands at R's place among the flags.
    const bool recache_sees_touch = r.touch && !r.recache_before_touch;
    const uint32_t exptime_at_recache = recache_sees_touch ? touch_exptime : item->exptime;
    if (r.touch) {
      txn.SetExptime(touch_exptime);
      result.exptime_after_touch = touch_exptime;
    }
    if (result.created && r.vivify_sets_ttl) {
      txn.SetExptime(vivify_exptime);
      result.exptime_after_vivify = vivify_exptime;
      result.won = true;
    }
    if (r.aborted) {
      if (!r.locked && !r.no_update) txn.RecordHit();
      result.item = txn.Ref();
      return result;
    }
    if (r.recache && !item->win_sent && !result.created && exptime_at_recache != 0 &&
        exptime_at_recache < recache_exptime) {
      result.won = true;
    }
    result.already_won = item->win_sent;
    result.stale = item->stale;
    if (item->stale && !item->win_sent) result.won = true;
    if (result.won) txn.MarkWinSent();
    if (!r.no_update) txn.RecordHit();
    if (r.touch) {
      stats.touch_cmds.Add();
      stats.touch_hits.Add();
      stats.classes[item->size_class].touch_hits.Add();
    } else {
      stats.get_cmds.Add();
      stats.get_hits.Add();
      stats.classes[item->size_class].get_hits.Add();
    }
    result.item = txn.Ref();
    return result;
  });
}

StoreOutcome Engine::MetaSet(const MetaSetRequest& r, const Caller& caller, uint64_t* cas_out) {
  StoreRequest request;
  request.key = r.key;
  request.value = r.value;
  request.flags = r.flags;
  request.exptime = r.exptime;
  request.key_binary = r.key_binary;
  switch (r.mode) {
    case 'E':
      request.mode = StoreMode::kAdd;
      break;
    case 'A':
      request.mode = StoreMode::kAppend;
      break;
    case 'P':
      request.mode = StoreMode::kPrepend;
      break;
    case 'R':
      request.mode = StoreMode::kReplace;
      break;
    default:
      request.mode = StoreMode::kSet;
      break;
  }
  if (r.has_cas) {
    request.cas = r.cas;
    // A compare-and-swap supplants set and replace; append/prepend check it themselves and
    // add ignores it, as in memcached.
    if (request.mode == StoreMode::kSet || request.mode == StoreMode::kReplace) {
      request.mode = StoreMode::kCas;
      request.allow_stale = r.invalidate;
    } else if (request.mode == StoreMode::kAdd) {
      request.cas = 0;
    }
  }
  *cas_out = 0;
  return Store(request, caller, cas_out);
}

MetaDeleteOutcome Engine::MetaDelete(const MetaDeleteRequest& r, const Caller& caller) {
  ThreadStats& stats = caller.stats;
  const uint32_t new_exptime = r.touch ? AbsoluteExptime(r.ttl) : 0;
  return memory_->WithKey(r.key, [&](MemoryTier::KeyTxn& txn) {
    if (DeferToWarm(txn, caller)) return MetaDeleteOutcome::kNotFound;
    const Item* item = txn.item();
    if (item == nullptr) {
      stats.delete_misses.Add();
      return MetaDeleteOutcome::kNotFound;
    }
    if (r.has_cas && item->cas != r.cas) {
      stats.delete_misses.Add();
      return MetaDeleteOutcome::kExists;
    }
    if (!r.invalidate) {
      stats.delete_hits.Add();
      stats.classes[item->size_class].delete_hits.Add();
      txn.Remove();
      return MetaDeleteOutcome::kDeleted;
    }
    // Mark stale with a new CAS, so the next reader wins the right to recache. A copy: readers
    // format a linked item's CAS without the shard lock, so it never changes in place.
    ItemRef stale = ItemRef::Copy(*item);
    if (!stale) return MetaDeleteOutcome::kNotFound;
    if (r.touch) stale->exptime = new_exptime;
    stale->stale = true;
    stale->win_sent = false;
    stale->fetched = item->fetched;
    stale->cas = NextCas();
    if (!txn.Store(std::move(stale))) return MetaDeleteOutcome::kNotFound;
    return MetaDeleteOutcome::kDeleted;
  });
}

MetaArithResult Engine::MetaArith(const MetaArithRequest& r, const Caller& caller) {
  ThreadStats& stats = caller.stats;
  const uint32_t vivify_exptime = r.vivify ? AbsoluteExptime(r.vivify_ttl) : 0;
  const uint32_t touch_exptime = r.touch ? AbsoluteExptime(r.ttl) : 0;
  return memory_->WithKey(r.key, [&](MemoryTier::KeyTxn& txn) {
    MetaArithResult result;
    result.now = txn.now();
    result.exptime_after_touch = touch_exptime;
    result.exptime_after_vivify = vivify_exptime;
    if (DeferToWarm(txn, caller)) return result;
    const Item* old = txn.item();
    ItemRef fresh;
    if (old == nullptr) {
      if (!r.vivify) {
        (r.incr ? stats.incr_misses : stats.decr_misses).Add();
        result.outcome = MetaArithOutcome::kNotFound;
        return result;
      }
      char digits[24];
      const int len =
          std::snprintf(digits, sizeof(digits), "%llu", static_cast<unsigned long long>(r.initial));
      fresh = ItemRef::Allocate(r.key, static_cast<size_t>(len));
      if (!fresh) {
        result.outcome = MetaArithOutcome::kNoMemory;
        return result;
      }
      std::memcpy(fresh->mutable_value(), digits, static_cast<size_t>(len));
      result.value = r.initial;
      result.created = true;
    } else {
      if (r.has_cas && r.cas != 0 && old->cas != r.cas) {
        result.outcome = MetaArithOutcome::kExists;
        return result;
      }
      uint64_t value = 0;
      if (!ParseCounter(old->value(), &value)) {
        result.outcome = MetaArithOutcome::kNonNumeric;
        return result;
      }
      result.value = ApplyDelta(value, r.incr, r.delta);
      (r.incr ? stats.incr_hits : stats.decr_hits).Add();
      auto& by_class = stats.classes[old->size_class];
      (r.incr ? by_class.incr_hits : by_class.decr_hits).Add();
      result.exptime_before = old->exptime;
      fresh = BuildCounterItem(*old, result.value);
      if (!fresh) {
        result.outcome = MetaArithOutcome::kNoMemory;
        return result;
      }
    }
    fresh->cas = NextCas();
    if (!txn.Store(std::move(fresh))) {
      result.outcome = result.created ? MetaArithOutcome::kNotStored : MetaArithOutcome::kNoMemory;
      return result;
    }
    if (r.touch) txn.SetExptime(touch_exptime);
    if (result.created) txn.SetExptime(vivify_exptime);
    result.item = txn.Ref();
    result.outcome = MetaArithOutcome::kOk;
    return result;
  });
}

}  // namespace warmcache::engine
