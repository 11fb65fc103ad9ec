#include "tests/unit/support/unit_main.h"

#include <CUnit/Basic.h>

int acmeh_unit_run(const char *suite, CU_InitializeFunc init, CU_CleanupFunc clean, const acmeh_unit_test *tests,
                   size_t n) {
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  CU_pSuite s = CU_add_suite(suite, init, clean);
  for (size_t i = 0; s && i < n; i++)
    if (!CU_add_test(s, tests[i].name, tests[i].fn)) s = NULL;
  if (!s) {
    CU_cleanup_registry();
    return 2;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  /* A failed suite init counts as a suite failure, not a test failure. */
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
