// SPDX-License-Identifier: BSD-3-Clause
#include "storage/memory/item.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace warmcache::storage {

ItemRef ItemRef::Allocate(std::string_view key, size_t value_len) {
  void* mem = std::malloc(Item::TotalSize(key.size(), value_len));
  if (mem == nullptr) return ItemRef();
  Item* item = new (mem) Item();
  item->key_len = static_cast<uint8_t>(key.size());
  item->value_len = static_cast<uint32_t>(value_len);
  // Charge what the allocator really handed out, plus its per-chunk header, so -m bounds RSS.
  item->charged = static_cast<uint32_t>(malloc_usable_size(mem) + sizeof(size_t));
  std::memcpy(item->data(), key.data(), key.size());
  char* tail = item->mutable_value() + value_len;
  tail[0] = '\r';
  tail[1] = '\n';
  return ItemRef(item);
}

ItemRef ItemRef::Copy(const Item& from) {
  ItemRef copy = Allocate(from.key(), from.value_len);
  if (!copy) return copy;
  std::memcpy(copy->mutable_value(), from.value().data(), from.value_len);
  copy->client_flags = from.client_flags;
  copy->exptime = from.exptime;
  copy->cas = from.cas;
  copy->time = from.time;
  copy->stale = from.stale;
  copy->win_sent = from.win_sent;
  copy->key_binary = from.key_binary;
  copy->fetched = from.fetched;
  return copy;
}

void ItemRef::Release(Item* item) {
  if (item == nullptr) return;
  if (item->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    item->~Item();
    std::free(item);
  }
}

}  // namespace warmcache::storage
