// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/temp_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace warmcache::testutil {

Result<std::unique_ptr<TempDir>> TempDir::Create(const std::string& prefix) {
  const char* env_tmp = std::getenv("TMPDIR");
  std::string base = (env_tmp != nullptr && env_tmp[0] != '\0') ? env_tmp : "/tmp";
  std::string pattern = base + "/" + prefix + "XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return Status::IoError("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  return std::unique_ptr<TempDir>(new TempDir(std::string(buf.data())));
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

uint64_t TotalFileBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (!it->is_regular_file(size_ec)) continue;
    const uintmax_t size = it->file_size(size_ec);
    if (!size_ec) total += size;
  }
  return total;
}

}  // namespace warmcache::testutil
