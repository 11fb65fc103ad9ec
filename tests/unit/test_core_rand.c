/* The per-thread random batch: bounds, no byte handed out twice, and a
 * forked child that does not repeat its parent's next bytes. */
#include <CUnit/Basic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/rand.h"
#include "tests/unit/support/unit_main.h"

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
  static const acmeh_unit_test tests[] = {
      {"bounds", test_bounds},
      {"bytes handed out once", test_distinct},
      {"fork child does not repeat the parent", test_fork},
  };
  return acmeh_unit_run("core_rand", NULL, NULL, tests, ACMEH_UNIT_COUNT(tests));
}
