# qkern_add_dispatch(<target> [ARCHS sse2 sse4_2 fma3_avx2 avx512bw])
#
# Runtime dispatch for one binary that runs everywhere: compiles qkern's kernel list once per arch
# (each in its own generated translation unit with that arch's x86-64 psABI level flags) into
# <target>, and defines QKERN_DISPATCH / QKERN_DISPATCH_<ARCH> on it (PUBLIC, so every translation
# unit that includes qkern and links the target agrees on how kernels are found). At run time each
# public function picks the best arch the CPU runs (GCC's __builtin_cpu_supports, which also checks
# OS support); QKERN_MAX_ARCH=<arch> in the environment caps the choice. x86-64 only; the list must
# include sse2 (the baseline). Without this helper, qkern is purely header-only and uses the
# instruction sets the user's own flags enable.
include_guard(GLOBAL)

set_property(GLOBAL PROPERTY QKERN_DISPATCH_TEMPLATE "${CMAKE_CURRENT_LIST_DIR}/qkern_dispatch_arch.cpp.in")

function(qkern_add_dispatch target)
  cmake_parse_arguments(QD "" "" "ARCHS" ${ARGN})
  if(NOT QD_ARCHS)
    set(QD_ARCHS sse2 sse4_2 fma3_avx2 avx512bw)
  endif()
  if(NOT "sse2" IN_LIST QD_ARCHS)
    message(FATAL_ERROR "qkern_add_dispatch(${target}): ARCHS must include sse2, the baseline")
  endif()
  set(_flags_sse2 "-march=x86-64")
  set(_flags_sse4_2 "-march=x86-64-v2")
  set(_flags_fma3_avx2 "-march=x86-64-v3")
  set(_flags_avx512bw "-march=x86-64-v4;-Wno-uninitialized;-Wno-maybe-uninitialized")
  set(_tag_sse2 "::xsimd::sse2")
  set(_tag_sse4_2 "::xsimd::sse4_2")
  set(_tag_fma3_avx2 "::xsimd::fma3<::xsimd::avx2>")
  set(_tag_avx512bw "::xsimd::avx512bw")
  # Unoptimised arch TUs break two ways: xsimd 8.1's AVX-512BW select() does not compile (without
  # __OPTIMIZE__ GCC defines the mask-blend intrinsics as macros whose casts xsimd's batches do not
  # satisfy), and every small helper (xsimd's register conversions for lower arches too) is emitted
  # out of line with this arch's flags, where the linker may pick it for another arch's path. -Og
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
    if(NOT DEFINED _tag_${arch})
      message(FATAL_ERROR "qkern_add_dispatch(${target}): unknown arch '${arch}' (use sse2, sse4_2, fma3_avx2, avx512bw)")
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
