# parsl_add_library(<folder> SOURCES ...): the library of one top-level folder, with the
# alias parsl::<folder>, public headers in <folder>/include, install and export.
function(parsl_add_library folder)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  set(target parsl_${folder})
  add_library(${target} ${ARG_SOURCES})
  add_library(parsl::${folder} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${folder} OUTPUT_NAME ${target}
    POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:parsl_warnings>)
  install(TARGETS ${target} EXPORT parslTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()
