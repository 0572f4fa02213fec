#!/usr/bin/env bash
# tools/qemu-insn-count/count.sh: dynamic instructions per element of qkern's kernels on aarch64
# (qemu-aarch64 + the insn_count plugin here) next to x86-64 AVX2 (valgrind --tool=callgrind).
# Builds the plugin (host cc), kernel_driver for aarch64 (cross, cmake/toolchains/) and for the
# host, then counts each kernel at two repetition counts and divides the difference by the extra
# elements processed (start-up and data set-up cancel). Prints a markdown table.
#
#   tools/qemu-insn-count/count.sh [build-dir]     (default build/insn-count)
# Environment: N (elements per call, default 16384), KERNELS (space-separated subset).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
b=${1:-$root/build/insn-count}
n=${N:-16384}
r1=1
r2=5
sysroot=/usr/aarch64-linux-gnu
kernels=${KERNELS:-"quantize_div quantize_mul dequantize fake_quantize minmax absmax histogram requantize_gemmlowp requantize_rndnu gemm_s8s8 gemm_u8s8"}
mkdir -p "$b"
cc -O2 -shared -fPIC -fvisibility=hidden -Wall -Wextra -o "$b/libinsn_count.so" "$here/insn_count.c"
if [ ! -x "$b/aarch64/kernel_driver" ]; then
  cmake -S "$here" -B "$b/aarch64" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2 >/dev/null
  cmake --build "$b/aarch64" -j 2 >/dev/null
fi
if [ ! -x "$b/x86/kernel_driver" ]; then
  cmake -S "$here" -B "$b/x86" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2 \
    "-DQKERN_INSN_ARCHS=sse2;fma3_avx2" >/dev/null
  cmake --build "$b/x86" -j 2 >/dev/null
fi

# elements per call (GEMM: multiply-accumulates, M = 4, K = N = 64)
elems() { case $1 in gemm_*) echo $((4 * 64 * 64)) ;; *) echo "$n" ;; esac; }
size() { case $1 in gemm_*) echo 64 ;; *) echo "$n" ;; esac; }

qemu_count() {  # kernel cpu cap reps -> instructions
  local out=$b/qemu.out
  QKERN_MAX_ARCH=$3 qemu-aarch64 -cpu "$2" -L "$sysroot" -plugin "$b/libinsn_count.so,outfile=$out" \
    "$b/aarch64/kernel_driver" "$1" "$(size "$1")" "$4" >"$b/qemu.arch"
  awk '{print $2}' "$out"
}
callgrind_count() {  # kernel reps -> instructions
  QKERN_MAX_ARCH=fma3_avx2 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$b/x86/kernel_driver" "$1" "$(size "$1")" "$2" 2>"$b/cg.err" >"$b/cg.arch"
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$b/cg.err"
}
per() { awk -v a="$1" -v b="$2" -v e="$3" -v r=$((r2 - r1)) 'BEGIN { printf "%.3f", (b - a) / (e * r) }'; }

echo "| kernel | neon64 | neon64_dotprod | neon64_i8mm | x86 AVX2 (fma3_avx2) | neon64 / AVX2 |"
echo "|---|---|---|---|---|---|"
for k in $kernels; do
  e=$(elems "$k")
  row="| $k |"
  base=""
  for lvl in neon64 neon64_dotprod neon64_i8mm; do
    c1=$(qemu_count "$k" max "$lvl" $r1)
    c2=$(qemu_count "$k" max "$lvl" $r2)
    grep -q "arch $lvl " "$b/qemu.arch" || { echo "dispatch did not select $lvl: $(cat "$b/qemu.arch")" >&2; exit 1; }
    v=$(per "$c1" "$c2" "$e")
    [ -n "$base" ] || base=$v
    row="$row $v |"
  done
  x1=$(callgrind_count "$k" $r1)
  x2=$(callgrind_count "$k" $r2)
  xa=$(awk '{print $2}' "$b/cg.arch")
  xv=$(per "$x1" "$x2" "$e")
  ratio=$(awk -v a="$base" -v x="$xv" 'BEGIN { printf "%.2f", a / x }')
  echo "$row $xv ($xa) | $ratio |"
done
