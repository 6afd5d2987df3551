# One-line helpers so component CMakeLists stay boring.

# threatd_add_library(name SOURCES... DEPS...)
#   A static library `threatd_<name>` rooted at src/ for includes
#   (#include "common/status.h").
function(threatd_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(threatd_${name} STATIC ${ARG_SOURCES})
  target_include_directories(threatd_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(threatd_${name} PRIVATE ${THREATD_WARNING_FLAGS})
  target_link_libraries(threatd_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# threatd_add_test(name LABEL unit|integration|e2e SOURCES... DEPS... [PROPERTIES k v...]
#                  [FIXTURES f...])
#   A GoogleTest executable registered with CTest under its label. PROPERTIES
#   are extra CTest properties for every test case (e.g. FIXTURES_REQUIRED
#   postgres): single values only, since gtest_discover_tests splits lists.
#   FIXTURES sets FIXTURES_REQUIRED to several fixtures (e.g. postgres kafka).
function(threatd_add_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS;PROPERTIES;FIXTURES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${THREATD_WARNING_FLAGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  # Where the e2e tests find the binary (THREATD_BINARY in the environment overrides it).
  target_compile_definitions(${name} PRIVATE THREATD_BINARY_PATH="${PROJECT_BINARY_DIR}/bin/threatd")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name}
    # One variable only: a ';' inside PROPERTIES would split the list.
    PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "THREATD_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
               ${ARG_PROPERTIES}
    DISCOVERY_TIMEOUT 60)
  if(ARG_FIXTURES)
    # Runs at ctest time after the discovered tests are defined: their names
    # are in ${name}_TESTS (gtest_discover_tests' TEST_LIST).
    set(_fixtures ${CMAKE_CURRENT_BINARY_DIR}/${name}_fixtures.cmake)
    file(WRITE ${_fixtures} "foreach(t IN LISTS ${name}_TESTS)\n"
                            "  set_tests_properties(\"\${t}\" PROPERTIES FIXTURES_REQUIRED \"${ARG_FIXTURES}\")\n"
                            "endforeach()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${_fixtures})
  endif()
endfunction()
