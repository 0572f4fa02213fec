// qkern — SPDX-License-Identifier: Apache-2.0
// main.cpp: consumer of the installed package (dispatching build, and header-only via pkg-config).
#include "consumer_checks.hpp"

int main(int argc, char** argv) {
#if defined(QKERN_DISPATCH)
  static_assert(QKERN_DISPATCH_SSE2 && QKERN_DISPATCH_SSE4_2, "qkern_add_dispatch defines these");
#endif
  return consumer::run_all(QKERN_EXPECTED_VERSION) | consumer::check_selected_arch(argc, argv);
}
