#!/usr/bin/env bash
# .ci/riscv64.sh: CI of the scalar path, which every processor without x86 or aarch64 SIMD runs
# (riscv64, ppc64le, s390x, ...; docs/platforms.md "Other processors"). There dispatch runs every
# kernel's scalar form (kernels/scalar.hpp) automatically.
#   1. riscv64: cross-compiles qkern_scalar_tests (Debian's g++-riscv64-linux-gnu; GoogleTest built
#      from Debian's /usr/src/googletest with the same cross compiler) and runs it under
#      qemu-riscv64: the tests of every kernel family (typed per-arch suites over the one arch
#      `scalar`, every API-level test through dispatch) and the golden vectors (PyTorch / numpy
#      outputs); Dispatch.* must report `scalar`.
#   2. x86-64 (the host): the same test binary, header-only with QKERN_FORCE_SCALAR, run natively
#      (in parallel with the emulated run) and unfiltered.
# Under emulation the five slowest tests are left out (`slow` below: exhaustive requantize inputs
# and the 2^24-element selection: 20 of the 34 s of the native run): they run the scalar forms, which are
# the reference functions themselves, on the same portable C++ as step 2 runs them.
# The whole qkern_tests binary also builds and passes on riscv64 (QKERN_RISCV64_FULL=1 builds and
# runs it instead, unfiltered: 319 tests, about 3x the cost).
#
# Environment: QKERN_RISCV64_BUILD (build dir, default build/riscv64), JOBS (default 2),
# QKERN_RISCV64_CXX=gcc|clang (default gcc), QKERN_RISCV64_FULL=1, QKERN_SCALAR_X86=0 (skip step 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QKERN_RISCV64_BUILD:-$root/build/riscv64}
jobs=${JOBS:-2}
compiler=${QKERN_RISCV64_CXX:-gcc}
toolchain=$root/cmake/toolchains/riscv64-linux-gnu.cmake
sysroot=/usr/riscv64-linux-gnu
target=qkern_scalar_tests
slow='*/scalar.Exhaustive*:RequantizeReference.Exhaustive*:Select.SampledWindowPathMatchesRadixPathAndSortedReference'
slow="$slow:Select.ExactBeyondTwoToThe24Elements:*/scalar.QuantizeSpecialValuesAtEveryLanePosition"
filter="-$slow"
if [ "${QKERN_RISCV64_FULL:-0}" = 1 ]; then
  target=qkern_tests
  filter='*'
fi
start=$(date +%s)
common=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2 -DQKERN_BUILD_TESTS=ON
  -DQKERN_TEST_FORCE_SCALAR=ON -DQKERN_TEST_PACKAGING=OFF -DQKERN_BUILD_BENCHMARKS=OFF -DQKERN_BUILD_EXAMPLES=OFF
  -DQKERN_INSTALL=OFF)

check_log() {  # log: print the summary; fail unless dispatch selected scalar
  grep -E "^\[ qkern \]|PASSED|SKIPPED|FAILED" "$1" || true
  grep -q "dispatch selects scalar" "$1" || { echo "dispatch did not select scalar" >&2; exit 1; }
}

# 1a. GoogleTest for riscv64 (cached: rebuilt only when the build dir is new).
gtest_prefix=$build/gtest-install
if [ ! -f "$gtest_prefix/lib/cmake/GTest/GTestConfig.cmake" ]; then
  cmake -S /usr/src/googletest -B "$build/gtest-build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DQKERN_CROSS_COMPILER="$compiler" -DCMAKE_BUILD_TYPE=Release -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON \
    -DCMAKE_INSTALL_PREFIX="$gtest_prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$build/gtest-build" -j "$jobs"
  cmake --install "$build/gtest-build" >/dev/null
fi

# 1b. The tests, cross-built (no arch TUs: qkern_add_dispatch adds nothing for riscv64).
cmake -S "$root" -B "$build/qkern" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DQKERN_CROSS_COMPILER="$compiler" \
  -DQKERN_CROSS_EXTRA_ROOTS="$gtest_prefix" "${common[@]}" >/dev/null
cmake --build "$build/qkern" -j "$jobs" --target "$target"
built=$(date +%s)

# 1c. Under emulation (one core), in the background while step 2 builds.
QKERN_EXPECT_ARCH=scalar qemu-riscv64 -L "$sysroot" "$build/qkern/tests/$target" --gtest_brief=1 \
  --gtest_filter="$filter" >"$build/run.log" 2>&1 &
emulated=$!

# 2. The same tests on the host with QKERN_FORCE_SCALAR.
if [ "${QKERN_SCALAR_X86:-1}" = 1 ]; then
  cmake -S "$root" -B "$build/host-scalar" "${common[@]}" >/dev/null
  cmake --build "$build/host-scalar" -j "$jobs" --target qkern_scalar_tests
  echo "== host qkern_scalar_tests (QKERN_FORCE_SCALAR): expect scalar"
  "$build/host-scalar/tests/qkern_scalar_tests" --gtest_brief=1 >"$build/host-run.log" 2>&1 ||
    { tail -n 80 "$build/host-run.log"; kill "$emulated" 2>/dev/null; exit 1; }
  check_log "$build/host-run.log"
fi

# Failures of the emulated run are printed in full.
echo "== qemu-riscv64 $target: expect scalar"
wait "$emulated" || { tail -n 80 "$build/run.log"; exit 1; }
check_log "$build/run.log"
echo "scalar-path CI: riscv64 build $((built - start)) s, total $(( $(date +%s) - start )) s"
