// SPDX-License-Identifier: BSD-3-Clause
// One cached item: header, key, value and a trailing "\r\n" in a single allocation.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace warmcache::storage {

// What a lower (disk) tier holds for an item's key, so eviction and removal know whether the
// disk must be written or invalidated. Never an older version: a change invalidates that at
// once (LowerTier).
enum DiskCopy : uint8_t {
  kNoDiskCopy = 0,  // the disk holds no live record for the key
  kDiskClean = 1,   // the disk holds exactly this version: eviction needs no write
};

// Lifetime: reference counted. The hash table holds one reference while the item is linked;
// every reader holds its own (ItemRef), so a value being written to a socket outlives a
// concurrent replace, delete or eviction.
// Thread safety: the header fields are guarded by the owning shard's mutex while linked; the
// key and value bytes are immutable once the item is linked (mutations build a new item).
struct Item {
  Item* hash_next = nullptr;
  Item* lru_prev = nullptr;
  Item* lru_next = nullptr;
  uint64_t cas = 0;
  std::atomic<uint32_t> refs{1};
  uint32_t client_flags = 0;
  uint32_t exptime = 0;    // absolute unix seconds; 0 = never expires
  uint32_t time = 0;       // last store or access, unix seconds (LRU age, flush_all)
  uint32_t value_len = 0;  // without the trailing "\r\n"
  uint32_t charged = 0;    // bytes counted against the memory limit
  uint8_t key_len = 0;
  // Three fields in one byte, all only touched under the shard lock:
  uint8_t segment : 1 = 0;  // which LRU list (LruSegment)
  uint8_t disk : 2 = 0;     // what the warm tier holds for this key (DiskCopy)
  // Just promoted from disk: the request that read it is about to hit it, and that hit is
  // the same access, not a second one.
  uint8_t promoted : 1 = 0;
  uint8_t size_class = 0;  // reporting class for `stats items` / `stats slabs`
  bool linked = false;
  bool fetched = false;  // read at least once since stored
  // Meta protocol state, set under the shard lock:
  bool stale = false;       // invalidated (md I / ms I): mg reports X
  bool win_sent = false;    // a client was told to recache (W); later ones see Z
  bool key_binary = false;  // stored with a base64 key (b): replies re-encode it

  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return {data(), key_len}; }
  std::string_view value() const { return {data() + key_len, value_len}; }
  // The value followed by "\r\n": what a text reply sends after the VALUE line.
  std::string_view value_with_crlf() const { return {data() + key_len, value_len + 2u}; }
  char* mutable_value() { return data() + key_len; }

  // Bytes one item of these sizes occupies, header included.
  static size_t TotalSize(size_t key_len, size_t value_len) {
    return sizeof(Item) + key_len + value_len + 2;
  }
};

// Owning handle to an Item reference.
class ItemRef {
 public:
  ItemRef() = default;
  explicit ItemRef(Item* item) : item_(item) {}  // adopts one reference
  ItemRef(const ItemRef& other) : item_(other.item_) { Acquire(item_); }
  ItemRef(ItemRef&& other) noexcept : item_(std::exchange(other.item_, nullptr)) {}
  ItemRef& operator=(ItemRef other) noexcept {
    std::swap(item_, other.item_);
    return *this;
  }
  ~ItemRef() { Release(item_); }

  // Allocates a detached item with its key, an uninitialised value and the "\r\n" trailer.
  // Returns an empty ref if memory cannot be had.
  static ItemRef Allocate(std::string_view key, size_t value_len);
  // A detached copy of `from`: key, value, flags, expiry, CAS, time and the meta bits (stale,
  // win sent, binary key, fetched); no LRU or disk state. Empty if memory cannot be had.
  // The caller must hold `from`'s shard lock if it is linked (its header fields may change).
  static ItemRef Copy(const Item& from);

  Item* get() const { return item_; }
  Item* operator->() const { return item_; }
  Item& operator*() const { return *item_; }
  explicit operator bool() const { return item_ != nullptr; }
  Item* release() { return std::exchange(item_, nullptr); }

  static void Acquire(Item* item) {
    if (item) item->refs.fetch_add(1, std::memory_order_relaxed);
  }
  static void Release(Item* item);

 private:
  Item* item_ = nullptr;
};

}  // namespace warmcache::storage
