# Installation and the exported package (docs/aot.md): `cmake --install` puts the rnnc tool in
# bin/, the runtime library in lib/, the runtime headers in include/rnnc/runtime/ and the package
# files in lib/cmake/rnnc/, so that find_package(rnnc) gives rnnc::rnnc, rnnc::runtime and
# rnnc_add_model. In this build tree the same names are aliases, so rnnc_add_model works in-tree.
# Included from the top-level CMakeLists.txt after the targets exist.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RNNC_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/rnnc")
set(RNNC_INSTALL_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}/rnnc")

add_executable(rnnc::rnnc ALIAS rnnc)
add_library(rnnc::runtime ALIAS rnnc_runtime)
set_target_properties(rnnc_runtime PROPERTIES EXPORT_NAME runtime)
target_include_directories(rnnc_runtime INTERFACE
                           $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                           $<INSTALL_INTERFACE:${RNNC_INSTALL_INCLUDEDIR}>)
# A sanitizer build's runtime library is instrumented: whatever links it needs the sanitizers'
# runtimes too, so the exported target says so (without it examples/aot fails to link).
if(RNNC_SANITIZE)
  target_link_options(rnnc_runtime INTERFACE -fsanitize=address,undefined)
endif()
# The installed rnnc finds libLLVM where it was found at build time.
set_target_properties(rnnc PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)

install(TARGETS rnnc rnnc_runtime EXPORT rnncTargets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/ DESTINATION ${RNNC_INSTALL_INCLUDEDIR}/runtime
        FILES_MATCHING PATTERN "*.h")
install(EXPORT rnncTargets NAMESPACE rnnc:: DESTINATION ${RNNC_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/rnncConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/rnncConfig.cmake
                              INSTALL_DESTINATION ${RNNC_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rnncConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rnncConfig.cmake ${PROJECT_BINARY_DIR}/rnncConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/rnncAddModel.cmake
        DESTINATION ${RNNC_INSTALL_CMAKEDIR})

include(${CMAKE_CURRENT_LIST_DIR}/rnncAddModel.cmake)
