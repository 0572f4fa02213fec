# Dependency resolution: find_package first; when a package is absent, FetchContent at a pinned
# release (so a user with internet access needs nothing else).
include_guard(GLOBAL)
include(FetchContent)

set(QKERN_XSIMD_FETCH_TAG "13.2.0" CACHE STRING "xsimd release fetched when no xsimd package is found")
set(QKERN_XSIMD_FETCH_URL "https://github.com/xtensor-stack/xsimd.git" CACHE STRING "Where xsimd is fetched from")
set(QKERN_GTEST_FETCH_TAG "v1.14.0" CACHE STRING "GoogleTest release fetched when none is found")
set(QKERN_BENCHMARK_FETCH_TAG "v1.8.3" CACHE STRING "Google Benchmark release fetched when none is found")

# A missing dependency must not end in a failed git clone: when its repository cannot be reached (no
# network, no git), configuration stops here naming the Debian package to install. Skipped when the
# source is given locally (FETCHCONTENT_SOURCE_DIR_<NAME>) or FetchContent is told to stay offline.
function(qkern_require_fetchable name url package)
  string(TOUPPER "${name}" _upper)
  if(FETCHCONTENT_SOURCE_DIR_${_upper} OR FETCHCONTENT_FULLY_DISCONNECTED)
    return()
  endif()
  set(_reachable FALSE)
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND "${GIT_EXECUTABLE}" ls-remote --exit-code "${url}" HEAD RESULT_VARIABLE _result
                    OUTPUT_QUIET ERROR_QUIET TIMEOUT 30)
    if(_result EQUAL 0)
      set(_reachable TRUE)
    endif()
  endif()
  if(NOT _reachable)
    message(FATAL_ERROR "qkern: ${name} was not found, and ${url} cannot be reached to download it (no network "
                        "or no git). Install it: apt-get install ${package} (Debian/Ubuntu), or set "
                        "FETCHCONTENT_SOURCE_DIR_${_upper} to a local copy of its source.")
  endif()
endfunction()

# Debian bookworm's xsimd 8.1 package links its target to an `xtl` it neither installs nor looks
# for; xsimd only needs xtl for XSIMD_ENABLE_XTL_COMPLEX, which qkern never defines.
macro(qkern_repair_xsimd_target)
  if(TARGET xsimd AND NOT TARGET xtl)
    get_target_property(_qkern_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
    if(_qkern_xsimd_links MATCHES "xtl")
      add_library(xtl INTERFACE IMPORTED GLOBAL)  # GLOBAL: resolved wherever xsimd is linked
    endif()
  endif()
endmacro()

set(QKERN_HOST_XSIMD_INCLUDE_DIR "/usr/include" CACHE PATH
    "Cross builds without an xsimd package for the target: directory holding the host's xsimd/ headers")

macro(qkern_find_xsimd)
  if(NOT TARGET xsimd)
    # No version in the call: xsimd's own SameMajorVersion file would reject every newer major.
    find_package(xsimd QUIET)
    if(xsimd_FOUND)
      if(xsimd_VERSION VERSION_LESS 8.1)
        message(FATAL_ERROR "qkern needs xsimd >= 8.1, found ${xsimd_VERSION}")
      endif()
      # Found from qkern's own directory (add_subdirectory / FetchContent), the imported target is
      # visible only here; the consumer's targets that link qkern::qkern must resolve it too.
      get_target_property(_qkern_xsimd_global xsimd IMPORTED_GLOBAL)
      if(NOT _qkern_xsimd_global)
        set_target_properties(xsimd PROPERTIES IMPORTED_GLOBAL TRUE)
      endif()
    elseif(CMAKE_CROSSCOMPILING AND EXISTS "${QKERN_HOST_XSIMD_INCLUDE_DIR}/xsimd/xsimd.hpp")
      # Cross build, no xsimd in the target root: xsimd is header-only and architecture-independent,
      # so use the build host's headers, staged alone (adding the host's /usr/include as a whole
      # would put every host header, e.g. <immintrin.h>'s neighbours, before the target's).
      set(_qkern_stage "${CMAKE_BINARY_DIR}/qkern_host_xsimd/include")
      if(NOT EXISTS "${_qkern_stage}/xsimd")
        file(MAKE_DIRECTORY "${_qkern_stage}")
        file(CREATE_LINK "${QKERN_HOST_XSIMD_INCLUDE_DIR}/xsimd" "${_qkern_stage}/xsimd" SYMBOLIC)
      endif()
      file(STRINGS "${QKERN_HOST_XSIMD_INCLUDE_DIR}/xsimd/config/xsimd_config.hpp" _qkern_xv
           REGEX "#define XSIMD_VERSION_(MAJOR|MINOR) ")
      message(STATUS "qkern: cross build, using the host's xsimd headers from ${QKERN_HOST_XSIMD_INCLUDE_DIR} (${_qkern_xv})")
      add_library(xsimd INTERFACE IMPORTED GLOBAL)
      set_target_properties(xsimd PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_qkern_stage}")
    else()
      message(STATUS "qkern: xsimd not found, fetching ${QKERN_XSIMD_FETCH_TAG}")
      qkern_require_fetchable(xsimd "${QKERN_XSIMD_FETCH_URL}" libxsimd-dev)
      FetchContent_Declare(xsimd GIT_REPOSITORY "${QKERN_XSIMD_FETCH_URL}"
                                 GIT_TAG ${QKERN_XSIMD_FETCH_TAG} GIT_SHALLOW TRUE)
      FetchContent_MakeAvailable(xsimd)
    endif()
  endif()
  qkern_repair_xsimd_target()
endmacro()

macro(qkern_find_gtest)
  if(NOT TARGET GTest::gtest_main)
    find_package(GTest QUIET)
    if(NOT GTest_FOUND)
      message(STATUS "qkern: GoogleTest not found, fetching ${QKERN_GTEST_FETCH_TAG}")
      qkern_require_fetchable(googletest https://github.com/google/googletest.git "googletest libgtest-dev")
      set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
      FetchContent_Declare(googletest GIT_REPOSITORY https://github.com/google/googletest.git
                                      GIT_TAG ${QKERN_GTEST_FETCH_TAG} GIT_SHALLOW TRUE)
      FetchContent_MakeAvailable(googletest)
    endif()
  endif()
endmacro()

macro(qkern_find_benchmark)
  if(NOT TARGET benchmark::benchmark)
    find_package(benchmark QUIET)
    if(NOT benchmark_FOUND)
      message(STATUS "qkern: Google Benchmark not found, fetching ${QKERN_BENCHMARK_FETCH_TAG}")
      qkern_require_fetchable(benchmark https://github.com/google/benchmark.git libbenchmark-dev)
      set(BENCHMARK_ENABLE_TESTING OFF CACHE BOOL "" FORCE)
      set(BENCHMARK_ENABLE_INSTALL OFF CACHE BOOL "" FORCE)
      FetchContent_Declare(benchmark GIT_REPOSITORY https://github.com/google/benchmark.git
                                     GIT_TAG ${QKERN_BENCHMARK_FETCH_TAG} GIT_SHALLOW TRUE)
      FetchContent_MakeAvailable(benchmark)
    endif()
  endif()
endmacro()
