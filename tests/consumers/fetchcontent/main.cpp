// qkern — SPDX-License-Identifier: Apache-2.0
// main.cpp: FetchContent consumer with runtime dispatch (baseline arch only); exit code 0 on success.
#include "consumer_checks.hpp"

int main(int argc, char** argv) {
  static_assert(QKERN_DISPATCH_SSE2, "qkern_add_dispatch defines this");
  return consumer::run_all(QKERN_EXPECTED_VERSION) | consumer::check_selected_arch(argc, argv);
}
