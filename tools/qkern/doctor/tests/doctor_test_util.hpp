// qkern tool tests — SPDX-License-Identifier: Apache-2.0
//
// doctor_test_util.hpp: what the doctor's test files share: the embedded real dump's path and a
// fresh scratch directory per test.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace doctor_test {

/// The embedded real dump (data/digits, made by data/digits/make_dump.py).
inline const std::string kDigits = std::string(QKERN_SOURCE_DIR) + "/data/digits";

/// A new directory under the system's temporary directory, named after `tag` and the time.
inline std::filesystem::path scratch(const std::string& tag) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() /
      ("qkern-doctor-" + tag + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace doctor_test
