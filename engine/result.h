#pragma once
// Errors travel as values: engine code never aborts or exits on bad input.

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sala {

enum class ErrorCode {
    InvalidArgument,
    NotFound,
    Io,
    Format,   // a file is malformed (bad JSON, bad header, truncated data)
    Mismatch, // data does not fit the model or configuration it is used with
    Unsupported,
    OutOfMemory,
    Cancelled,
    Internal,
};

struct Error {
    ErrorCode code = ErrorCode::Internal;
    std::string message;
};

inline Error makeError(ErrorCode code, std::string message) {
    return Error{code, std::move(message)};
}

// A value or an error, in the spirit of std::expected (C++23).
template <typename T> class [[nodiscard]] Result {
public:
    Result(T value) : data_(std::move(value)) {}
    Result(Error error) : data_(std::move(error)) {}

    bool ok() const { return std::holds_alternative<T>(data_); }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<T>(data_); }
    const T& value() const& { return std::get<T>(data_); }
    T&& value() && { return std::get<T>(std::move(data_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<Error>(data_); }

private:
    std::variant<T, Error> data_;
};

// Success or an error.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error error) : error_(std::move(error)) {}
    static Status success() { return Status(); }

    bool ok() const { return !error_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return *error_; }

private:
    std::optional<Error> error_;
};

} // namespace sala

// Returns early from the enclosing function when a Status-like expression failed.
#define SALA_TRY(expr)                                                                             \
    do {                                                                                           \
        auto&& sala_try_result_ = (expr);                                                          \
        if (!sala_try_result_.ok()) return sala_try_result_.error();                               \
    } while (0)
