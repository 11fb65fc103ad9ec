/* The onion suite's shared pieces (RFC 9799). */
#ifndef ACMEH_SUITES_ONION_H
#define ACMEH_SUITES_ONION_H

#include "harness/kit/kit.h"

#define ONION_NOT_IMPLEMENTED "server does not implement RFC 9799 .onion names / onion-csr-01"

/* 1 when the target claims RFC 9799: "onion": true, or "onion-csr-01" among
 * its "challenges". */
int onion_claimed(const acmeh_check_ctx *ctx);

/* An order for a fresh onion service's address made "ready" through
 * onion-csr-01 (server.c). Everything is owned by svc; release with
 * onion_ready_free (also after a failure). */
typedef struct {
  void *svc;
  acmeh_acme *c;     /* its account's client */
  acmeh_issued *is;  /* order URL, order ("ready"), names */
  EVP_PKEY *key;     /* the onion identity key */
  const char *name;  /* its v3 address */
} onion_ready;
int onion_ready_order(acmeh_check_ctx *ctx, onion_ready *o);
void onion_ready_free(onion_ready *o);

/* ONION-S-018..020 (caa.c). */
int onion_caa_required(acmeh_check_ctx *ctx);
int onion_caa_refused(acmeh_check_ctx *ctx);
int onion_caa_64bit(acmeh_check_ctx *ctx);

#endif
