// qkern — SPDX-License-Identifier: Apache-2.0
// main.cpp: add_subdirectory consumer with runtime dispatch; exit code 0 when every check passes.
#include "consumer_checks.hpp"

int main(int argc, char** argv) {
  static_assert(QKERN_DISPATCH_SSE2 && QKERN_DISPATCH_FMA3_AVX2, "qkern_add_dispatch defines these");
  return consumer::run_all(QKERN_EXPECTED_VERSION) | consumer::check_selected_arch(argc, argv);
}
