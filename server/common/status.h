// SPDX-License-Identifier: BSD-3-Clause
// Status and Result<T>: errors as values. An OK Status holds no allocation.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace warmcache {

enum class StatusCode {
  kOk = 0,
  // memcache outcomes
  kNotFound,
  kExists,
  kNotStored,
  kTooLarge,
  kNoMemory,
  kNonNumeric,
  // infrastructure
  kIoError,
  kCorruption,
  kBusy,
  kInvalidArgument,
  kShutdown,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string_view message)
      : rep_(std::make_unique<Rep>(Rep{code, std::string(message)})) {}
  Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }
  static Status NotFound(std::string_view m = {}) { return {StatusCode::kNotFound, m}; }
  static Status IoError(std::string_view m) { return {StatusCode::kIoError, m}; }
  static Status Corruption(std::string_view m) { return {StatusCode::kCorruption, m}; }
  static Status InvalidArgument(std::string_view m) { return {StatusCode::kInvalidArgument, m}; }
  static Status Busy(std::string_view m) { return {StatusCode::kBusy, m}; }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const {
    static const std::string kEmpty;
    return rep_ ? rep_->message : kEmpty;
  }
  std::string ToString() const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

// A T or a non-OK Status (a stand-in for std::expected, which GCC 12 lacks).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

#define WC_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::warmcache::Status wc_status_ = (expr); \
    if (!wc_status_.ok()) return wc_status_; \
  } while (0)

}  // namespace warmcache
