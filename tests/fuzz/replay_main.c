/* Replays a fuzz target's seeds and regression inputs without libFuzzer: every
 * regular file in each folder named on the command line goes through
 * LLVMFuzzerTestOneInput once (tests/fuzz/README.md). A crash or sanitizer
 * report fails the ctest test; the folders may be missing. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs above this are not replayed (libFuzzer's own default -max_len is far smaller). */
#define REPLAY_MAX_INPUT (4u << 20)

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  uint8_t *buf = malloc(REPLAY_MAX_INPUT);
  size_t n = buf ? fread(buf, 1, REPLAY_MAX_INPUT, f) : 0;
  fclose(f);
  if (buf) LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return buf != NULL;
}

static size_t replay_dir(const char *dir) {
  DIR *d = opendir(dir);
  size_t n = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) n += (size_t)replay_file(path);
  }
  if (d) closedir(d);
  return n;
}

int main(int argc, char **argv) {
  size_t n = 0;
  LLVMFuzzerTestOneInput((const uint8_t *)"", 0); /* the empty input, always */
  for (int i = 1; i < argc; i++) n += replay_dir(argv[i]);
  printf("replayed %zu input(s) and the empty one\n", n);
  return 0;
}
