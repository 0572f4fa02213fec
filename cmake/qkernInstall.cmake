# Install and export rules: headers, the qkern::qkern target, an architecture-independent package
# (header-only) under share/cmake/qkern, the dispatch helper, and a pkg-config file.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(QKERN_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/cmake/qkern" CACHE STRING "Where qkernConfig.cmake is installed")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/qkern" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS qkern EXPORT qkernTargets)
install(EXPORT qkernTargets NAMESPACE qkern:: DESTINATION "${QKERN_CMAKE_INSTALL_DIR}")
export(EXPORT qkernTargets NAMESPACE qkern:: FILE "${PROJECT_BINARY_DIR}/qkernTargets.cmake")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/qkernConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/qkernConfig.cmake" INSTALL_DESTINATION "${QKERN_CMAKE_INSTALL_DIR}")
if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.14)
  write_basic_package_version_file("${PROJECT_BINARY_DIR}/qkernConfigVersion.cmake"
    COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
else()
  write_basic_package_version_file("${PROJECT_BINARY_DIR}/qkernConfigVersion.cmake"
    COMPATIBILITY SameMajorVersion)
endif()
install(FILES "${PROJECT_BINARY_DIR}/qkernConfig.cmake" "${PROJECT_BINARY_DIR}/qkernConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/qkernDispatch.cmake" "${PROJECT_SOURCE_DIR}/cmake/qkern_dispatch_arch.cpp.in"
        DESTINATION "${QKERN_CMAKE_INSTALL_DIR}")

# pkg-config paths relative to the .pc file (${pcfiledir}), not CMAKE_INSTALL_PREFIX, which
# `cmake --install --prefix` overrides after configuration.
file(RELATIVE_PATH QKERN_PC_RELATIVE_PREFIX "/qkern_prefix/${CMAKE_INSTALL_DATADIR}/pkgconfig" "/qkern_prefix")
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(QKERN_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(QKERN_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/qkern.pc.in" "${PROJECT_BINARY_DIR}/qkern.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/qkern.pc" DESTINATION "${CMAKE_INSTALL_DATADIR}/pkgconfig")
