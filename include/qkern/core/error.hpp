// qkern — SPDX-License-Identifier: Apache-2.0
//
// error.hpp: the exception types qkern throws and the argument checks used at API boundaries.
// Hot loops never validate; every public entry point validates once, here.
//
// Without exceptions (-fno-exceptions, or QKERN_NO_EXCEPTIONS defined to 1 before the first qkern
// include), every error goes through the same two functions, detail::throw_invalid and
// detail::throw_data: they build the message the exception would carry (its what()), pass it to the
// handler installed with set_error_handler(), and call std::abort() if the handler returns (or
// none is installed). qkern's headers contain no throw, try or catch outside those two functions.
// See docs/error-handling.md.
#pragma once

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "qkern/core/abi.hpp"
#include "qkern/core/fp.hpp"

// QKERN_NO_EXCEPTIONS (defined in core/abi.hpp, whose namespace name carries it): 1 when qkern
// reports errors through the error handler instead of exceptions. Defaults to 1 exactly when the
// compiler has exceptions disabled (-fno-exceptions); may be defined to 1 by the user to use the
// handler even with exceptions enabled.

namespace qkern {

// The exception types and the handler slot are outside the ABI namespace (core/abi.hpp): one type
// and one slot for every translation unit, whatever its flags, so a catch anywhere sees what any TU
// throws. Their non-virtual members are always inlined.

/// A public function was given an argument it cannot accept (bad scale, range, axis, size...).
/// `argument()` names the offending parameter; what() is a full sentence that also names it.
class InvalidArgument : public std::invalid_argument {
 public:
  QKERN_ALWAYS_INLINE InvalidArgument(std::string argument, const std::string& reason)
      : std::invalid_argument("qkern: invalid argument '" + argument + "': " + reason),
        argument_(std::move(argument)) {}
  QKERN_ALWAYS_INLINE InvalidArgument(const InvalidArgument&) = default;
  QKERN_ALWAYS_INLINE const std::string& argument() const noexcept { return argument_; }

 private:
  std::string argument_;
};

/// The data cannot support the requested result (no values observed, no finite values, a corrupt
/// serialized blob). Distinct from InvalidArgument: the call was well formed, the data was not.
class DataError : public std::runtime_error {
 public:
  QKERN_ALWAYS_INLINE explicit DataError(const std::string& what) : std::runtime_error("qkern: " + what) {}
  QKERN_ALWAYS_INLINE DataError(const DataError&) = default;
};

/// Which exception an error would have thrown.
enum class ErrorKind : unsigned char { invalid_argument, data_error };

/// Receives every error when QKERN_NO_EXCEPTIONS is 1: the kind, the argument named (InvalidArgument's
/// argument(); "" for a DataError) and the full message (the exception's what()). It must not
/// return: qkern calls std::abort() if it does. It may end the program, longjmp out, or (in a
/// program with exceptions) throw.
using ErrorHandler = void (*)(ErrorKind kind, const char* argument, const char* message);

/// The process-wide handler slot (internal): data only, one object for every translation unit of
/// the program whatever its flags (outside the ABI namespace, see core/abi.hpp).
struct ErrorHandlerSlot {
  static inline std::atomic<ErrorHandler> handler{nullptr};
};

inline namespace QKERN_ABI_NS {
namespace detail {
inline std::atomic<ErrorHandler>& error_handler_slot() { return ErrorHandlerSlot::handler; }
}  // namespace detail

/// Installs `handler` (nullptr: none, errors print the message to stderr and abort) and returns the
/// previous one. Thread-safe. Used only when QKERN_NO_EXCEPTIONS is 1.
inline ErrorHandler set_error_handler(ErrorHandler handler) noexcept {
  return detail::error_handler_slot().exchange(handler);
}

namespace detail {

// The one place an error leaves qkern without exceptions: the handler, then abort.
[[noreturn]] inline void report_error(ErrorKind kind, const char* argument, const std::string& message) {
  const ErrorHandler h = error_handler_slot().load();
  if (h != nullptr)
    h(kind, argument, message.c_str());
  else
    std::fprintf(stderr, "%s\n", message.c_str());
  std::abort();
}

/// Reports an invalid argument: throws InvalidArgument(argument, reason), or without exceptions
/// calls the error handler with the same message.
[[noreturn]] inline void throw_invalid(const char* argument, const std::string& reason) {
#if QKERN_NO_EXCEPTIONS
  report_error(ErrorKind::invalid_argument, argument,
               "qkern: invalid argument '" + std::string(argument) + "': " + reason);
#else
  throw InvalidArgument(argument, reason);
#endif
}

/// Reports bad data: throws DataError(what), or without exceptions calls the error handler with the
/// same message.
[[noreturn]] inline void throw_data(const std::string& what) {
#if QKERN_NO_EXCEPTIONS
  report_error(ErrorKind::data_error, "", "qkern: " + what);
#else
  throw DataError(what);
#endif
}

/// Reports the error object `e` (InvalidArgument, DataError, or a type derived from one of them or
/// from std::exception): throws it, or without exceptions calls the error handler with its kind, the
/// argument (InvalidArgument only) and its what(). Headers raise their own error types through it.
template <class E>
[[noreturn]] inline void raise(const E& e) {
#if QKERN_NO_EXCEPTIONS
  if constexpr (std::is_base_of<InvalidArgument, E>::value) {
    report_error(ErrorKind::invalid_argument, e.argument().c_str(), e.what());
  } else {
    report_error(ErrorKind::data_error, "", e.what());
  }
#else
  throw e;
#endif
}

inline void require(bool condition, const char* argument, const char* reason) {
  if (!condition) throw_invalid(argument, reason);
}

// A usable scale is finite, strictly positive, and has a finite reciprocal (QP-3): subnormal
// scales whose reciprocal overflows are rejected rather than silently replaced.
inline void require_valid_scale(double scale, const char* argument) {
  if (!(scale > 0.0) || !::qkern::detail::is_finite(scale))
    throw_invalid(argument, "scale must be finite and > 0, got " + std::to_string(scale));
  const float s = static_cast<float>(scale);
  if (!(s > 0.0f) || !is_finite(fp_div(1.0f, s)))
    throw_invalid(argument,
                  "scale " + std::to_string(scale) + " is not representable as a float32 with a finite reciprocal");
}

}  // namespace detail
}  // namespace QKERN_ABI_NS
}  // namespace qkern
