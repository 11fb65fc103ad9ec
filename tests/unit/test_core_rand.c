/* The per-thread random batch: bounds, no byte handed out twice, and a
 * forked child that does not repeat its parent's next bytes. */
#include <CUnit/Basic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/core/error.h"
#include "harness/core/rand.h"

static void test_bounds(void) {
  unsigned char b[4097];
  CU_ASSERT_EQUAL(acmeh_rand_bytes(NULL, 1), ACMEH_INVALID_ARG);
  CU_ASSERT_EQUAL(acmeh_rand_bytes(b, sizeof b), ACMEH_INVALID_ARG);
  CU_ASSERT_EQUAL(acmeh_rand_bytes(b, 4096), ACMEH_OK);
  CU_ASSERT_EQUAL(acmeh_rand_bytes(b, 0), ACMEH_OK);
}

/* 1,000 draws of 16 bytes across several refills: all distinct. */
static void test_distinct(void) {
  static unsigned char seen[1000][16];
  for (int i = 0; i < 1000; i++) {
    CU_ASSERT_EQUAL_FATAL(acmeh_rand_bytes(seen[i], 16), ACMEH_OK);
    for (int j = 0; j < i; j++) CU_ASSERT_NOT_EQUAL(memcmp(seen[i], seen[j], 16), 0);
  }
}

static void test_fork(void) {
  unsigned char warm[8], mine[16], theirs[16];
  CU_ASSERT_EQUAL_FATAL(acmeh_rand_bytes(warm, sizeof warm), ACMEH_OK); /* the batch holds bytes now */
  int fd[2];
  CU_ASSERT_EQUAL_FATAL(pipe(fd), 0);
  pid_t pid = fork();
  CU_ASSERT_FATAL(pid >= 0);
  if (pid == 0) {
    unsigned char b[16] = {0};
    acmeh_rand_bytes(b, sizeof b);
    _exit(write(fd[1], b, sizeof b) == (ssize_t)sizeof b ? 0 : 1);
  }
  close(fd[1]);
  CU_ASSERT_EQUAL(read(fd[0], theirs, sizeof theirs), (ssize_t)sizeof theirs);
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  CU_ASSERT_EQUAL(acmeh_rand_bytes(mine, sizeof mine), ACMEH_OK);
  CU_ASSERT_NOT_EQUAL(memcmp(mine, theirs, sizeof mine), 0);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  CU_pSuite s = CU_add_suite("core_rand", NULL, NULL);
  if (!s || !CU_add_test(s, "bounds", test_bounds) || !CU_add_test(s, "bytes handed out once", test_distinct) ||
      !CU_add_test(s, "fork child does not repeat the parent", test_fork)) {
    CU_cleanup_registry();
    return 2;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
