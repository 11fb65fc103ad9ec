#include "harness/runner/result.h"

#include <stdlib.h>

const char *acmeh_verdict_name(acmeh_verdict v) {
  static const char *names[] = {"pass", "fail", "skip", "error", "xfail", "xpass", "blocked"};
  return (unsigned)v < sizeof names / sizeof *names ? names[v] : "error";
}

void acmeh_result_clear(acmeh_result *r) {
  free(r->message);
  free(r->expected);
  free(r->actual);
  free(r->xfail_reason);
  free(r->transcript);
  free(r->transcript_path);
  r->message = r->expected = r->actual = r->xfail_reason = NULL;
  r->transcript = r->transcript_path = NULL;
}
