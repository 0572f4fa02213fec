# Builds the x86-64-v4 object the "v4 first" program of the mixed-arch test links: a copy of OBJECT in
# which every code symbol that OTHER also defines and that does not involve qkern (the standard
# library's templates: std::vector<unsigned long>::_M_fill_assign, std::to_string, ...) is renamed,
# so the linker cannot give the baseline object the v4 copy of those.
#
#   cmake -DOBJECT=<v4.o> -DOTHER=<base.o> -DOUTPUT=<out.o> [-DNM=nm] [-DOBJCOPY=objcopy] [-DREADELF=readelf]
#         -P isolate_std_symbols.cmake
#
# The COMDAT group signatures are renamed too (GCC groups a constructor's C1/C2 copies under a C5
# signature that is not itself a defined symbol): a group kept from this object under the old
# signature would make the linker discard the other object's copies.
#
# Why: those instantiations are shared between any two TUs of a program that use the same std::
# templates, with or without qkern, and qkern cannot rename them (docs/abi.md: link the baseline
# objects first, as the "base first" program does unmodified). Renaming them here lets the
# "v4 first" program's valgrind run test what qkern does promise: none of *qkern's* symbols (left
# untouched here) reaches the baseline caller compiled for AVX-512.
cmake_minimum_required(VERSION 3.16)
foreach(_v OBJECT OTHER OUTPUT)
  if(NOT ${_v})
    message(FATAL_ERROR "isolate_std_symbols.cmake: -D${_v}=... is required")
  endif()
endforeach()
if(NOT NM)
  set(NM nm)
endif()
if(NOT OBJCOPY)
  set(OBJCOPY objcopy)
endif()
if(NOT READELF)
  set(READELF readelf)
endif()

include("${CMAKE_CURRENT_LIST_DIR}/object_symbols.cmake")

# Code symbols plus COMDAT group signatures (readelf -g: "COMDAT group section [...] `.group' [<sig>] ...").
function(group_signatures obj out)
  execute_process(COMMAND "${READELF}" -gW "${obj}" RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${READELF} failed on ${obj}: ${err}")
  endif()
  string(REGEX MATCHALL "\\[_Z[^]\n]*\\]" sigs "${text}")
  set(names "")
  foreach(g IN LISTS sigs)
    string(REGEX REPLACE "^\\[(.*)\\]$" "\\1" g "${g}")
    list(APPEND names "${g}")
  endforeach()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

code_symbols("${OBJECT}" _mine)
code_symbols("${OTHER}" _theirs)
group_signatures("${OBJECT}" _mine_groups)
group_signatures("${OTHER}" _their_groups)
list(APPEND _mine ${_mine_groups})
list(APPEND _theirs ${_their_groups})
list(REMOVE_DUPLICATES _mine)
set(_map "")
set(_n 0)
foreach(_s IN LISTS _mine)
  if(_s IN_LIST _theirs AND NOT _s MATCHES "5qkern")
    string(APPEND _map "${_s} ${_s}_qkern_mixedarch_v4\n")
    math(EXPR _n "${_n} + 1")
  endif()
endforeach()
file(WRITE "${OUTPUT}.syms" "${_map}")
execute_process(COMMAND "${OBJCOPY}" "--redefine-syms=${OUTPUT}.syms" "${OBJECT}" "${OUTPUT}" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJCOPY} failed on ${OBJECT}: ${err}")
endif()
message(STATUS "${OUTPUT}: ${_n} shared non-qkern code symbols renamed")
