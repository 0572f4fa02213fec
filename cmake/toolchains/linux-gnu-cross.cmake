# The shared body of qkern's Linux cross toolchain files (aarch64-linux-gnu.cmake,
# riscv64-linux-gnu.cmake), which set CMAKE_SYSTEM_PROCESSOR and QKERN_CROSS_TRIPLE, then include
# this. Options (cache variables): QKERN_CROSS_COMPILER (gcc or clang), QKERN_CROSS_SYSROOT (default
# /usr/<triple>, where Debian's cross packages install), QKERN_CROSS_EXTRA_ROOTS. The emulator is
# qemu-<processor> -L <sysroot> when installed, so `ctest` runs the test binaries under emulation.
set(CMAKE_SYSTEM_NAME Linux)

set(QKERN_CROSS_COMPILER "gcc" CACHE STRING "Cross compiler family: gcc or clang")
set(QKERN_CROSS_SYSROOT "/usr/${QKERN_CROSS_TRIPLE}" CACHE PATH "Target root (headers, libraries, packages)")
set(QKERN_CROSS_EXTRA_ROOTS "" CACHE STRING "Further target roots for find_package (e.g. a cross-built GoogleTest)")

if(QKERN_CROSS_COMPILER STREQUAL "clang")
  set(CMAKE_C_COMPILER clang)
  set(CMAKE_CXX_COMPILER clang++)
  set(CMAKE_C_COMPILER_TARGET ${QKERN_CROSS_TRIPLE})
  set(CMAKE_CXX_COMPILER_TARGET ${QKERN_CROSS_TRIPLE})
  # Note: clang's search list for these targets (Debian) ends in the host's /usr/local/include and
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

string(TOUPPER "QKERN_QEMU_${CMAKE_SYSTEM_PROCESSOR}" _qkern_qemu_var)
find_program(${_qkern_qemu_var} qemu-${CMAKE_SYSTEM_PROCESSOR})
if(${_qkern_qemu_var})
  set(CMAKE_CROSSCOMPILING_EMULATOR "${${_qkern_qemu_var}};-L;${QKERN_CROSS_SYSROOT}")
endif()
