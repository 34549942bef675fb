# SPDX-License-Identifier: BSD-3-Clause
#
# pmemkit_add_library(<target>
#	OUTPUT_NAME <name>          # file name without the lib prefix, e.g. miniasync
#	SOVERSION <n>
#	VERSION_SCRIPT <file>       # the only symbols exported are the ones this script names
#	SOURCES <files...>
#	[LINK <targets...>])        # private dependencies
#
# Builds a shared library whose internal symbols are hidden, with the shared internals of
# src/common linked in, and installs it.
function(pmemkit_add_library target)
	cmake_parse_arguments(A "" "OUTPUT_NAME;SOVERSION;VERSION_SCRIPT" "SOURCES;LINK" ${ARGN})
	add_library(${target} SHARED ${A_SOURCES})
	set_target_properties(${target} PROPERTIES
		OUTPUT_NAME ${A_OUTPUT_NAME}
		SOVERSION ${A_SOVERSION}
		LINK_DEPENDS ${A_VERSION_SCRIPT})
	target_include_directories(${target}
		PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
		       $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
		PRIVATE ${PROJECT_SOURCE_DIR}/src)
	target_link_libraries(${target} PRIVATE pmemkit_common Threads::Threads ${A_LINK})
	target_link_options(${target} PRIVATE
		-Wl,--version-script=${A_VERSION_SCRIPT} -Wl,--no-undefined)
	install(TARGETS ${target}
		LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
		ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()

# pmemkit_install_package(<name> <version>)
# Installs <name>.pc from pkgconfig.pc.in and <name>-config[-version].cmake from
# config.cmake.in, both found in the calling directory. In pkgconfig.pc.in,
# @CMAKE_INSTALL_PREFIX@ expands to a prefix relative to the .pc file.
function(pmemkit_install_package name version)
	set(PACKAGE_VERSION ${version})
	# The .pc file locates the prefix relative to itself, so that the installed tree can be
	# moved (and installed with cmake --install --prefix).
	file(RELATIVE_PATH pc_to_prefix ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
	set(CMAKE_INSTALL_PREFIX "\${pcfiledir}/${pc_to_prefix}")
	configure_file(${CMAKE_CURRENT_SOURCE_DIR}/pkgconfig.pc.in
		       ${CMAKE_CURRENT_BINARY_DIR}/${name}.pc @ONLY)
	install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${name}.pc
		DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
	configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/config.cmake.in
		${CMAKE_CURRENT_BINARY_DIR}/${name}-config.cmake
		INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/${name}/cmake
		PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
	write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/${name}-config-version.cmake
		VERSION ${version} COMPATIBILITY AnyNewerVersion)
	install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${name}-config.cmake
		      ${CMAKE_CURRENT_BINARY_DIR}/${name}-config-version.cmake
		DESTINATION ${CMAKE_INSTALL_LIBDIR}/${name}/cmake)
endfunction()
