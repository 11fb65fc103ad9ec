/* Random bytes for identifiers the reference server hands out (nonces,
 * object ids, challenge tokens). */
#ifndef ACMEH_BASE_RAND_H
#define ACMEH_BASE_RAND_H

#include <stddef.h>

/* Fills out[0..n) with bytes from OpenSSL's CSPRNG, drawn in 4 KB batches
 * kept per thread: one RAND_bytes call (with its locks and fork check)
 * serves many nonces. Each byte is handed out once and wiped from the batch.
 * n: bytes wanted, at most 4096. Returns ACMEH_OK, ACMEH_INVALID_ARG for a
 * NULL out or n > 4096, or ACMEH_INTERNAL when the CSPRNG fails. A child
 * made by fork() starts with an empty batch, so parent and child never hand
 * out the same bytes. Thread-safe. */
int acmeh_rand_bytes(void *out, size_t n);

#endif
