// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/write_log.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <fstream>

namespace warmcache::tools::bench {

namespace {
constexpr std::string_view kLogMagic = "warmcache-bench write-log 1";

uint32_t ParseDigits(std::string_view text) {
  uint32_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() ? value : 0;
}
}  // namespace

VersionedValues::VersionedValues(const RequestCodec* codec, uint32_t value_size, ValueKind kind)
    : codec_(codec), value_size_(value_size), body_(kind, value_size - kHeaderBytes) {}

std::string VersionedValues::BodyKey(uint64_t key_id, uint32_t version) const {
  return fmt::format("{}/v{}", codec_->Key(key_id), version);
}

// The body's generator id mixes in the version, so (json kind) every version differs.
void VersionedValues::FillBody(uint64_t key_id, uint32_t version, char* out) const {
  const uint64_t mixed = key_id * 0x9e3779b97f4a7c15ULL ^ (uint64_t{version} << 1 | 1);
  body_.Fill(mixed, BodyKey(key_id, version), out);
}

void VersionedValues::AppendSet(uint64_t key_id, uint32_t version, std::string* out) const {
  fmt::format_to(std::back_inserter(*out), "set {} {} 0 {}\r\nv{:010} ", codec_->Key(key_id),
                 RequestCodec::Flags(key_id), value_size_, version);
  const size_t at = out->size();
  out->resize(at + body_.size());
  FillBody(key_id, version, out->data() + at);
  out->append("\r\n");
}

uint32_t VersionedValues::VersionOf(uint64_t key_id, uint32_t flags, std::string_view data) const {
  if (flags != RequestCodec::Flags(key_id) || data.size() != value_size_ || data[0] != 'v' ||
      data[kHeaderBytes - 1] != ' ') {
    return 0;
  }
  const uint32_t version = ParseDigits(data.substr(1, kHeaderBytes - 2));
  if (version == 0) return 0;
  const uint64_t mixed = key_id * 0x9e3779b97f4a7c15ULL ^ (uint64_t{version} << 1 | 1);
  return body_.Matches(mixed, BodyKey(key_id, version), data.substr(kHeaderBytes)) ? version : 0;
}

Status WriteLog::Save(const std::string& path) const {
  std::string text = fmt::format("{} {}\n", kLogMagic, sent.size());
  for (size_t i = 0; i < sent.size(); ++i)
    fmt::format_to(std::back_inserter(text), "{} {}\n", sent[i], acked[i]);
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return Status::IoError(fmt::format("cannot write {}", path));
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  if (std::fclose(file) != 0 || !written)
    return Status::IoError(fmt::format("cannot write {}", path));
  return Status::Ok();
}

Result<WriteLog> WriteLog::Load(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || !line.starts_with(kLogMagic)) {
    return Status::InvalidArgument(fmt::format("{} is not a write log", path));
  }
  const uint64_t keys = ParseDigits(std::string_view(line).substr(kLogMagic.size() + 1));
  WriteLog log(keys);
  for (uint64_t i = 0; i < keys; ++i) {
    if (!(in >> log.sent[i] >> log.acked[i])) {
      return Status::InvalidArgument(fmt::format("{}: truncated at key {}", path, i));
    }
  }
  return log;
}

}  // namespace warmcache::tools::bench
