# One test executable per module: tests/c/test_<module>.c, registered with CTest.
if(EMSCRIPTEN)
  # emcc writes CommonJS test drivers; the repository's package.json says "type": "module"
  file(WRITE ${CMAKE_BINARY_DIR}/package.json "{ \"type\": \"commonjs\" }\n")
endif()
# Tests that read ../shared (data beside the repository) get --require-shared when configured
# under CI=true: there a missing ../shared is a failure; elsewhere they say they skipped.
set(SM_TEST_ARGS "")
if("$ENV{CI}" STREQUAL "true")
  set(SM_TEST_ARGS --require-shared)
endif()
# sm_add_c_test(<name> <source> <engine> [compile definitions...]): one test executable, run natively
# or under Node (WASM builds).
function(sm_add_c_test name src engine)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE src tests/c)
  target_compile_definitions(${name} PRIVATE _POSIX_C_SOURCE=200809L ${ARGN})
  target_compile_options(${name} PRIVATE ${SM_WARNINGS} -Wno-missing-prototypes ${SM_SIMD_FLAGS})
  target_link_libraries(${name} PRIVATE ${engine})
  sm_apply_sanitizers(${name})
  if(EMSCRIPTEN)
    # synchronous instantiation reads the .wasm with fs: Emscripten 3.1.6 would otherwise use
    # Node 18+'s global fetch(), which rejects a file path ("Failed to parse URL")
    # NODERAWFS: tests read files (../shared) through Node's fs, as native tests do
    target_link_options(${name} PRIVATE -sALLOW_MEMORY_GROWTH=1 -sEXIT_RUNTIME=1 -sENVIRONMENT=node
                        -sWASM_ASYNC_COMPILATION=0 -sNODERAWFS=1)
    add_test(NAME ${name} COMMAND node ${CMAKE_CURRENT_BINARY_DIR}/${name}.js ${SM_TEST_ARGS}
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  else()
    add_test(NAME ${name} COMMAND ${name} ${SM_TEST_ARGS} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  endif()
endfunction()

file(GLOB SM_TEST_SOURCES CONFIGURE_DEPENDS tests/c/test_*.c)
foreach(src ${SM_TEST_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  sm_add_c_test(${name} ${src} ${SM_TEST_ENGINE})
endforeach()

# The relaxed variant's kernels with the marker function left in place (no rewrite): Node 20 cannot
# run the instruction, but the marker computes its lanes, so this checks the kernels' logic (lane
# order, offset corrections) against the SIMD128 ones, bit for bit. The instruction itself is
# checked in Chromium (tests/js/relaxed-simd.test.js).
if(EMSCRIPTEN AND TARGET sm_simd_rx)
  sm_add_c_test(test_kern_relaxed tests/c/test_kern.c sm_simd_rx SM_RELAXED_SIMD)
endif()
