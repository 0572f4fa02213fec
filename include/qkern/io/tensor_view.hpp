// qkern — SPDX-License-Identifier: Apache-2.0
//
// io/tensor_view.hpp: TensorView, a typed zero-copy view of one tensor inside an open tensor file,
// and its conversion to C-order float32 (the SIMD kernels of kernels/convert.hpp; stored byte order
// and Fortran order handled here). TensorRef describes a tensor to write.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/io/types.hpp"
#include "qkern/kernels/kernel_list.hpp"

namespace qkern {
namespace io {
inline namespace QKERN_ABI_NS {

namespace detail {

// n elements of `t` stored natively at src (any alignment) -> float32.
inline void convert_native(ElementType t, const void* src, std::size_t n, float* out) {
  switch (t) {
    case ElementType::f32:
      std::memcpy(out, src, n * 4);
      return;
    case ElementType::f16:
      dispatch::select<kernels::f16_to_f32>()(src, n, out);
      return;
    case ElementType::bf16:
      dispatch::select<kernels::bf16_to_f32>()(src, n, out);
      return;
    case ElementType::f64:
      dispatch::select<kernels::f64_to_f32>()(src, n, out);
      return;
    case ElementType::i8:
      dispatch::select<kernels::i8_to_f32>()(src, n, out);
      return;
    case ElementType::u8:
      dispatch::select<kernels::u8_to_f32>()(src, n, out);
      return;
    case ElementType::i16:
      dispatch::select<kernels::i16_to_f32>()(src, n, out);
      return;
    case ElementType::u16:
      dispatch::select<kernels::u16_to_f32>()(src, n, out);
      return;
    case ElementType::i32:
      dispatch::select<kernels::i32_to_f32>()(src, n, out);
      return;
    case ElementType::u32:
      dispatch::select<kernels::u32_to_f32>()(src, n, out);
      return;
    case ElementType::i64:
      dispatch::select<kernels::i64_to_f32>()(src, n, out);
      return;
    case ElementType::u64:
      dispatch::select<kernels::u64_to_f32>()(src, n, out);
      return;
    case ElementType::boolean:
      dispatch::select<kernels::bool_to_f32>()(src, n, out);
      return;
  }
}

// Byte-reversed copy of n elements of `size` bytes.
inline void byteswap_copy(const unsigned char* src, std::size_t n, std::size_t size, unsigned char* dst) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t b = 0; b < size; ++b) dst[i * size + b] = src[i * size + size - 1 - b];
}

// n elements stored at src, byte-swapped or not -> float32 (swapping through a small buffer).
inline void convert_any_order(ElementType t, const void* src, std::size_t n, bool swapped, float* out) {
  const std::size_t size = element_size(t);
  if (!swapped || size == 1) {
    convert_native(t, src, n, out);
    return;
  }
  constexpr std::size_t kChunk = 2048;
  alignas(64) unsigned char buf[kChunk * 8];
  const unsigned char* p = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n; i += kChunk) {
    const std::size_t m = std::min(kChunk, n - i);
    byteswap_copy(p + i * size, m, size, buf);
    convert_native(t, buf, m, out + i);
  }
}

// Column-major (Fortran) `in` of logical shape -> row-major `out`.
inline void fortran_to_c(const float* in, const std::vector<std::size_t>& shape, float* out) {
  const std::size_t rank = shape.size();
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  if (count == 0) return;
  std::vector<std::size_t> fstride(rank), idx(rank, 0);
  std::size_t s = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    fstride[k] = s;
    s *= shape[k];
  }
  std::size_t off = 0;  // Fortran offset of idx
  for (std::size_t i = 0; i < count; ++i) {
    out[i] = in[off];
    // Advance the row-major odometer (last axis fastest), keeping off in step.
    for (std::size_t k = rank; k-- > 0;) {
      if (++idx[k] < shape[k]) {
        off += fstride[k];
        break;
      }
      off -= (shape[k] - 1) * fstride[k];
      idx[k] = 0;
    }
  }
}

}  // namespace detail

/// One tensor inside an open TensorFile. `data` points into the file mapping (or into a buffer the
/// TensorFile owns for an inflated .npz member), valid while the TensorFile lives. It is not
/// necessarily aligned to the element size (stored .npz members and safetensors offsets carry no
/// alignment; .npy data is 64-byte aligned in files numpy writes): read it with memcpy, or use
/// as_float32() / to_float32().
struct TensorView {
  std::string name;  ///< key in .npz / safetensors; file stem for .npy
  ElementType dtype = ElementType::f32;
  std::vector<std::size_t> shape;   ///< logical shape (row-major semantics after conversion)
  bool fortran_order = false;       ///< .npy only: data stored column-major
  bool byte_swapped = false;        ///< stored in the byte order opposite to this machine's
  const std::byte* data = nullptr;  ///< stored bytes (any alignment, see above)

  /// Product of the shape (1 for rank 0).
  std::size_t element_count() const {
    std::size_t c = 1;
    for (std::size_t d : shape) c *= d;
    return c;
  }
  /// Stored size in bytes.
  std::size_t byte_size() const { return element_count() * element_size(dtype); }

  /// The data as float32, zero copy: non-null iff dtype is f32, in native byte order, C order (or
  /// Fortran order with at most one axis longer than 1) and 4-byte aligned.
  const float* as_float32() const {
    if (dtype != ElementType::f32 || byte_swapped || (fortran_order && !is_order_free())) return nullptr;
    if (reinterpret_cast<std::uintptr_t>(data) % alignof(float) != 0) return nullptr;
    return reinterpret_cast<const float*>(data);
  }

  /// Writes element_count() floats to `out` in C (row-major) order, whatever the stored type, byte
  /// order and layout. f16/bf16/ints/bool exact (ints above 2^24 round to nearest even), f64 rounds to
  /// nearest even; NaN handling per reference/convert.hpp (f16/f64 NaNs quieted, bf16 kept).
  void to_float32(float* out) const {
    const std::size_t n = element_count();
    if (n == 0) return;
    if (!fortran_order || is_order_free()) {
      detail::convert_any_order(dtype, data, n, byte_swapped, out);
      return;
    }
    std::vector<float> tmp(n);
    detail::convert_any_order(dtype, data, n, byte_swapped, tmp.data());
    detail::fortran_to_c(tmp.data(), shape, out);
  }

  std::vector<float> to_float32() const {
    std::vector<float> v(element_count());
    to_float32(v.data());
    return v;
  }

 private:
  // Fortran and C order agree when at most one axis has extent > 1.
  bool is_order_free() const {
    std::size_t big = 0;
    for (std::size_t d : shape) big += d > 1;
    return big <= 1;
  }
};

/// A tensor to write: `data` holds element_count(shape) elements of dtype in native byte order,
/// C order (any alignment).
struct TensorRef {
  std::string name;
  ElementType dtype = ElementType::f32;
  std::vector<std::size_t> shape;
  const void* data = nullptr;
};

}  // namespace QKERN_ABI_NS
}  // namespace io
}  // namespace qkern
