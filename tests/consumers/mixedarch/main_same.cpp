// qkern — SPDX-License-Identifier: Apache-2.0
// main_same.cpp: driver of the same-arch pairs of the mixed-arch link test. Two user TUs whose flags
// differ but select the same xsimd arch (QKERN_PAIR 1: -march=skylake-avx512 and
// -march=icelake-server, both xsimd::avx512bw; 2: -march=haswell and -march=alderlake, both
// xsimd::fma3<avx2>) are linked into one program. That they share no qkern symbol is proved by nm
// (check_shared_symbols.cmake): no CPU emulator here lacks only VBMI or AVX-VNNI. This program runs
// each side the CPU can run, natively, and requires both to report the same kernel arch and compute
// identical results.
#include <cpuid.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "cpu_levels.hpp"

#if QKERN_PAIR == 1
#define QKERN_SIDE_A sky
#define QKERN_SIDE_B icl
#elif QKERN_PAIR == 2
#define QKERN_SIDE_A hsw
#define QKERN_SIDE_B adl
#else
#error "compile with -DQKERN_PAIR=1 or 2"
#endif
#define QKERN_MAIN_CAT2(a, b) a##b
#define QKERN_MAIN_CAT(a, b) QKERN_MAIN_CAT2(a, b)
#define QKERN_MAIN_STR2(a) #a
#define QKERN_MAIN_STR(a) QKERN_MAIN_STR2(a)

int QKERN_MAIN_CAT(mixed_arch_side_, QKERN_SIDE_A)(std::uint64_t* digest, const char** arch);
int QKERN_MAIN_CAT(mixed_arch_side_, QKERN_SIDE_B)(std::uint64_t* digest, const char** arch);

namespace {
// CPUID leaf 7 bits (Intel SDM vol. 2A, CPUID): __builtin_cpu_supports does not know every one of
// these names in clang 14. The OS-state (XGETBV) part comes from the level checks (cpu_levels.hpp).
struct Leaf7 {
  unsigned ebx = 0, ecx = 0, eax1 = 0;
};
Leaf7 leaf7() {
  Leaf7 r;
  unsigned a, b, c, d;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    r.ebx = b;
    r.ecx = c;
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) r.eax1 = a;
  return r;
}
bool all(unsigned word, unsigned bits) { return (word & bits) == bits; }

bool cpu_runs_a() {
#if QKERN_PAIR == 1
  return cpu_runs_v4();
#else
  return cpu_runs_v3();
#endif
}
bool cpu_runs_b() {
  if (!cpu_runs_a()) return false;
  const Leaf7 l = leaf7();
  // GFNI (bit 8), VAES (9), VPCLMULQDQ (10) in ECX: both icelake-server and alderlake enable them.
  const unsigned gfni_vaes_clmul = (1u << 8) | (1u << 9) | (1u << 10);
#if QKERN_PAIR == 1
  // + IFMA (EBX 21); VBMI (ECX 1), VBMI2 (6), VNNI (11), BITALG (12), VPOPCNTDQ (14).
  return all(l.ebx, 1u << 21) &&
         all(l.ecx, gfni_vaes_clmul | (1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
#else
  // + AVX-VNNI (leaf 7 subleaf 1, EAX bit 4).
  return all(l.ecx, gfni_vaes_clmul) && all(l.eax1, 1u << 4);
#endif
}

int run_side(const char* name, int (*side)(std::uint64_t*, const char**), std::uint64_t* digest, const char** arch) {
  const int rc = side(digest, arch);
  std::printf("%s side: kernels on %s, digest %016llx%s\n", name, *arch, static_cast<unsigned long long>(*digest),
              rc == 0 ? "" : " FAILED");
  return rc;
}
}  // namespace

int main() {
  if (!cpu_runs_a()) {
    std::printf("not run: this CPU cannot run the " QKERN_MAIN_STR(QKERN_SIDE_A) " side\n");
    return 0;
  }
  std::uint64_t da = 0, db = 0;
  const char *aa = "", *ab = "";
  int rc = run_side(QKERN_MAIN_STR(QKERN_SIDE_A), &QKERN_MAIN_CAT(mixed_arch_side_, QKERN_SIDE_A), &da, &aa);
  if (!cpu_runs_b()) {
    std::printf(QKERN_MAIN_STR(QKERN_SIDE_B) " side: not run (this CPU lacks its extensions)\n");
    return rc;
  }
  rc |= run_side(QKERN_MAIN_STR(QKERN_SIDE_B), &QKERN_MAIN_CAT(mixed_arch_side_, QKERN_SIDE_B), &db, &ab);
  if (std::strcmp(aa, ab) != 0 || da != db) {
    std::fprintf(stderr, "FAIL: the two translation units of one xsimd arch disagree (%s vs %s)\n", aa, ab);
    rc = 1;
  }
  return rc;
}
