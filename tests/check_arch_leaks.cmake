# Arch-leak (ODR) check for runtime dispatch, run by CTest (test qkern_arch_leaks):
#
#   cmake -DOBJECT_DIR=<CMakeFiles/qkern_tests.dir> [-DNM=nm] -P check_arch_leaks.cmake
#
# qkern_add_dispatch() compiles the kernels once per arch, each translation unit with its own -march.
# Any global or weak *code* symbol such a TU defines is a candidate for the linker's one-copy-per-name
# merging (COMDAT / vague linkage): if two arch TUs (or an arch TU and the user's baseline code) both
# emit `inline float f(float)`, one copy, compiled for one arch, serves every caller, and the baseline
# path can end up executing AVX-512 instructions. The only symbols an arch TU may define are therefore
# ones whose demangled name carries that TU's own arch tag (the kernels' ArchKernel<K, Arch>::run and
# everything templated on Arch below them). Plain inline helpers, std:: instantiations, and xsimd
# internals for a *different* arch (e.g. simd_register<float, xsimd::sse2> in the sse4_2 TU) all fail.
#
# Also allowed: symbols in qkern's ABI namespace (core/abi.hpp: qkern::qkern_abi_<digits>::..., e.g.
# the scalar reference or error helpers a kernel calls), whose name encodes the flags the TU was
# compiled with. Each object must use exactly one ABI namespace and no two arch objects the same one,
# so such a symbol can only ever be shared with code compiled for the same instruction sets.
#
# One exception, aarch64 only: xsimd 8.1's neon kernels take the addresses of its own non-template
# inline wrappers (xsimd::kernel::wrap::vaddq_s32 and so on, one NEON intrinsic each), so every
# neon TU emits them. They are accepted only when their machine code (OBJDUMP -d) is identical in
# every per-arch object, i.e. whichever copy the linker keeps is the same baseline code.
cmake_minimum_required(VERSION 3.16)

if(NOT OBJECT_DIR)
  message(FATAL_ERROR "check_arch_leaks.cmake: -DOBJECT_DIR=... is required")
endif()
if(NOT NM)
  set(NM nm)
endif()

set(_tag_sse2 "xsimd::sse2")
set(_tag_sse4_2 "xsimd::sse4_2")
set(_tag_fma3_avx2 "xsimd::fma3<xsimd::avx2>")
set(_tag_avx512bw "xsimd::avx512bw")
set(_tag_neon64 "xsimd::neon64")
set(_tag_neon64_dotprod "qkern::simd::neon64_dotprod")
set(_tag_neon64_i8mm "qkern::simd::neon64_i8mm")

file(GLOB_RECURSE _objects "${OBJECT_DIR}/*qkern_kernels_*.o" "${OBJECT_DIR}/*qkern_kernels_*.obj")
if(NOT _objects)
  message(FATAL_ERROR "no per-arch dispatch objects (qkern_kernels_<arch>.o) under ${OBJECT_DIR}: build qkern_tests first")
endif()

