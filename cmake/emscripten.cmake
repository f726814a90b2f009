# Emscripten build: the engine variants and the WASM modules the JS package loads.
# Output goes to ${SM_WASM_OUT} (default: bindings/js/wasm/), one .mjs loader + .wasm per variant.
set(SM_WASM_OUT "${CMAKE_SOURCE_DIR}/bindings/js/wasm" CACHE PATH "Where the WASM modules go")

sm_add_engine(sm_simd ${SM_SIMD_FLAGS})
sm_add_engine(sm_mt ${SM_SIMD_FLAGS} -pthread)

set(SM_WASM_EXPORTS
  _malloc _free _sm_js_alloc _sm_js_free _sm_js_heap_used _sm_js_model_warmup _sm_version _sm_status_name
  _sm_js_model_load _sm_model_free _sm_js_model_info _sm_js_model_estimate _sm_js_error_code _sm_js_error_msg
  _sm_js_session_new _sm_js_session_set_sampling _sm_session_free _sm_session_decode _sm_session_step
  _sm_session_logits _sm_session_n_past _sm_session_rewind _sm_session_cancel
  _sm_session_last_error
  _sm_js_tokenizer_load _sm_tokenizer_free _sm_model_tokenizer _sm_js_tokenizer_info
  _sm_js_tokenize _sm_js_token_to_piece _sm_js_detokenizer_new _sm_js_detokenizer_push
  _sm_js_detokenizer_flush _sm_detokenizer_free
  _sm_js_model_probe _sm_js_model_load_parts _sm_js_crc32 _sm_js_model_meta_str
  _sm_js_model_inspect)
# the converters (bindings/js/convert): SMND writer, tensor type conversion
list(APPEND SM_WASM_EXPORTS _sm_js_smnd_writer_new _sm_js_smnd_writer_write _sm_js_smnd_writer_finish
  _sm_js_smnd_writer_out _sm_js_smnd_writer_info _sm_js_smnd_writer_error _sm_js_smnd_writer_free
  _sm_js_type_convert)
list(JOIN SM_WASM_EXPORTS "," SM_WASM_EXPORTS_CSV)

set(SM_WASM_LINK
  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createSmallMind
  -sENVIRONMENT=web,worker,node -sFILESYSTEM=0 -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB
  -sINITIAL_MEMORY=64MB -sTOTAL_STACK=1MB -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
  "--extern-pre-js=${CMAKE_SOURCE_DIR}/src/wasm/node-prelude.js"
  "--post-js=${CMAKE_SOURCE_DIR}/src/wasm/post.js"
  "-sEXPORTED_FUNCTIONS=[${SM_WASM_EXPORTS_CSV}]"
  "-sEXPORTED_RUNTIME_METHODS=[HEAPU8,HEAP32,HEAPF32,HEAPF64,UTF8ToString]")

# sm_add_wasm_module(<target> <engine> COMPILE <flags...> LINK <flags...>)
function(sm_add_wasm_module target engine)
  cmake_parse_arguments(ARG "" "" "COMPILE;LINK" ${ARGN})
  add_executable(${target} src/wasm/exports.c)
  target_include_directories(${target} PRIVATE src)
  target_compile_options(${target} PRIVATE ${SM_WARNINGS} ${ARG_COMPILE})
  target_link_libraries(${target} PRIVATE ${engine})
  set_target_properties(${target} PROPERTIES SUFFIX ".mjs" RUNTIME_OUTPUT_DIRECTORY ${SM_WASM_OUT})
  target_link_options(${target} PRIVATE ${SM_WASM_LINK} ${ARG_COMPILE} ${ARG_LINK})
endfunction()

# the pthreads build's worker script is CommonJS; the package itself is "type": "module"
file(WRITE ${SM_WASM_OUT}/package.json "{ \"type\": \"commonjs\" }\n")

sm_add_wasm_module(smallmind-simd sm_simd COMPILE ${SM_SIMD_FLAGS})
# the pool grows on demand; 2 workers are started eagerly so a small --threads needs no wait
sm_add_wasm_module(smallmind-mt sm_mt COMPILE ${SM_SIMD_FLAGS} -pthread LINK -sPTHREAD_POOL_SIZE=2)

# The relaxed-SIMD variants (src/kern/relaxed_simd.h), for runtimes that validate the instruction:
# the same engine with -DSM_RELAXED_SIMD, linked with a name section so that
# tools/wasm/relaxed-simd.mjs finds the marker function and turns its calls into the instruction
# (dropping the name section again). The loader falls back to the plain variants elsewhere.
if(SM_SIMD)
  sm_add_engine(sm_simd_rx ${SM_SIMD_FLAGS} -DSM_RELAXED_SIMD)
  sm_add_engine(sm_mt_rx ${SM_SIMD_FLAGS} -pthread -DSM_RELAXED_SIMD)
  sm_add_wasm_module(smallmind-simd-relaxed sm_simd_rx COMPILE ${SM_SIMD_FLAGS} LINK --profiling-funcs)
  sm_add_wasm_module(smallmind-mt-relaxed sm_mt_rx COMPILE ${SM_SIMD_FLAGS} -pthread
                     LINK -sPTHREAD_POOL_SIZE=2 --profiling-funcs)
  foreach(variant smallmind-simd-relaxed smallmind-mt-relaxed)
    add_custom_command(TARGET ${variant} POST_BUILD
      COMMAND node ${CMAKE_SOURCE_DIR}/tools/wasm/relaxed-simd.mjs ${SM_WASM_OUT}/${variant}.wasm
              ${SM_WASM_OUT}/${variant}.wasm
      VERBATIM)
  endforeach()
endif()

if(SM_BUILD_TESTS)
  enable_testing()
  set(SM_TEST_ENGINE sm_simd)
  include(cmake/tests.cmake)
endif()
