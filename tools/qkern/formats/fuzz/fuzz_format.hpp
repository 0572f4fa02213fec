// qkern — SPDX-License-Identifier: Apache-2.0
//
// fuzz_format.hpp: the body every calibration-format fuzz target shares. Any input must either parse
// or throw qkern::DataError; what parses must write back in the same format (or be refused with
// InvalidArgument) and, through the lossless qkern JSON, read back equal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "calibration_result.hpp"

namespace qkern::tool::fuzz {

template <class Read, class Write>
int run_format_target(const std::uint8_t* data, std::size_t size, Read read, Write write) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  CalibrationSet s;
  try {
    s = read(text);
  } catch (const qkern::DataError&) {
    return 0;
  }
  try {
    (void)write(s);
  } catch (const qkern::InvalidArgument&) {
  }
  try {
    const CalibrationSet back = read_qkern_json_string(write_qkern_json_string(s), "fuzz-roundtrip");
    if (back != s) std::abort();  // the lossless format lost something
  } catch (const qkern::InvalidArgument&) {
  }
  return 0;
}

}  // namespace qkern::tool::fuzz
