#include "harness/runner/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"

int acmeh_check_fail(acmeh_check_ctx *ctx, const char *expected, const char *actual_fmt, ...) {
  if (ctx->concluded) return ACMEH_PEER_PROTOCOL;
  acmeh_strbuf b = {0};
  va_list ap;
  va_start(ap, actual_fmt);
  acmeh_strbuf_vprintf(&b, actual_fmt, ap);
  va_end(ap);
  ctx->actual = acmeh_strbuf_take(&b);
  ctx->expected = strdup(expected);
  acmeh_strbuf_printf(&b, "expected %s; got %s (%s)", expected, ctx->actual ? ctx->actual : "",
                      ctx->section ? ctx->section : "");
  ctx->message = acmeh_strbuf_take(&b);
  ctx->verdict = ACMEH_FAIL;
  ctx->concluded = 1;
  acmeh_check_note(ctx, "FAIL: %s", ctx->message ? ctx->message : "");
  return ACMEH_PEER_PROTOCOL;
}

int acmeh_check_blocked(acmeh_check_ctx *ctx, const char *step, const char *judge, const char *why) {
  if (ctx->concluded) return ACMEH_STEP_BLOCKED;
  acmeh_strbuf b = {0};
  acmeh_strbuf_printf(&b, "blocked: %s failed: %s (see %s)", step, why ? why : "", judge);
  ctx->message = acmeh_strbuf_take(&b);
  ctx->blocked_by = judge;
  ctx->verdict = ACMEH_BLOCKED;
  ctx->concluded = 1;
  acmeh_check_note(ctx, "BLOCKED: %s", ctx->message ? ctx->message : "");
  return ACMEH_STEP_BLOCKED;
}

int acmeh_check_skip(acmeh_check_ctx *ctx, const char *reason_fmt, ...) {
  if (ctx->concluded) return ACMEH_UNSUPPORTED;
  acmeh_strbuf b = {0};
  va_list ap;
  va_start(ap, reason_fmt);
  acmeh_strbuf_vprintf(&b, reason_fmt, ap);
  va_end(ap);
  ctx->message = acmeh_strbuf_take(&b);
  ctx->verdict = ACMEH_SKIP;
  ctx->concluded = 1;
  acmeh_check_note(ctx, "SKIP: %s", ctx->message ? ctx->message : "");
  return ACMEH_UNSUPPORTED;
}

void acmeh_check_note(acmeh_check_ctx *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  acmeh_strbuf_printf(&ctx->transcript, "\n# ");
  acmeh_strbuf_vprintf(&ctx->transcript, fmt, ap);
  acmeh_strbuf_printf(&ctx->transcript, "\n");
  va_end(ap);
}

uint64_t acmeh_check_rand(acmeh_check_ctx *ctx) {
  /* splitmix64: repeatable for a given --seed, good enough for names */
  uint64_t z = (ctx->rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

char *acmeh_check_name(acmeh_check_ctx *ctx, char *buf, size_t len) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  char label[11];
  for (int i = 0; i < 10; i++) label[i] = alphabet[acmeh_check_rand(ctx) % 36];
  label[10] = '\0';
  snprintf(buf, len, "%s.%s", label, ctx->env->domain ? ctx->env->domain : "acmeh.example.com");
  return buf;
}

double acmeh_check_time_left(const acmeh_check_ctx *ctx) { return ctx->deadline - acmeh_now_mono(); }
