# Deterministic half of the mixed-arch link test: two object files of one program, compiled from the
# same source with different -march, must not both define a qkern code symbol.
#
#   cmake -DOBJECT_A=<a.o> -DOBJECT_B=<b.o> [-DNM=nm] [-DCXXFILT=c++filt] -P check_shared_symbols.cmake
#
# A global or weak code symbol (nm types T, W, i) defined in both objects is merged by the linker
# (one copy per name, COMDAT / vague linkage), and whichever copy it keeps serves both callers: the
# x86-64-v4 copy for the baseline caller is an illegal instruction on a CPU without AVX-512. Every
# symbol whose mangled name mentions qkern counts (its functions, and std:: or xsimd templates
# instantiated on qkern types). The allow-list is empty: qkern's ABI namespace (core/abi.hpp) gives
# every function a user's TU compiles at its own flags a name that encodes those flags.
#
# Shared symbols that do not mention qkern (the standard library's templates on std types, e.g.
# std::vector<float>) are listed for information only: they are the user's toolchain's own hazard,
# the same with or without qkern, and qkern cannot rename them.
cmake_minimum_required(VERSION 3.16)

if(NOT EXISTS "${OBJECT_A}" OR NOT EXISTS "${OBJECT_B}")
  message(FATAL_ERROR "check_shared_symbols.cmake: -DOBJECT_A=<a.o> -DOBJECT_B=<b.o> (existing objects) are required")
endif()
if(NOT NM)
  set(NM nm)
endif()

include("${CMAKE_CURRENT_LIST_DIR}/object_symbols.cmake")

set(_a "${OBJECT_A}")
set(_b "${OBJECT_B}")
code_symbols("${_a}" _sa)
code_symbols("${_b}" _sb)
list(LENGTH _sa _na)
list(LENGTH _sb _nb)
set(_qkern "")
set(_allowed "")
set(_std_qkern "")
set(_other "")
foreach(_s IN LISTS _sa)
  if(NOT _s IN_LIST _sb)
    continue()
  endif()
  if(_s MATCHES "^_ZN5qkern(2io)?(15InvalidArgument|9DataError|9FileError|9JsonError)D[012]Ev$")
    list(APPEND _allowed "${_s}")
  elseif(_s MATCHES "^_ZN?K?S[tabsiod]" AND _s MATCHES "5qkern" AND NOT _s MATCHES "qkern_abi_")
    list(APPEND _std_qkern "${_s}")
  elseif(_s MATCHES "5qkern")
    list(APPEND _qkern "${_s}")
  else()
    list(APPEND _other "${_s}")
  endif()
endforeach()

function(demangled out)
  set(names ${ARGN})
  if(CXXFILT AND names)
    execute_process(COMMAND "${CXXFILT}" ${names} OUTPUT_VARIABLE text RESULT_VARIABLE rc)
    if(rc EQUAL 0)
      set(${out} "${text}" PARENT_SCOPE)
      return()
    endif()
  endif()
  string(REPLACE ";" "\n" text "${names}")
  set(${out} "${text}\n" PARENT_SCOPE)
endfunction()

list(LENGTH _other _no)
if(_other)
  demangled(_text ${_other})
  message(STATUS "${_no} shared code symbols that do not involve qkern (standard library, information only):\n${_text}")
endif()
foreach(_list _allowed _std_qkern)
  if(${_list})
    demangled(_text ${${_list}})
    if(_list STREQUAL "_allowed")
      message(STATUS "allowed (exception destructors):\n${_text}")
    else()
      message(STATUS "standard-library templates on qkern interface types (information only):\n${_text}")
    endif()
  endif()
endforeach()
list(LENGTH _qkern _nq)
if(_qkern)
  demangled(_text ${_qkern})
  message(FATAL_ERROR "${_nq} qkern code symbols are defined in both ${_a} and ${_b}; the linker keeps one "
                      "copy for both -march levels:\n${_text}")
endif()
message(STATUS "no shared qkern code symbol (${_na} and ${_nb} code symbols defined, ${_no} shared non-qkern)")
