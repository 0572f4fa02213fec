// qkern — SPDX-License-Identifier: Apache-2.0
//
// io/npz.hpp: NumPy .npz archives (temporary: reader being written).
#pragma once

#include <cstddef>
#include <string>

#include "qkern/io/npy.hpp"

namespace qkern {
namespace io {
namespace detail {

template <class Alloc, class Add>
void read_npz(const unsigned char*, std::size_t, const std::string& file, Alloc&&, Add&&) {
  throw FileError(file, "", ".npz reading is not implemented yet");
}

}  // namespace detail
}  // namespace io
}  // namespace qkern
