// qkern — SPDX-License-Identifier: Apache-2.0
//
// error.hpp: the exception types qkern throws and the argument checks used at API boundaries.
// Hot loops never validate; every public entry point validates once, here.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace qkern {

/// A public function was given an argument it cannot accept (bad scale, range, axis, size...).
/// `argument()` names the offending parameter; what() is a full sentence that also names it.
class InvalidArgument : public std::invalid_argument {
 public:
  InvalidArgument(std::string argument, const std::string& reason)
      : std::invalid_argument("qkern: invalid argument '" + argument + "': " + reason),
        argument_(std::move(argument)) {}
  const std::string& argument() const noexcept { return argument_; }

 private:
  std::string argument_;
};

/// The data cannot support the requested result (no values observed, no finite values, a corrupt
/// serialized blob). Distinct from InvalidArgument: the call was well formed, the data was not.
class DataError : public std::runtime_error {
 public:
  explicit DataError(const std::string& what) : std::runtime_error("qkern: " + what) {}
};

namespace detail {

[[noreturn]] inline void throw_invalid(const char* argument, const std::string& reason) {
  throw InvalidArgument(argument, reason);
}

inline void require(bool condition, const char* argument, const char* reason) {
  if (!condition) throw_invalid(argument, reason);
}

// A usable scale is finite, strictly positive, and has a finite reciprocal (QP-3): subnormal
// scales whose reciprocal overflows are rejected rather than silently replaced.
inline void require_valid_scale(double scale, const char* argument) {
  if (!(scale > 0.0) || !std::isfinite(scale))
    throw_invalid(argument, "scale must be finite and > 0, got " + std::to_string(scale));
  const float s = static_cast<float>(scale);
  if (!(s > 0.0f) || !std::isfinite(1.0f / s))
    throw_invalid(argument,
                  "scale " + std::to_string(scale) + " is not representable as a float32 with a finite reciprocal");
}

}  // namespace detail
}  // namespace qkern
