// SPDX-License-Identifier: BSD-3-Clause
#include "server/engine/engine.h"

#include <cstring>

namespace warmcache::engine {

using storage::Item;
using storage::ItemRef;
using storage::MemoryTier;

namespace {
// memcached's item header with CAS, and without: the size limit counts it.
constexpr size_t kMemcachedHeader = 48;
constexpr size_t kCasBytes = 8;
}  // namespace

Engine::Engine(const EngineOptions& options, storage::MemoryTier* memory,
               storage::FlushState* flush, const Clock* clock)
    : options_(options),
      memory_(memory),
      flush_(flush),
      clock_(clock),
      process_started_(clock->NowSeconds() - 62) {}

uint32_t Engine::TtlForReply(uint32_t exptime, int64_t now) const {
  const int64_t relative_exptime = exptime <= process_started_ ? 1 : exptime - process_started_;
  return static_cast<uint32_t>(relative_exptime - (now - process_started_));
}

uint64_t Engine::NextCas() {
  if (!options_.use_cas) return 0;
  return cas_.fetch_add(1, std::memory_order_relaxed) + 1;
}

uint32_t Engine::AbsoluteExptime(int64_t exptime) const {
  if (exptime == 0) return 0;
  if (exptime < 0) return 1;  // in the past: expired at once
  if (exptime > kMaxRelativeExptime) return static_cast<uint32_t>(exptime);  // unix time
  return static_cast<uint32_t>(clock_->NowSeconds() + exptime);
}

size_t Engine::MemcachedItemSize(size_t key_len, size_t value_len, uint32_t flags) const {
  // memcached's ITEM_ntotal: header, CAS unless -C, key + NUL, value + CRLF, and the client
  // flags only when non-zero.
  return kMemcachedHeader + (options_.use_cas ? kCasBytes : 0) + key_len + 1 + value_len + 2 +
         (flags != 0 ? sizeof(uint32_t) : 0);
}

bool Engine::ItemSizeOk(size_t key_len, size_t value_len, uint32_t flags) const {
  // The same arithmetic as memcached, so the largest value a client can store is the same.
  return MemcachedItemSize(key_len, value_len, flags) <= options_.item_size_max;
}

ItemRef Engine::Get(std::string_view key, const Caller& caller) {
  ThreadStats& stats = caller.stats;
  return memory_->WithKey(key, [&](MemoryTier::KeyTxn& txn) {
    if (DeferToWarm(txn, caller)) return ItemRef();
    stats.get_cmds.Add();
    if (txn.item() == nullptr) {
      stats.get_misses.Add();
      if (txn.was_expired()) stats.get_expired.Add();
      if (txn.was_flushed()) stats.get_flushed.Add();
      return ItemRef();
    }
    txn.RecordHit();
    stats.get_hits.Add();
    stats.classes[txn.item()->size_class].get_hits.Add();
    return txn.Ref();
  });
}

ItemRef Engine::GetAndTouch(std::string_view key, int64_t exptime, const Caller& caller) {
  ThreadStats& stats = caller.stats;
  const uint32_t absolute = AbsoluteExptime(exptime);
  return memory_->WithKey(key, [&](MemoryTier::KeyTxn& txn) {
    if (DeferToWarm(txn, caller)) return ItemRef();
    stats.touch_cmds.Add();
    if (txn.item() == nullptr) {
      stats.touch_misses.Add();
      return ItemRef();
    }
    txn.SetExptime(absolute);
    txn.RecordHit();
    stats.touch_hits.Add();
    stats.classes[txn.item()->size_class].touch_hits.Add();
    return txn.Ref();
  });
}

StoreOutcome Engine::Store(const StoreRequest& request, const Caller& caller, uint64_t* cas_out) {
  ThreadStats& stats = caller.stats;
  if (!ItemSizeOk(request.key.size(), request.value.size(), request.flags)) {
    RejectTooLarge(request.mode, request.key, stats);
    return StoreOutcome::kTooLarge;
  }
  // Build the new item before taking the shard lock; append/prepend build theirs inside,
  // because they need the old value.
  ItemRef fresh;
  if (request.mode != StoreMode::kAppend && request.mode != StoreMode::kPrepend) {
    fresh = ItemRef::Allocate(request.key, request.value.size());
    if (!fresh) {
      stats.store_no_memory.Add();
      return StoreOutcome::kNoMemory;
    }
    std::memcpy(fresh->mutable_value(), request.value.data(), request.value.size());
    fresh->client_flags = request.flags;
    fresh->exptime = AbsoluteExptime(request.exptime);
  }
  return memory_->WithKey(request.key, [&](MemoryTier::KeyTxn& txn) {
    return StoreLocked(txn, request, std::move(fresh), caller, cas_out);
  });
}

StoreOutcome Engine::StoreLocked(MemoryTier::KeyTxn& txn, const StoreRequest& request,
                                 ItemRef fresh, const Caller& caller, uint64_t* cas_out) {
  ThreadStats& stats = caller.stats;
  // Every mode but a plain set depends on the old value, which may be on disk.
  if (request.mode != StoreMode::kSet && DeferToWarm(txn, caller)) return StoreOutcome::kNotStored;
  const size_t total = Item::TotalSize(request.key.size(), request.value.size());
  stats.classes[memory_->size_classes().ClassFor(total)].cmd_set.Add();
  const Item* old = txn.item();
  switch (request.mode) {
    case StoreMode::kSet:
      break;
    case StoreMode::kAdd:
      if (old != nullptr) {
        txn.RecordHit();  // memcached bumps the existing item
        return StoreOutcome::kNotStored;
      }
      break;
    case StoreMode::kReplace:
      if (old == nullptr) return StoreOutcome::kNotStored;
      break;
    case StoreMode::kCas:
      if (old == nullptr) {
        stats.cas_misses.Add();
        return StoreOutcome::kNotFound;
      }
      if (request.cas != 0 && request.cas != old->cas && request.allow_stale &&
          request.cas < old->cas) {
        // Meta "invalidate": an older writer's value is kept, marked stale, TTL unchanged.
        fresh->exptime = old->exptime;
        fresh->stale = true;
        fresh->win_sent = old->win_sent;
      } else if (request.cas == 0 || request.cas != old->cas) {
        stats.cas_badval.Add();
        stats.classes[old->size_class].cas_badval.Add();
        return StoreOutcome::kExists;
      }
      stats.cas_hits.Add();
      stats.classes[old->size_class].cas_hits.Add();
      break;
    case StoreMode::kAppend:
    case StoreMode::kPrepend:
      if (old == nullptr) return StoreOutcome::kNotStored;
      if (request.cas != 0 && request.cas != old->cas) return StoreOutcome::kExists;
      fresh = Concatenate(*old, request);
      if (!fresh) return StoreOutcome::kNotStored;  // too large or no memory, as memcached
      break;
  }
  Item* item = fresh.get();
  item->cas = NextCas();
  item->key_binary = request.key_binary;
  if (!txn.Store(std::move(fresh))) {
    stats.store_no_memory.Add();
    // A failed set must not leave the previous value readable, in RAM or below.
    if (request.mode == StoreMode::kSet) txn.Forget();
    return StoreOutcome::kNoMemory;
  }
  if (cas_out != nullptr) *cas_out = item->cas;
  return StoreOutcome::kStored;
}

void Engine::NoteIfMissing(std::string_view key, const Caller& caller) {
  memory_->WithKey(key, [&](MemoryTier::KeyTxn& txn) { return DeferToWarm(txn, caller); });
}

bool Engine::DeferToWarm(MemoryTier::KeyTxn& txn, const Caller& caller) const {
  if (txn.item() != nullptr || caller.fetches == nullptr || !options_.warm_tier) return false;
  if (!txn.LowerMayHold() || caller.fetches->IsFinalMiss(txn.key())) return false;
  txn.BeginFetch(caller.fetches->Add());
  return true;
}

ItemRef Engine::Concatenate(const Item& old, const StoreRequest& request) {
  const size_t total = old.value_len + request.value.size();
  if (!ItemSizeOk(old.key_len, total, old.client_flags)) return ItemRef();
  ItemRef joined = ItemRef::Allocate(old.key(), total);
  if (!joined) return joined;
  char* out = joined->mutable_value();
  if (request.mode == StoreMode::kAppend) {
    std::memcpy(out, old.value().data(), old.value_len);
    std::memcpy(out + old.value_len, request.value.data(), request.value.size());
  } else {
    std::memcpy(out, request.value.data(), request.value.size());
    std::memcpy(out + request.value.size(), old.value().data(), old.value_len);
  }
  joined->client_flags = old.client_flags;
  joined->exptime = old.exptime;
  return joined;
}

void Engine::RejectTooLarge(StoreMode mode, std::string_view key, ThreadStats& stats) {
  stats.store_too_large.Add();
  if (mode != StoreMode::kSet) return;
  memory_->WithKey(key, [](MemoryTier::KeyTxn& txn) {
    txn.Forget();
    return true;
  });
}

bool Engine::Delete(std::string_view key, const Caller& caller) {
  ThreadStats& stats = caller.stats;
  return memory_->WithKey(key, [&](MemoryTier::KeyTxn& txn) {
    if (DeferToWarm(txn, caller)) return false;
    if (txn.item() == nullptr) {
      stats.delete_misses.Add();
      return false;
    }
    stats.delete_hits.Add();
    stats.classes[txn.item()->size_class].delete_hits.Add();
    txn.Remove();
    return true;
  });
}

DeltaOutcome Engine::Delta(std::string_view key, bool incr, uint64_t delta, const Caller& caller,
                           uint64_t* result) {
  // Classic incr/decr is meta arithmetic without CAS, auto-create or TTL changes.
  MetaArithRequest request;
  request.key = key;
  request.incr = incr;
  request.delta = delta;
  const MetaArithResult arith = MetaArith(request, caller);
  switch (arith.outcome) {
    case MetaArithOutcome::kOk:
      *result = arith.value;
      return DeltaOutcome::kOk;
    case MetaArithOutcome::kNotFound:
      return DeltaOutcome::kNotFound;
    case MetaArithOutcome::kNonNumeric:
      return DeltaOutcome::kNonNumeric;
    default:
      return DeltaOutcome::kNoMemory;
  }
}

bool Engine::Touch(std::string_view key, int64_t exptime, const Caller& caller) {
  return static_cast<bool>(GetAndTouch(key, exptime, caller));
}

void Engine::FlushAll(int64_t delay) {
  const int64_t now = clock_->NowSeconds();
  int64_t deadline = now;
  if (delay > 0) {
    deadline = AbsoluteExptime(delay);
    // memcached: an absolute time before it started maps to "no flush at all".
    if (delay > kMaxRelativeExptime && deadline <= now) deadline = 1;
  }
  if (!options_.use_cas) {
    flush_->SetOldestLive(deadline);
  } else if (deadline - 1 <= now) {
    // Items stored during the current second before the flush are caught by their CAS.
    flush_->Set(deadline - 1, NextCas());
  } else {
    flush_->SetOldestLive(deadline - 1);
  }
  memory_->NoteFlushAll();  // a flushed item must not come back after a restart either
}

}  // namespace warmcache::engine
