/*
 * fp16_table.c — the half -> float table (fp16.h): 256 KiB, filled once, on first use.
 *
 * WebAssembly has no half-precision conversion instruction, so converting a block's fp16 scale
 * takes a dozen scalar operations with moves between integer and vector registers. In the decode
 * loops (one scale per 32 weights) that was a fifth of the instructions; a table read replaces it.
 * Filled at run time rather than stored in the module, which would grow the .wasm by 256 KiB.
 */
#include <threads.h>

#include "kern/fp16.h"

static float g_fp16_table[65536];
static once_flag g_fp16_table_once = ONCE_FLAG_INIT;

static void fill_fp16_table(void) {
    for (uint32_t h = 0; h < 65536; h++) g_fp16_table[h] = sm_kern_fp16_to_f32((uint16_t)h);
}

const float *sm_kern_fp16_table(void) {
    call_once(&g_fp16_table_once, fill_fp16_table);
    return g_fp16_table;
}
