/*
 * error.c — status names and sm_error formatting.
 */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *sm_status_name(sm_status code) {
    switch (code) {
    case SM_OK: return "SM_OK";
    case SM_DONE: return "SM_DONE";
    case SM_ERR_INVALID_ARG: return "SM_ERR_INVALID_ARG";
    case SM_ERR_NOMEM: return "SM_ERR_NOMEM";
    case SM_ERR_FORMAT: return "SM_ERR_FORMAT";
    case SM_ERR_UNSUPPORTED: return "SM_ERR_UNSUPPORTED";
    case SM_ERR_CONTEXT_FULL: return "SM_ERR_CONTEXT_FULL";
    case SM_ERR_CANCELLED: return "SM_ERR_CANCELLED";
    case SM_ERR_BUSY: return "SM_ERR_BUSY";
    case SM_ERR_VERSION: return "SM_ERR_VERSION";
    case SM_ERR_CORRUPT: return "SM_ERR_CORRUPT";
    }
    return "SM_ERR_UNKNOWN";
}

sm_status sm_err(sm_error *err, sm_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void sm_err_clear(sm_error *err) {
    if (err) {
        err->code = SM_OK;
        err->msg[0] = '\0';
    }
}
