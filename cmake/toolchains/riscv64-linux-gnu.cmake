# CMake toolchain file for riscv64 Linux cross builds with Debian/Ubuntu's GNU cross compiler
# (g++-riscv64-linux-gnu) or clang, and qemu-user to run what was built:
#
#   cmake -S . -B build/riscv64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/riscv64-linux-gnu.cmake
#
# riscv64 stands for every processor without x86 or aarch64 SIMD (ppc64le, s390x, 32-bit ARM, ...):
# qkern has no vector kernels there and every public function runs its scalar reference
# (simd/isa.hpp QKERN_SIMD_NONE, kernels/scalar.hpp); qkern_add_dispatch adds nothing.
# Options (cache variables; the shared body is linux-gnu-cross.cmake):
#   QKERN_CROSS_COMPILER  gcc (default) or clang (clang++ --target=riscv64-linux-gnu)
#   QKERN_CROSS_SYSROOT   the target's root (default /usr/riscv64-linux-gnu, Debian's cross packages)
#   QKERN_CROSS_EXTRA_ROOTS  more roots searched for target packages (e.g. a cross-built GoogleTest)
# CMAKE_CROSSCOMPILING_EMULATOR is qemu-riscv64 -L <sysroot> when qemu-riscv64 is installed. xsimd:
# the host's headers, staged alone (cmake/qkernDependencies.cmake), as for aarch64.
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(QKERN_CROSS_TRIPLE riscv64-linux-gnu)
include("${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake")
