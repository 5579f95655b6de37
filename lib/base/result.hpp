// Result<T, E>: a value or an error, the only way fallible code reports failure (no exceptions).
// Invariant: exactly one of value/error is live; reading the wrong one is a bug caught by assert.
#pragma once

#include <new>
#include <type_traits>
#include <utility>

#include "base/assert.hpp"

namespace tessera {

// Wraps an error so Result's constructors are unambiguous even when T and E convert to each other.
template <typename E>
struct Failure {
    E error;
};

template <typename E>
constexpr Failure<E> fail(E error) {
    return Failure<E>{error};
}

template <typename T, typename E>
class [[nodiscard]] Result {
  public:
    using ValueType = T;
    using ErrorType = E;

    constexpr Result(const T& value) : has_value_(true), value_(value) {}
    constexpr Result(T&& value) : has_value_(true), value_(std::move(value)) {}
    constexpr Result(Failure<E> failure) : has_value_(false), error_(failure.error) {}

    Result(const Result& other) : has_value_(other.has_value_) {
        if (has_value_) {
            new (&value_) T(other.value_);
        } else {
            error_ = other.error_;
        }
    }
    Result& operator=(const Result&) = delete;
    ~Result() {
        if constexpr (!std::is_trivially_destructible_v<T>) {
            if (has_value_) {
                value_.~T();
            }
        }
    }

    [[nodiscard]] constexpr bool ok() const { return has_value_; }
    constexpr explicit operator bool() const { return has_value_; }

    constexpr T& value() {
        TESSERA_ASSERT(has_value_);
        return value_;
    }
    constexpr const T& value() const {
        TESSERA_ASSERT(has_value_);
        return value_;
    }
    constexpr E error() const {
        TESSERA_ASSERT(!has_value_);
        return error_;
    }
    constexpr T value_or(T fallback) const { return has_value_ ? value_ : fallback; }
    // Moves the value out; used by TRY.
    constexpr T release_value() {
        TESSERA_ASSERT(has_value_);
        return std::move(value_);
    }

  private:
    bool has_value_;
    union {
        T value_;
        E error_;
    };
};

// Result of an operation that produces nothing but can fail.
template <typename E>
class [[nodiscard]] Result<void, E> {
  public:
    using ValueType = void;
    using ErrorType = E;

    constexpr Result() : has_value_(true), error_() {}
    constexpr Result(Failure<E> failure) : has_value_(false), error_(failure.error) {}

    [[nodiscard]] constexpr bool ok() const { return has_value_; }
    constexpr explicit operator bool() const { return has_value_; }
    constexpr E error() const {
        TESSERA_ASSERT(!has_value_);
        return error_;
    }
    constexpr void release_value() const {}

  private:
    bool has_value_;
    E error_;
};

}  // namespace tessera

// TRY(expr): evaluates a Result; on error returns the error from the enclosing function,
// otherwise yields the value. Uses a statement expression (clang and GCC).
#define TRY(expr)                                                \
    ({                                                           \
        auto _tessera_try_result = (expr);                       \
        if (!_tessera_try_result.ok()) {                         \
            return ::tessera::fail(_tessera_try_result.error()); \
        }                                                        \
        _tessera_try_result.release_value();                     \
    })
