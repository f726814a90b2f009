/*
 * error.h — filling sm_error values. Internal.
 *
 * Every fallible internal function takes an optional `sm_error *` and returns the status it set,
 * so a failure site reads `return sm_err(err, SM_ERR_FORMAT, "tensor '%s': ...", name);`.
 */
#ifndef SM_UTIL_ERROR_H
#define SM_UTIL_ERROR_H

#include "sm.h"

#if defined(__GNUC__) || defined(__clang__)
#define SM_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define SM_PRINTF(fmt_idx, arg_idx)
#endif

/* Sets err->code and a formatted message (truncated to fit); err may be NULL. Returns `code`. */
sm_status sm_err(sm_error *err, sm_status code, const char *fmt, ...) SM_PRINTF(3, 4);

/* Clears err to SM_OK with an empty message; err may be NULL. */
void sm_err_clear(sm_error *err);

#endif
