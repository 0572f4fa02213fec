# qkern_add_dispatch(<target> [ARCHS <arch>...])
#
# Runtime dispatch for one binary that runs everywhere: compiles qkern's kernel list once per arch
# (each in its own generated translation unit with that arch's flags) into <target>, and defines
# QKERN_DISPATCH / QKERN_DISPATCH_<ARCH> on it (PUBLIC, so every translation unit that includes
# qkern and links the target agrees on how kernels are found). At run time each public function
# picks the best arch the CPU runs; QKERN_MAX_ARCH=<arch> in the environment caps the choice.
# Without this helper, qkern is purely header-only and uses the instruction sets the user's own
# flags enable.
#
# The arches depend on the target processor (CMAKE_SYSTEM_PROCESSOR, so cross builds work):
# * x86-64: sse2 (baseline, required), sse4_2, fma3_avx2, avx512bw -- x86-64 psABI levels v1-v4,
#   checked with GCC's __builtin_cpu_supports (which also checks OS support).
# * aarch64: neon64 (baseline, required), neon64_dotprod (-march=armv8.2-a+dotprod), neon64_i8mm
#   (-march=armv8.2-a+dotprod+i8mm), checked from the Linux HWCAP words (elsewhere, e.g. macOS,
#   only the baseline is selected).
# * anything else: no dispatch (a status message); every kernel runs its scalar reference.
# Without ARCHS, every arch of the target processor.
include_guard(GLOBAL)

# The dispatch family of the target processor: x86_64, aarch64, or none.
function(qkern_dispatch_family out)
  string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _p)
  if(_p MATCHES "^(x86_64|amd64|x64)$")
    set(${out} x86_64 PARENT_SCOPE)
  elseif(_p MATCHES "^(aarch64|arm64)$")
    set(${out} aarch64 PARENT_SCOPE)
  else()
    set(${out} none PARENT_SCOPE)
  endif()
endfunction()

set_property(GLOBAL PROPERTY QKERN_DISPATCH_TEMPLATE "${CMAKE_CURRENT_LIST_DIR}/qkern_dispatch_arch.cpp.in")

function(qkern_add_dispatch target)
  cmake_parse_arguments(QD "" "" "ARCHS" ${ARGN})
  qkern_dispatch_family(_family)
  if(_family STREQUAL "x86_64")
    set(_all sse2 sse4_2 fma3_avx2 avx512bw)
    set(_baseline sse2)
  elseif(_family STREQUAL "aarch64")
    set(_all neon64 neon64_dotprod neon64_i8mm)
    set(_baseline neon64)
  else()
    message(STATUS "qkern_add_dispatch(${target}): no SIMD kernels for processor '${CMAKE_SYSTEM_PROCESSOR}'; "
                   "qkern runs its scalar reference there")
    return()
  endif()
  if(NOT QD_ARCHS)
    set(QD_ARCHS ${_all})
  endif()
  if(NOT "${_baseline}" IN_LIST QD_ARCHS)
    message(FATAL_ERROR "qkern_add_dispatch(${target}): ARCHS must include ${_baseline}, the baseline")
  endif()
  set(_flags_sse2 "-march=x86-64")
  set(_flags_sse4_2 "-march=x86-64-v2")
  set(_flags_fma3_avx2 "-march=x86-64-v3")
  set(_flags_avx512bw "-march=x86-64-v4;-Wno-uninitialized;-Wno-maybe-uninitialized")
  set(_tag_sse2 "::xsimd::sse2")
  set(_tag_sse4_2 "::xsimd::sse4_2")
  set(_tag_fma3_avx2 "::xsimd::fma3<::xsimd::avx2>")
  set(_tag_avx512bw "::xsimd::avx512bw")
  set(_flags_neon64 "-march=armv8-a")
  set(_flags_neon64_dotprod "-march=armv8.2-a+dotprod")
  set(_flags_neon64_i8mm "-march=armv8.2-a+dotprod+i8mm")
  set(_tag_neon64 "::xsimd::neon64")
  set(_tag_neon64_dotprod "::qkern::simd::neon64_dotprod")
  set(_tag_neon64_i8mm "::qkern::simd::neon64_i8mm")
  # Unoptimised, every small helper of an arch TU (xsimd's register conversions for lower arches too,
  # the implicit constructors of the kernel-signature aggregates) is emitted out of line with this
  # arch's flags, where the linker may pick it for another arch's path (docs/abi.md, -O0). -Og
  # inlines them and keeps the code debuggable; configurations that already optimise keep theirs.
  set(_opt "")
  if(NOT CMAKE_CXX_FLAGS_DEBUG MATCHES "(^| )-O([1-3gsz]|fast)")
    list(APPEND _opt "$<$<CONFIG:Debug>:-Og>")
  endif()
  if(NOT CMAKE_CXX_FLAGS MATCHES "(^| )-O([1-3gsz]|fast)")
    list(APPEND _opt "$<$<STREQUAL:$<CONFIG>,>:-Og>")
  endif()
  set(_gen_dir "${CMAKE_CURRENT_BINARY_DIR}/qkern_dispatch/${target}")
  foreach(arch IN LISTS QD_ARCHS)
    if(NOT "${arch}" IN_LIST _all)
      string(REPLACE ";" ", " _names "${_all}")
      message(FATAL_ERROR "qkern_add_dispatch(${target}): unknown arch '${arch}' for ${_family} (use ${_names})")
    endif()
    set(QKERN_DISPATCH_ARCH_TAG "${_tag_${arch}}")
    set(QKERN_DISPATCH_ARCH_NAME "${arch}")
    set(_src "${_gen_dir}/qkern_kernels_${arch}.cpp")
    get_property(_template GLOBAL PROPERTY QKERN_DISPATCH_TEMPLATE)
    configure_file("${_template}" "${_src}" @ONLY)
    # Appended after the target's own flags, so a global -march cannot leak into another arch;
    # no fast-math or contraction, so every arch computes exactly what the reference defines.
    set(_options ${_opt} ${_flags_${arch}} -fno-fast-math -ffp-contract=off)
    set_source_files_properties("${_src}" PROPERTIES COMPILE_OPTIONS "${_options}")
    target_sources(${target} PRIVATE "${_src}")
    string(TOUPPER "${arch}" _upper)
    target_compile_definitions(${target} PUBLIC "QKERN_DISPATCH_${_upper}=1")
  endforeach()
  target_compile_definitions(${target} PUBLIC QKERN_DISPATCH=1)
endfunction()
