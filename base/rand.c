/* A per-thread batch in front of RAND_bytes. On the reference server each
 * request takes a nonce and many take ids; one RAND_bytes call per 16 bytes
 * cost ~3 % of the server's CPU per order (locks, a getpid per call). */
#include "base/rand.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

#include "base/error.h"

#define BATCH 4096

static _Thread_local unsigned char batch[BATCH];
static _Thread_local size_t left; /* unused bytes at the end of batch */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* The forking thread is the child's only thread; its batch is the parent's. */
static void child_forget(void) {
  explicit_bzero(batch, sizeof batch);
  left = 0;
}

static void register_atfork(void) { pthread_atfork(NULL, NULL, child_forget); }

int acmeh_rand_bytes(void *out, size_t n) {
  if (!out || n > BATCH) return ACMEH_INVALID_ARG;
  pthread_once(&atfork_once, register_atfork);
  if (left < n) {
    left = 0; /* a failed refill may have written part of the batch: none of it is handed out */
    if (RAND_bytes(batch, BATCH) != 1) {
      explicit_bzero(batch, sizeof batch);
      return ACMEH_INTERNAL;
    }
    left = BATCH;
  }
  unsigned char *from = batch + BATCH - left;
  memcpy(out, from, n);
  explicit_bzero(from, n);
  left -= n;
  return ACMEH_OK;
}
