#!/usr/bin/env bash
# .ci/aarch64.sh: aarch64 CI. Cross-compiles the test suite once (Debian's g++-aarch64-linux-gnu,
# GoogleTest built from Debian's /usr/src/googletest with the same cross compiler) and runs it under
# qemu-aarch64 once per arch level, on emulated CPUs that have / lack each extension:
#   cortex-a53  Armv8.0, no dot product   -> dispatch must select neon64
#   cortex-a76  Armv8.2 + dot product     -> neon64_dotprod (no i8mm)
#   max         dot product, i8mm, SVE    -> neon64_i8mm; per-arch tests cover all three levels
#   max with QKERN_MAX_ARCH=neon64        -> the cap works
# The `max` run is the whole binary: the typed per-arch tests run the bit-exact SIMD-vs-reference
# checks of all three levels there (special values, ties, every tail length, misaligned pointers),
# and every API-level test (golden vectors included) runs through dispatch on neon64_i8mm. The
# other runs check the feature detection and run the API-level tests of the kernel families and the
# golden vectors through the level they select (emulation is slow: the whole binary on every CPU
# would cost several times as much; QKERN_AARCH64_FULL=1 does it anyway). Plus the arch-leak (ODR)
# check of the per-arch objects.
#
# Environment: QKERN_AARCH64_BUILD (build dir, default build/aarch64), JOBS (default 2),
# QKERN_AARCH64_CXX=gcc|clang (default gcc), QKERN_AARCH64_FULL=1 (whole binary on every CPU).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QKERN_AARCH64_BUILD:-$root/build/aarch64}
jobs=${JOBS:-2}
compiler=${QKERN_AARCH64_CXX:-gcc}
toolchain=$root/cmake/toolchains/aarch64-linux-gnu.cmake
sysroot=/usr/aarch64-linux-gnu
start=$(date +%s)

# 1. GoogleTest for aarch64 (cached: rebuilt only when the build dir is new).
gtest_prefix=$build/gtest-install
if [ ! -f "$gtest_prefix/lib/cmake/GTest/GTestConfig.cmake" ]; then
  cmake -S /usr/src/googletest -B "$build/gtest-build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DQKERN_CROSS_COMPILER="$compiler" -DCMAKE_BUILD_TYPE=Release -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON \
    -DCMAKE_INSTALL_PREFIX="$gtest_prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$build/gtest-build" -j "$jobs"
  cmake --install "$build/gtest-build" >/dev/null
fi

# 2. The test suite, every arch level compiled in (qkern_add_dispatch's aarch64 list).
cmake -S "$root" -B "$build/qkern" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DQKERN_CROSS_COMPILER="$compiler" \
  -DQKERN_CROSS_EXTRA_ROOTS="$gtest_prefix" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2 \
  -DQKERN_BUILD_TESTS=ON -DQKERN_BUILD_BENCHMARKS=OFF -DQKERN_BUILD_EXAMPLES=OFF -DQKERN_INSTALL=OFF >/dev/null
cmake --build "$build/qkern" -j "$jobs" --target qkern_tests
built=$(date +%s)
(cd "$build/qkern" && ctest -R qkern_arch_leaks --output-on-failure)

# 3. One run per level. gtest's brief output keeps the log short; failures are printed in full.
bin=$build/qkern/tests/qkern_tests
# API-level tests of every kernel family (through dispatch) and the golden vectors.
api='Dispatch.*:Golden*:Quantize.*:CustomRange.*:MinMax.*:FixedHistogram.*:ChannelFixedHistogram.*:Select.*:Metrics.*:RequantizeApi.*:Gemm.*:ReadmeExample.*'
[ "${QKERN_AARCH64_FULL:-0}" = 1 ] && api='*'
run() {
  local cpu=$1 expect=$2 filter=$3 cap=${4:-}
  echo "== qemu-aarch64 -cpu $cpu${cap:+ QKERN_MAX_ARCH=$cap}: expect $expect"
  local t0
  t0=$(date +%s)
  env ${cap:+QKERN_MAX_ARCH=$cap} QKERN_EXPECT_ARCH="$expect" \
    qemu-aarch64 -cpu "$cpu" -L "$sysroot" "$bin" --gtest_brief=1 --gtest_filter="$filter" >"$build/run.log" 2>&1 ||
    { tail -n 60 "$build/run.log"; exit 1; }
  grep -E "^\[ qkern \]|PASSED|SKIPPED|FAILED" "$build/run.log" || true
  echo "   ($(( $(date +%s) - t0 )) s)"
}
run max neon64_i8mm '*'
run cortex-a53 neon64 "$api"
run cortex-a76 neon64_dotprod "$api"
run max neon64 "$api" neon64
echo "aarch64 CI: build $((built - start)) s, total $(( $(date +%s) - start )) s"
