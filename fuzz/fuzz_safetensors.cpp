// qkern fuzz target — SPDX-License-Identifier: Apache-2.0
//
// fuzz_safetensors.cpp: libFuzzer target for the safetensors parser (io/safetensors.hpp and the JSON parser
// io/json.hpp) through TensorFile::parse. Any input must give either tensors whose every byte can be converted to
// float32 or a qkern::io::FileError; nothing else (crash, out-of-bounds read, other exception) is acceptable. Seed
// corpus: fuzz/corpus/safetensors/. The format is detected by content, so mutations that turn the input into another
// format exercise those parsers too.
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -DQKERN_HAVE_ZLIB -Iinclude \
//       fuzz/fuzz_safetensors.cpp -lz -o fuzz_safetensors && ./fuzz_safetensors -max_total_time=60
//       fuzz/corpus/safetensors
#include <cstddef>
#include <cstdint>
#include <vector>

#include "qkern/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const qkern::io::TensorFile f = qkern::io::TensorFile::parse(data, size, "fuzz.safetensors");
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
