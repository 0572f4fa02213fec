# CMake toolchain file for aarch64 (ARM64) Linux cross builds with Debian/Ubuntu's GNU cross
# compiler (g++-aarch64-linux-gnu) or clang, and qemu-user to run what was built:
#
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
#
# Options (cache variables):
#   QKERN_CROSS_COMPILER  gcc (default) or clang (clang++ --target=aarch64-linux-gnu)
#   QKERN_CROSS_SYSROOT   the target's root for headers, libraries and packages
#                         (default /usr/aarch64-linux-gnu, where Debian's cross packages install)
#   QKERN_CROSS_EXTRA_ROOTS  more roots searched for target packages, e.g. the install prefix of a
#                         cross-built GoogleTest (.ci/aarch64.sh builds one from /usr/src/googletest)
# CMAKE_CROSSCOMPILING_EMULATOR is qemu-aarch64 -L <sysroot> when qemu-aarch64 is installed, so
# `ctest` runs the test binary under emulation. xsimd is header-only and architecture-independent:
# when the target root has no xsimd package, qkern uses the build host's xsimd headers (see
# cmake/qkernDependencies.cmake; never the host's whole /usr/include).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(QKERN_CROSS_TRIPLE aarch64-linux-gnu)
set(QKERN_CROSS_COMPILER "gcc" CACHE STRING "Cross compiler family: gcc or clang")
set(QKERN_CROSS_SYSROOT "/usr/${QKERN_CROSS_TRIPLE}" CACHE PATH "Target root (headers, libraries, packages)")
set(QKERN_CROSS_EXTRA_ROOTS "" CACHE STRING "Further target roots for find_package (e.g. a cross-built GoogleTest)")

if(QKERN_CROSS_COMPILER STREQUAL "clang")
  set(CMAKE_C_COMPILER clang)
  set(CMAKE_CXX_COMPILER clang++)
  set(CMAKE_C_COMPILER_TARGET ${QKERN_CROSS_TRIPLE})
  set(CMAKE_CXX_COMPILER_TARGET ${QKERN_CROSS_TRIPLE})
  # Note: clang's search list for this target (Debian) ends in the host's /usr/local/include and
  # /usr/include, after the target's own directories; qkern needs nothing from there.
else()
  set(CMAKE_C_COMPILER ${QKERN_CROSS_TRIPLE}-gcc)
  set(CMAKE_CXX_COMPILER ${QKERN_CROSS_TRIPLE}-g++)
endif()

set(CMAKE_FIND_ROOT_PATH ${QKERN_CROSS_SYSROOT} ${QKERN_CROSS_EXTRA_ROOTS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(QKERN_QEMU_AARCH64 qemu-aarch64)
if(QKERN_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${QKERN_QEMU_AARCH64};-L;${QKERN_CROSS_SYSROOT}")
endif()
