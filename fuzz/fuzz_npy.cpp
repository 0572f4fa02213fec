// qkern fuzz target — SPDX-License-Identifier: Apache-2.0
//
// fuzz_npy.cpp: libFuzzer target for the .npy parser (io/npy.hpp); the checks are in
// tensor_file_fuzz.hpp. Seed corpus: fuzz/corpus/npy/.
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -DQKERN_HAVE_ZLIB -Iinclude \
//       fuzz/fuzz_npy.cpp -lz -o fuzz_npy && ./fuzz_npy -max_total_time=60 fuzz/corpus/npy
#include "tensor_file_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_tensor_file(data, size, "fuzz.npy");
}
