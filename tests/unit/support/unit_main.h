/* The main() every CUnit test program shares: one suite, run verbosely. */
#ifndef ACMEH_TESTS_UNIT_MAIN_H
#define ACMEH_TESTS_UNIT_MAIN_H

#include <CUnit/CUnit.h>
#include <stddef.h>

typedef struct {
  const char *name;
  CU_TestFunc fn;
} acmeh_unit_test;

/* Registers suite `suite` (init and clean may be NULL) with tests[0..n) and
 * runs it. Returns the process exit status: 0 when every test passed, 1 when
 * a test failed or the suite's init or clean failed, 2 when CUnit could not
 * be set up. */
int acmeh_unit_run(const char *suite, CU_InitializeFunc init, CU_CleanupFunc clean, const acmeh_unit_test *tests,
                   size_t n);

#define ACMEH_UNIT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
