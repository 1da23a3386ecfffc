// SPDX-License-Identifier: BSD-3-Clause
// twemproxy 0.5.0's key hashes (src/hashkit/nc_*.c), which libhashkit 1.1.4 shares where the
// names match. Where twemproxy reads a byte through `(uint32_t)key[i]` with a plain (signed, on
// amd64) char, bytes >= 0x80 are sign-extended; SignedByte() keeps that quirk so that keys
// with such bytes land where nutcracker on amd64 sends them.
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "server/ring/key_hash_internal.h"
#include "server/ring/ring.h"

namespace warmcache::ring {

namespace {

constexpr uint64_t kFnv64Init = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnv64Prime = 0x100000001b3ULL;
constexpr uint32_t kFnv32Init = 2166136261u;
constexpr uint32_t kFnv32Prime = 16777619u;

uint32_t SignedByte(char c) { return static_cast<uint32_t>(static_cast<signed char>(c)); }
uint64_t SignedByte64(char c) { return static_cast<uint64_t>(static_cast<signed char>(c)); }
uint32_t UnsignedByte(char c) { return static_cast<unsigned char>(c); }

uint32_t Fnv1_64(std::string_view key) {
  uint64_t hash = kFnv64Init;
  for (char c : key) {
    hash *= kFnv64Prime;
    hash ^= SignedByte64(c);
  }
  return static_cast<uint32_t>(hash);
}

// Despite its name, 32-bit state with the 64-bit constants truncated (prime 0x1b3).
uint32_t Fnv1a_64(std::string_view key) {
  uint32_t hash = static_cast<uint32_t>(kFnv64Init);
  for (char c : key) {
    hash ^= SignedByte(c);
    hash *= static_cast<uint32_t>(kFnv64Prime);
  }
  return hash;
}

uint32_t Fnv1_32(std::string_view key) {
  uint32_t hash = kFnv32Init;
  for (char c : key) {
    hash *= kFnv32Prime;
    hash ^= SignedByte(c);
  }
  return hash;
}

uint32_t Fnv1a_32(std::string_view key) {
  uint32_t hash = kFnv32Init;
  for (char c : key) {
    hash ^= SignedByte(c);
    hash *= kFnv32Prime;
  }
  return hash;
}

uint32_t OneAtATime(std::string_view key) {
  uint32_t value = 0;
  for (char c : key) {
    value += SignedByte(c);
    value += value << 10;
    value ^= value >> 6;
  }
  value += value << 3;
  value ^= value >> 11;
  value += value << 15;
  return value;
}

uint32_t LoadLe32(const char* p) {
  return UnsignedByte(p[0]) | UnsignedByte(p[1]) << 8 | UnsignedByte(p[2]) << 16 |
         UnsignedByte(p[3]) << 24;
}

// MurmurHash2 with twemproxy's seed (0xdeadbeef * length).
uint32_t Murmur(std::string_view key) {
  constexpr uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  size_t length = key.size();
  uint32_t h = (0xdeadbeefu * static_cast<uint32_t>(length)) ^ static_cast<uint32_t>(length);
  const char* data = key.data();
  for (; length >= 4; data += 4, length -= 4) {
    uint32_t k = LoadLe32(data);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (length) {
    case 3:
      h ^= UnsignedByte(data[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= UnsignedByte(data[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= UnsignedByte(data[0]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

uint32_t Rot(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

// One line of lookup3's mix(): x -= z; x ^= rot(z, r); z += y.
void MixStep(uint32_t& x, uint32_t y, uint32_t& z, int r) {
  x -= z;
  x ^= Rot(z, r);
  z += y;
}

// One line of lookup3's final(): x ^= y; x -= rot(y, r).
void FinalStep(uint32_t& x, uint32_t y, int r) {
  x ^= y;
  x -= Rot(y, r);
}

// Bob Jenkins' lookup3 hashlittle with initval 13. twemproxy has three read paths chosen by the
// key's alignment; on a little-endian machine they agree with this byte-wise one.
uint32_t Jenkins(std::string_view key) {
  size_t length = key.size();
  uint32_t a = 0xdeadbeefu + static_cast<uint32_t>(length) + 13;
  uint32_t b = a;
  uint32_t c = a;
  const char* k = key.data();
  for (; length > 12; length -= 12, k += 12) {
    a += LoadLe32(k);
    b += LoadLe32(k + 4);
    c += LoadLe32(k + 8);
    MixStep(a, b, c, 4);
    MixStep(b, c, a, 6);
    MixStep(c, a, b, 8);
    MixStep(a, b, c, 16);
    MixStep(b, c, a, 19);
    MixStep(c, a, b, 4);
  }
  if (length == 0) return c;  // also the empty key: no final mixing
  uint32_t tail[3] = {0, 0, 0};
  for (size_t i = 0; i < length; ++i) tail[i / 4] |= UnsignedByte(k[i]) << (8 * (i % 4));
  a += tail[0];
  b += tail[1];
  c += tail[2];
  FinalStep(c, b, 14);
  FinalStep(a, c, 11);
  FinalStep(b, a, 25);
  FinalStep(c, b, 16);
  FinalStep(a, c, 4);
  FinalStep(b, a, 14);
  FinalStep(c, b, 24);
  return c;
}

uint32_t Get16(const char* p) { return UnsignedByte(p[0]) | UnsignedByte(p[1]) << 8; }

// Paul Hsieh's SuperFastHash as twemproxy has it (note the sign-extended byte when 3 remain).
uint32_t Hsieh(std::string_view key) {
  if (key.empty()) return 0;
  uint32_t hash = 0;
  const char* p = key.data();
  const size_t rem = key.size() & 3;
  for (size_t blocks = key.size() >> 2; blocks > 0; --blocks, p += 4) {
    hash += Get16(p);
    const uint32_t tmp = (Get16(p + 2) << 11) ^ hash;
    hash = (hash << 16) ^ tmp;
    hash += hash >> 11;
  }
  switch (rem) {
    case 3:
      hash += Get16(p);
      hash ^= hash << 16;
      hash ^= SignedByte(p[2]) << 18;
      hash += hash >> 11;
      break;
    case 2:
      hash += Get16(p);
      hash ^= hash << 11;
      hash += hash >> 17;
      break;
    case 1:
      hash += UnsignedByte(p[0]);
      hash ^= hash << 10;
      hash += hash >> 1;
      break;
  }
  hash ^= hash << 3;
  hash += hash >> 5;
  hash ^= hash << 4;
  hash += hash >> 17;
  hash ^= hash << 25;
  hash += hash >> 6;
  return hash;
}

struct HashName {
  KeyHash hash;
  std::string_view name;
};
// twemproxy's names, in its HASH_CODEC order.
constexpr HashName kHashNames[] = {
    {KeyHash::kOneAtATime, "one_at_a_time"},
    {KeyHash::kMd5, "md5"},
    {KeyHash::kCrc16, "crc16"},
    {KeyHash::kCrc32, "crc32"},
    {KeyHash::kCrc32a, "crc32a"},
    {KeyHash::kFnv1_64, "fnv1_64"},
    {KeyHash::kFnv1a64, "fnv1a_64"},
    {KeyHash::kFnv1_32, "fnv1_32"},
    {KeyHash::kFnv1a32, "fnv1a_32"},
    {KeyHash::kHsieh, "hsieh"},
    {KeyHash::kMurmur, "murmur"},
    {KeyHash::kJenkins, "jenkins"},
};

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Md5Digest Md5(std::string_view data) {
  // Fetched once: OpenSSL 3 would otherwise look MD5 up in its provider on every call.
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  Md5Digest digest{};
  unsigned int size = 0;
  if (md5 == nullptr || ctx == nullptr || !EVP_DigestInit_ex2(ctx.get(), md5, nullptr) ||
      !EVP_DigestUpdate(ctx.get(), data.data(), data.size()) ||
      !EVP_DigestFinal_ex(ctx.get(), digest.data(), &size)) {
    // Only a FIPS-only OpenSSL configuration, which forbids MD5, gets here; every ring would
    // be wrong, so this is a startup-time failure, not a data-path one.
    throw std::runtime_error("MD5 is unavailable from OpenSSL (FIPS-only configuration?)");
  }
  return digest;
}

uint32_t HashKey(KeyHash hash, std::string_view key) {
  switch (hash) {
    case KeyHash::kMd5:
      return DigestWord(Md5(key), 0);
    case KeyHash::kFnv1a64:
      return Fnv1a_64(key);
    case KeyHash::kFnv1_64:
      return Fnv1_64(key);
    case KeyHash::kFnv1a32:
      return Fnv1a_32(key);
    case KeyHash::kFnv1_32:
      return Fnv1_32(key);
    case KeyHash::kCrc32a:
      return HashCrc32a(key);
    case KeyHash::kOneAtATime:
      return OneAtATime(key);
    case KeyHash::kMurmur:
      return Murmur(key);
    case KeyHash::kJenkins:
      return Jenkins(key);
    case KeyHash::kHsieh:
      return Hsieh(key);
    case KeyHash::kCrc16:
      return HashCrc16(key);
    case KeyHash::kCrc32:
      return HashCrc32(key);
  }
  return 0;
}

Result<KeyHash> ParseKeyHash(std::string_view name) {
  for (const HashName& h : kHashNames) {
    if (h.name == name) return h.hash;
  }
  std::string known;
  for (const HashName& h : kHashNames) known += (known.empty() ? "" : ", ") + std::string(h.name);
  return Status::InvalidArgument("unknown hash '" + std::string(name) + "' (one of: " + known +
                                 ")");
}

std::string_view KeyHashName(KeyHash hash) {
  for (const HashName& h : kHashNames) {
    if (h.hash == hash) return h.name;
  }
  return "unknown";
}

std::string_view HashTagged(std::string_view key, std::string_view hash_tag) {
  if (hash_tag.size() != 2) return key;
  const size_t start = key.find(hash_tag[0]);
  if (start == std::string_view::npos) return key;
  const size_t end = key.find(hash_tag[1], start + 1);
  // twemproxy requires tag_end - tag_start > 1: an empty "{}" hashes the whole key.
  if (end == std::string_view::npos || end - start <= 1) return key;
  return key.substr(start + 1, end - start - 1);
}

}  // namespace warmcache::ring
