#include "base/self.h"

#include <pthread.h>
#include <unistd.h>

static char self[4096];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void read_self(void) {
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 && (size_t)n < sizeof self - 1 ? n : 0] = '\0';
}

const char *acmeh_self_exe(void) {
  pthread_once(&once, read_self);
  return self[0] ? self : NULL;
}
