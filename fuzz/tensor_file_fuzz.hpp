// qkern fuzz target — SPDX-License-Identifier: Apache-2.0
//
// tensor_file_fuzz.hpp: the body the tensor-file fuzz targets (fuzz_npy, fuzz_npz, fuzz_safetensors) share.
// TensorFile::parse, as TensorFile::open uses it: any input must give either tensors whose every byte can be
// converted to float32 or a qkern::io::FileError; nothing else (crash, out-of-bounds read, other exception) is
// acceptable. The format is detected by content, so mutations that turn the input into another format exercise
// those parsers too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "qkern/io.hpp"

inline int fuzz_tensor_file(const std::uint8_t* data, std::size_t size, const char* name) {
  try {
    const qkern::io::TensorFile f = qkern::io::TensorFile::parse(data, size, name);
    std::vector<float> out;
    for (const qkern::io::TensorView& t : f.tensors()) {
      out.resize(t.element_count());
      t.to_float32(out.data());
      if (const float* p = t.as_float32()) {
        volatile float sink = t.element_count() ? p[t.element_count() - 1] : 0.0f;
        (void)sink;
      }
      (void)f.at(t.name);
    }
  } catch (const qkern::io::FileError&) {
  }
  return 0;
}
