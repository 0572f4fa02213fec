// qkern fuzz target — SPDX-License-Identifier: Apache-2.0
//
// fuzz_safetensors.cpp: libFuzzer target for the safetensors parser (io/safetensors.hpp and the JSON parser
// io/json.hpp); the checks are in
// tensor_file_fuzz.hpp. Seed corpus: fuzz/corpus/safetensors/.
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -DQKERN_HAVE_ZLIB -Iinclude \
//       fuzz/fuzz_safetensors.cpp -lz -o fuzz_safetensors && ./fuzz_safetensors -max_total_time=60
//       fuzz/corpus/safetensors
#include "tensor_file_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_tensor_file(data, size, "fuzz.safetensors");
}
