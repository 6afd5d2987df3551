# libFuzzer builds (clang only), off by default; the g++ builds never see it.
#   CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DTHREATD_FUZZ=ON -DTHREATD_BUILD_BENCH=OFF
#   cmake --build build/fuzz --target bundle_loader_fuzzer     (or: make fuzz)
# Every target gets coverage instrumentation (-fsanitize=fuzzer-no-link) with
# ASan + UBSan; only the fuzzers (threatd_add_fuzzer) link libFuzzer's main.
option(THREATD_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang++)" OFF)

if(THREATD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "THREATD_FUZZ=ON needs clang (g++ has no libFuzzer): "
                        "CXX=clang++ cmake -S . -B build/fuzz -DTHREATD_FUZZ=ON")
  endif()
  if(THREATD_SANITIZE)
    message(FATAL_ERROR "THREATD_FUZZ brings its own sanitizers; leave THREATD_SANITIZE empty")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# threatd_add_fuzzer(name SOURCES... DEPS...)
#   A libFuzzer executable in <build>/bin (only when THREATD_FUZZ is ON).
function(threatd_add_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${THREATD_WARNING_FLAGS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
endfunction()