set(_leaks "")
set(_checked "")
set(_abi_seen "")
foreach(_obj IN LISTS _objects)
  get_filename_component(_name "${_obj}" NAME)
  if(NOT _name MATCHES "^qkern_kernels_([a-z0-9_]+)\\.cpp\\.o(bj)?$")
    continue()
  endif()
  set(_arch "${CMAKE_MATCH_1}")
  if(NOT DEFINED _tag_${_arch})
    message(FATAL_ERROR "${_obj}: unknown arch '${_arch}'")
  endif()
  set(_tag "${_tag_${_arch}}")
  execute_process(COMMAND "${NM}" -C --defined-only "${_obj}" RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${_obj}: ${_err}")
  endif()
  # One line per symbol: "<address> <type> <demangled name>". Keep global/weak code: T (global text),
  # W (weak, e.g. inline functions and template instantiations), i (ifunc). Data (V, u, B, D, R) is
  # layout, not instructions, and local symbols (t, r, ...) are never shared.
  string(REPLACE ";" "\\;" _out "${_out}")
  string(REPLACE "\n" ";" _lines "${_out}")
  set(_own 0)
  set(_has_wrap 0)
  set(_abi_ns "")
  foreach(_line IN LISTS _lines)
    if(NOT _line MATCHES "^[0-9a-fA-F]* *([TWi]) (.*)$")
      continue()
    endif()
    set(_sym "${CMAKE_MATCH_2}")
    # clang's own helper for noexcept regions (two calls: __cxa_begin_catch, std::terminate): no
    # arch-specific instruction, identical in every TU.
    if(_sym STREQUAL "__clang_call_terminate")
      continue()
    endif()
    string(FIND "${_sym}" "${_tag}" _pos)
    set(_in_abi 0)
    if(_pos EQUAL -1 AND _sym MATCHES "qkern::(qkern_abi_[a-z0-9_]+)::")
      set(_ns "${CMAKE_MATCH_1}")
      if(NOT _abi_ns)
        set(_abi_ns "${_ns}")
      endif()
      if(_ns STREQUAL _abi_ns)
        set(_in_abi 1)
      else()
        string(APPEND _leaks "  ${_arch}: ${_sym} (a second ABI namespace ${_ns} besides ${_abi_ns})\n")
        set(_in_abi 2)
      endif()
    endif()
    if(_in_abi EQUAL 1)
      math(EXPR _own "${_own} + 1")
    elseif(_in_abi EQUAL 2)
    elseif(_pos EQUAL -1 AND _arch MATCHES "^neon64" AND _sym MATCHES "^xsimd::kernel::wrap::")
      set(_has_wrap 1)
    elseif(_pos EQUAL -1)
      string(APPEND _leaks "  ${_arch}: ${_sym}\n")
    else()
      math(EXPR _own "${_own} + 1")
    endif()
  endforeach()
  if(_own EQUAL 0)
    message(FATAL_ERROR "${_obj}: no code symbol tagged ${_tag} at all (is this a qkern dispatch TU?)")
  endif()
  if(_abi_ns)
    list(FIND _abi_seen "${_abi_ns}" _dup)
    if(NOT _dup EQUAL -1)
      string(APPEND _leaks "  ${_arch}: ABI namespace ${_abi_ns} is also another arch object's\n")
    endif()
    list(APPEND _abi_seen "${_abi_ns}")
  endif()
  list(APPEND _checked "${_arch} (${_own} symbols)")
  if(_has_wrap)
    if(NOT OBJDUMP)
      message(FATAL_ERROR "${_obj}: xsimd::kernel::wrap:: symbols need -DOBJDUMP=... to compare their code")
    endif()
    execute_process(COMMAND "${OBJDUMP}" -d --no-show-raw-insn -C "${_obj}" RESULT_VARIABLE _rc OUTPUT_VARIABLE _dis)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "${OBJDUMP} failed on ${_obj}")
    endif()
    # The wrappers' bodies (instructions without addresses), keyed by name, in name order.
    string(REPLACE ";" "\\;" _dis "${_dis}")
    string(REPLACE "\n" ";" _dlines "${_dis}")
    set(_cur "")
    set(_names "")
    foreach(_l IN LISTS _dlines)
      if(_l MATCHES "^[0-9a-f]+ <(.*)>:$")
        set(_cur "")
        set(_fn "${CMAKE_MATCH_1}")
        if(_fn MATCHES "^xsimd::kernel::wrap::")
          string(MD5 _cur "${_fn}")
          list(APPEND _names "${_fn}")
          set(_body_${_cur} "")
        endif()
      elseif(_cur AND _l MATCHES "^ *[0-9a-f]+:[ \t]+([^/]*)")
        string(STRIP "${CMAKE_MATCH_1}" _ins)
        string(APPEND _body_${_cur} "${_ins}|")
      endif()
    endforeach()
    list(SORT _names)
    set(_code "")
    foreach(_n IN LISTS _names)
      string(MD5 _k "${_n}")
      string(APPEND _code "${_n}=${_body_${_k}}\n")
    endforeach()
    if(DEFINED _wrap_code AND NOT _wrap_code STREQUAL _code)
      message(FATAL_ERROR "xsimd::kernel::wrap:: code differs between ${_wrap_first} and ${_arch}: "
                          "the linker's choice of copy would matter")
    endif()
    if(NOT DEFINED _wrap_code)
      set(_wrap_code "${_code}")
      set(_wrap_first "${_arch}")
    endif()
    list(LENGTH _names _nw)
    list(APPEND _checked "${_arch}: ${_nw} xsimd wrap:: symbols, code identical")
  endif()
endforeach()

if(_leaks)
  message(FATAL_ERROR "Code symbols in per-arch dispatch TUs without that arch's tag (the linker may "
                      "give another arch's callers this arch's copy):\n${_leaks}"
                      "Fix: make the helper a template on the arch A (or static), as simd/convert.hpp does.")
endif()
string(REPLACE ";" ", " _checked "${_checked}")
message(STATUS "no arch leaks in: ${_checked}")
