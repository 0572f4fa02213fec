// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// fit_golden_util.hpp: readers for tests/golden/data/fit_*.txt (written by
// tests/golden/generate_fit_golden.py; floats as hex bit patterns).
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace qkern_test {

inline std::string golden_path(const std::string& name) {
  return std::string(QKERN_SOURCE_DIR) + "/tests/golden/data/" + name;
}

inline float f32_from_hex(const std::string& h) {
  const std::uint32_t b = static_cast<std::uint32_t>(std::stoul(h, nullptr, 16));
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

inline double f64_from_hex(const std::string& h) {
  const std::uint64_t b = std::stoull(h, nullptr, 16);
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}

/// The non-comment lines of a golden file, split into whitespace-separated fields.
inline std::vector<std::vector<std::string>> golden_lines(const std::string& name) {
  std::ifstream in(golden_path(name));
  if (!in) throw std::runtime_error("cannot open golden file " + golden_path(name));
  std::vector<std::vector<std::string>> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::vector<std::string> f;
    std::string w;
    while (ss >> w) f.push_back(w);
    lines.push_back(f);
  }
  return lines;
}

}  // namespace qkern_test
