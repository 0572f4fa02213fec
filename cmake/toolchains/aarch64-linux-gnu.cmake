# CMake toolchain file for aarch64 (ARM64) Linux cross builds with Debian/Ubuntu's GNU cross
# compiler (g++-aarch64-linux-gnu) or clang, and qemu-user to run what was built:
#
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
#
# Options (cache variables; the shared body is linux-gnu-cross.cmake):
#   QKERN_CROSS_COMPILER  gcc (default) or clang (clang++ --target=aarch64-linux-gnu)
#   QKERN_CROSS_SYSROOT   the target's root for headers, libraries and packages
#                         (default /usr/aarch64-linux-gnu, where Debian's cross packages install)
#   QKERN_CROSS_EXTRA_ROOTS  more roots searched for target packages, e.g. the install prefix of a
#                         cross-built GoogleTest (.ci/aarch64.sh builds one from /usr/src/googletest)
# CMAKE_CROSSCOMPILING_EMULATOR is qemu-aarch64 -L <sysroot> when qemu-aarch64 is installed, so
# `ctest` runs the test binary under emulation. xsimd is header-only and architecture-independent:
# when the target root has no xsimd package, qkern uses the build host's xsimd headers (see
# cmake/qkernDependencies.cmake; never the host's whole /usr/include).
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(QKERN_CROSS_TRIPLE aarch64-linux-gnu)
include("${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake")
