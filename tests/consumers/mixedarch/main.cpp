// qkern — SPDX-License-Identifier: Apache-2.0
// main.cpp: driver of the mixed-arch link test. `main base` runs only the baseline side (what a CPU
// without AVX-512 executes: run under valgrind, which has no AVX-512, any AVX-512 copy of a shared
// function the linker kept is SIGILL); `main both` also runs the x86-64-v4 side when the CPU has
// AVX-512 and requires both sides to compute identical results.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "cpu_levels.hpp"

int mixed_arch_side_base(std::uint64_t* digest, const char** arch);
int mixed_arch_side_v4(std::uint64_t* digest, const char** arch);

int main(int argc, char** argv) {
  const bool both = argc > 1 && std::strcmp(argv[1], "both") == 0;
  std::uint64_t base_digest = 0;
  const char* base_arch = "";
  int rc = mixed_arch_side_base(&base_digest, &base_arch);
  std::printf("base side: kernels on %s, digest %016llx%s\n", base_arch, static_cast<unsigned long long>(base_digest),
              rc == 0 ? "" : " FAILED");
  if (both) {
    if (!cpu_runs_v4()) {
      std::printf("v4 side: not run (this CPU lacks AVX-512)\n");
    } else {
      std::uint64_t v4_digest = 0;
      const char* v4_arch = "";
      const int rc4 = mixed_arch_side_v4(&v4_digest, &v4_arch);
      std::printf("v4 side: kernels on %s, digest %016llx%s\n", v4_arch, static_cast<unsigned long long>(v4_digest),
                  rc4 == 0 ? "" : " FAILED");
      rc |= rc4;
      if (v4_digest != base_digest) {
        std::fprintf(stderr, "FAIL: the x86-64 and x86-64-v4 translation units computed different results\n");
        rc = 1;
      }
    }
  }
  return rc;
}
