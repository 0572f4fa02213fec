// qkern — SPDX-License-Identifier: Apache-2.0
//
// fuzz_ort_table.cpp: libFuzzer target for read_ort_table_string (tools/qkern/formats). Any input must either parse or
// throw qkern::DataError; what parses must write back (or be refused with InvalidArgument) and,
// through the lossless qkern JSON, read back equal. Seeds: fuzz/corpus/ort_table/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "calibration_result.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  using namespace qkern::tool;
  CalibrationSet s;
  try {
    s = read_ort_table_string(text, "fuzz");
  } catch (const qkern::DataError&) {
    return 0;
  }
  try {
    (void)write_ort_table_string(s);
  } catch (const qkern::InvalidArgument&) {
  }
  try {
    const CalibrationSet back = read_qkern_json_string(write_qkern_json_string(s), "fuzz-roundtrip");
    if (back != s) std::abort();  // the lossless format lost something
  } catch (const qkern::InvalidArgument&) {
  }
  return 0;
}
