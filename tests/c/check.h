/*
 * check.h — the C tests' whole framework: checks that count failures, and a report.
 *
 * A failed check prints file:line and the values, then the test goes on; sm_check_report() prints
 * the "N passed, N failed" line and returns the exit status for main().
 */
#ifndef SM_TEST_CHECK_H
#define SM_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

static int sm_check_passed, sm_check_failed;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (cond) sm_check_passed++;                                                       \
        else { sm_check_failed++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_EQ(a, b)                                                                     \
    do {                                                                                   \
        long long va_ = (long long)(a), vb_ = (long long)(b);                              \
        if (va_ == vb_) sm_check_passed++;                                                 \
        else { sm_check_failed++; fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", \
                                          __FILE__, __LINE__, #a, #b, va_, vb_); }         \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                              \
    do {                                                                                   \
        double va_ = (double)(a), vb_ = (double)(b), vt_ = (double)(tol);                  \
        if (fabs(va_ - vb_) <= vt_) sm_check_passed++;                                     \
        else { sm_check_failed++; fprintf(stderr, "%s:%d: CHECK_NEAR(%s, %s, %s) failed: %g vs %g\n", \
                                          __FILE__, __LINE__, #a, #b, #tol, va_, vb_); }   \
    } while (0)

static inline int sm_check_report(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, sm_check_passed, sm_check_failed);
    return sm_check_failed ? 1 : 0;
}

#endif
