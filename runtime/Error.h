// Errors as values, shared by every layer of rnnc (runtime <- ir <- compiler).
//
// A user error (bad model, bad file, bad flag) and an internal error (a bug in rnnc) are
// different kinds, so a test that expects a user error can never be satisfied by a crash-like
// internal failure. Functions that can fail return Expected<T> (or Status) up to the driver,
// which prints the message; nothing below main() calls exit() or abort().
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace rnnc {

enum class ErrorKind { User, Internal };

/// One error: its kind and the full message, already formatted with location when it has one
/// (for source errors "file:line:col: error: message" plus the source line and caret).
struct Error {
  ErrorKind kind = ErrorKind::User;
  std::string message;

  static Error user(std::string message) { return {ErrorKind::User, std::move(message)}; }
  static Error internal(std::string message) {
    return {ErrorKind::Internal, "internal error: " + std::move(message)};
  }
};

/// Success or an Error.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}
  static Status ok() { return {}; }

  explicit operator bool() const { return !error_.has_value(); }
  bool isOk() const { return !error_.has_value(); }
  const Error &error() const {
    assert(error_ && "error() on a successful Status");
    return *error_;
  }
  Error takeError() {
    assert(error_ && "takeError() on a successful Status");
    return std::move(*error_);
  }

private:
  std::optional<Error> error_;
};

/// A value of type T or an Error.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : storage_(std::move(value)) {}
  Expected(Error error) : storage_(std::move(error)) {}

  explicit operator bool() const { return std::holds_alternative<T>(storage_); }
  bool isOk() const { return std::holds_alternative<T>(storage_); }

  T &operator*() { return std::get<T>(storage_); }
  const T &operator*() const { return std::get<T>(storage_); }
  T *operator->() { return &std::get<T>(storage_); }
  const T *operator->() const { return &std::get<T>(storage_); }
  T take() { return std::move(std::get<T>(storage_)); }

  const Error &error() const { return std::get<Error>(storage_); }
  Error takeError() { return std::move(std::get<Error>(storage_)); }

private:
  std::variant<T, Error> storage_;
};

} // namespace rnnc
