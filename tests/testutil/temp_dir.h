// SPDX-License-Identifier: BSD-3-Clause
// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "server/common/status.h"

namespace warmcache::testutil {

// Owns one temporary directory. Not thread-safe; not copyable or movable (hold it in a
// unique_ptr to pass it around). Removal errors in the destructor are ignored.
class TempDir {
 public:
  // Creates "<tmp>/<prefix>XXXXXX". Fails with kIoError if mkdtemp fails.
  static Result<std::unique_ptr<TempDir>> Create(const std::string& prefix = "wc_test_");

  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name; the file is not created.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Reads a whole file; an empty string if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

// The sizes of the regular files under `dir` (recursively), added up: what the directory takes
// on disk, near enough. Files that vanish meanwhile (a server deleting them) count as 0; a
// missing directory is 0.
uint64_t TotalFileBytes(const std::string& dir);

}  // namespace warmcache::testutil
