/* A unit test's own temporary folder, removed with everything in it. */
#ifndef ACMEH_TESTS_TMPDIR_H
#define ACMEH_TESTS_TMPDIR_H

/* Removes `dir` and everything below it (symbolic links are removed, not
 * followed). Returns 0, or -1 when something could not be removed. */
int acmeh_test_rmtree(const char *dir);

#endif
