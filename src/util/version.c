/*
 * version.c — sm_version(): the library version and the features this build was compiled with.
 */
#include "sm.h"

#define SM_STR2(x) #x
#define SM_STR(x) SM_STR2(x)

#if defined(__wasm_simd128__) && defined(SM_RELAXED_SIMD)
#define SM_FEATURE_SIMD " simd128 relaxed-simd"
#elif defined(__wasm_simd128__)
#define SM_FEATURE_SIMD " simd128"
#else
#define SM_FEATURE_SIMD ""
#endif

#if defined(__EMSCRIPTEN_PTHREADS__) || (!defined(__EMSCRIPTEN__) && !defined(SM_NO_THREADS))
#define SM_FEATURE_THREADS " threads"
#else
#define SM_FEATURE_THREADS ""
#endif

const char *sm_version(void) {
    return SM_STR(SM_VERSION_MAJOR) "." SM_STR(SM_VERSION_MINOR) "." SM_STR(SM_VERSION_PATCH)
        SM_FEATURE_SIMD SM_FEATURE_THREADS;
}
