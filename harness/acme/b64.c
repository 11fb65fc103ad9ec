/* base64url without padding. OpenSSL does the bit shuffling (standard
 * alphabet, padded); this file translates alphabets and owns the strictness
 * that RFC 8555 §6.1 asks of receivers, which OpenSSL's decoder lacks. */
#include "harness/acme/b64.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static int is_b64url_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_';
}

char *acmeh_b64url_encode(const unsigned char *data, size_t len) {
  /* EVP_EncodeBlock takes an int length; refuse what it cannot represent. */
  if (len > (size_t)(1 << 29)) return NULL;
  size_t cap = 4 * ((len + 2) / 3) + 1;
  char *out = malloc(cap);
  if (!out) return NULL;
  int n = len ? EVP_EncodeBlock((unsigned char *)out, data, (int)len) : 0;
  out[n] = '\0';
  while (n > 0 && out[n - 1] == '=') out[--n] = '\0';
  for (int i = 0; i < n; i++) {
    if (out[i] == '+')
      out[i] = '-';
    else if (out[i] == '/')
      out[i] = '_';
  }
  return out;
}

/* Rejects everything RFC 8555 §6.1 forbids; pad bits that are not zero are
 * tolerated, as RFC 4648 §3.5 lets decoders choose and the common JOSE
 * libraries accept them, so rejecting would blame peers for a non-rule. */
static int validate(const char *s, size_t slen) {
  if (slen % 4 == 1) return 0;
  for (size_t i = 0; i < slen; i++)
    if (!is_b64url_char((unsigned char)s[i])) return 0;
  return 1;
}

int acmeh_b64url_decode(const char *s, size_t slen, unsigned char **out, size_t *outlen) {
  if (!s && slen) return ACMEH_PEER_PROTOCOL;
  if (!validate(s, slen)) return ACMEH_PEER_PROTOCOL;
  if (slen > (size_t)(1 << 29)) return ACMEH_PEER_PROTOCOL;
  size_t pad = (4 - slen % 4) % 4;
  /* Standard-alphabet, padded copy that EVP_DecodeBlock understands. */
  char *std = malloc(slen + pad + 1);
  unsigned char *buf = malloc((slen + pad) / 4 * 3 + 1);
  if (!std || !buf) {
    free(std);
    free(buf);
    return ACMEH_NOMEM;
  }
  for (size_t i = 0; i < slen; i++)
    std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
  memset(std + slen, '=', pad);
  std[slen + pad] = '\0';
  int n = slen ? EVP_DecodeBlock(buf, (unsigned char *)std, (int)(slen + pad)) : 0;
  free(std);
  if (n < 0) {
    free(buf);
    return ACMEH_PEER_PROTOCOL;
  }
  /* EVP_DecodeBlock counts the zero bytes that padding stands for. */
  size_t len = (size_t)n - pad;
  buf[len] = '\0';
  if (outlen) *outlen = len;
  if (out)
    *out = buf;
  else
    free(buf);
  return ACMEH_OK;
}

int acmeh_b64url_valid(const char *s) {
  if (!s || !*s) return 0;
  return validate(s, strlen(s));
}
