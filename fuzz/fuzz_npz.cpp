// qkern fuzz target — SPDX-License-Identifier: Apache-2.0
//
// fuzz_npz.cpp: libFuzzer target for the .npz parser (io/npz.hpp: zip directory, local headers, ZIP64, inflate with
// zlib when QKERN_HAVE_ZLIB); the checks are in
// tensor_file_fuzz.hpp. Seed corpus: fuzz/corpus/npz/.
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -DQKERN_HAVE_ZLIB -Iinclude \
//       fuzz/fuzz_npz.cpp -lz -o fuzz_npz && ./fuzz_npz -max_total_time=60 fuzz/corpus/npz
#include "tensor_file_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_tensor_file(data, size, "fuzz.npz");
}
