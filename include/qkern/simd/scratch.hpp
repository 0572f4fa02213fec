// qkern — SPDX-License-Identifier: Apache-2.0
//
// scratch.hpp: a heap array for kernels, templated on the arch. std::vector's out-of-line members
// (_M_default_append, ~_Vector_base) are not templated on the arch, so a kernel using one emits them
// in every per-arch translation unit, compiled with that arch's flags, and the linker keeps one copy
// for all arches (tests/check_arch_leaks.cmake catches this). ScratchArray<T, A> carries the arch
// in its type, so each arch gets its own copy; the memory comes from ::operator new (a library
// function, never compiled with the arch's flags).
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

namespace qkern {
namespace simd {

template <class T, class A>
class ScratchArray {
  static_assert(std::is_trivially_copyable<T>::value, "ScratchArray holds plain values");

 public:
  ScratchArray() = default;
  /// n zero-initialised elements.
  explicit ScratchArray(std::size_t n) { resize(n); }
  ScratchArray(std::size_t n, T value) { assign(n, value); }
  ScratchArray(const ScratchArray&) = delete;
  ScratchArray& operator=(const ScratchArray&) = delete;
  ScratchArray(ScratchArray&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  ScratchArray& operator=(ScratchArray&& o) noexcept {
    if (this != &o) {
      release();
      data_ = o.data_;
      size_ = o.size_;
      o.data_ = nullptr;
      o.size_ = 0;
    }
    return *this;
  }
  ~ScratchArray() { release(); }

  /// Discards the contents and holds n zero-initialised elements.
  void resize(std::size_t n) {
    release();
    if (n == 0) return;
    data_ = static_cast<T*>(::operator new(n * sizeof(T)));
    size_ = n;
    std::memset(static_cast<void*>(data_), 0, n * sizeof(T));
  }
  void assign(std::size_t n, T value) {
    resize(n);
    for (std::size_t i = 0; i < n; ++i) data_[i] = value;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }

 private:
  void release() {
    if (data_ != nullptr) ::operator delete(static_cast<void*>(data_));
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace simd
}  // namespace qkern
