/* Flattened JWS for ACME (RFC 8555 §6.2): building, with the mutations
 * negative checks need, and strict parsing for the reference server. */
#include "harness/acme/jws.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/b64.h"
#include "base/error.h"

/* ---- HMAC (External Account Binding) ------------------------------------ */

static const char *hmac_digest(const char *alg) {
  if (!alg) return NULL;
  if (strcmp(alg, "HS256") == 0) return "SHA256";
  if (strcmp(alg, "HS384") == 0) return "SHA384";
  if (strcmp(alg, "HS512") == 0) return "SHA512";
  return NULL;
}

int acmeh_hmac_sign(const char *alg, const unsigned char *key, size_t keylen,
                    const unsigned char *in, size_t inlen, unsigned char out[64],
                    size_t *outlen) {
  const char *md = hmac_digest(alg);
  if (!md || !out || !outlen || (!key && keylen) || (!in && inlen)) return ACMEH_INVALID_ARG;
  /* EVP_Q_mac rejects a NULL key pointer even with length 0. */
  static const unsigned char none[1] = {0};
  if (!EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key ? key : none, keylen, in ? in : none, inlen,
                 out, 64, outlen))
    return ACMEH_INTERNAL;
  return ACMEH_OK;
}

/* ---- building ------------------------------------------------------------ */

/* Header alg as sent: the override wins, then what the signing mode implies. */
static const char *header_alg(const acmeh_key *key, const acmeh_jws_opts *o) {
  if (o->alg_override) return o->alg_override;
  if (o->mac_key) return "HS256";
  if (o->no_signature) return "none";
  return key ? acmeh_key_alg(key) : NULL;
}

/* Builds the protected header object. Returns a new reference or NULL with
 * *rc set. */
static json_t *build_header(const acmeh_key *key, const acmeh_jws_opts *o, const char *alg,
                            int *rc) {
  json_t *h = json_object();
  *rc = ACMEH_NOMEM;
  if (!h || json_object_set_new(h, "alg", json_string(alg))) goto fail;
  if (o->jwk_override) {
    if (json_object_set_new(h, "jwk", json_deep_copy(o->jwk_override))) goto fail;
  } else if (o->use_jwk) {
    json_t *jwk = key ? acmeh_key_jwk(key) : NULL;
    *rc = key ? ACMEH_INTERNAL : ACMEH_INVALID_ARG;
    if (!jwk || json_object_set_new(h, "jwk", jwk)) goto fail;
    *rc = ACMEH_NOMEM;
  }
  if (o->kid && json_object_set_new(h, "kid", json_string(o->kid))) goto fail;
  if (o->nonce && json_object_set_new(h, "nonce", json_string(o->nonce))) goto fail;
  if (o->url && json_object_set_new(h, "url", json_string(o->url))) goto fail;
  if (o->b64_false) {
    if (json_object_set_new(h, "b64", json_false())) goto fail;
    if (json_object_set_new(h, "crit", json_pack("[s]", "b64"))) goto fail;
  }
  if (o->extra_protected) {
    *rc = ACMEH_INVALID_ARG;
    if (!json_is_object(o->extra_protected)) goto fail;
    /* update() only borrows the source's values, so a const cast is safe. */
    if (json_object_update(h, (json_t *)o->extra_protected)) goto fail;
  }
  *rc = ACMEH_OK;
  return h;
fail:
  json_decref(h);
  return NULL;
}

/* A growing byte string for the signing input. */
static char *concat3(const char *a, size_t al, const char *b, size_t bl, const char *c,
                     size_t cl, size_t *outlen) {
  char *s = malloc(al + bl + cl + 1);
  if (!s) return NULL;
  memcpy(s, a, al);
  memcpy(s + al, b, bl);
  memcpy(s + al + bl, c, cl);
  s[al + bl + cl] = '\0';
  if (outlen) *outlen = al + bl + cl;
  return s;
}

/* Computes the signature bytes (malloc'd into *sig) for the signing input,
 * honouring the signing-mode mutations. */
static int make_signature(const acmeh_key *key, const acmeh_jws_opts *o, const char *alg,
                          const char *in, size_t inlen, unsigned char **sig, size_t *siglen) {
  const unsigned char *uin = (const unsigned char *)in;
  *sig = NULL;
  *siglen = 0;
  if (o->mac_key) {
    /* A non-HMAC alg_override is a lie told in the header; the MAC itself
     * still needs a real hash, so it falls back to HS256. */
    const char *mac_alg = hmac_digest(alg) ? alg : "HS256";
    unsigned char *buf = malloc(64);
    if (!buf) return ACMEH_NOMEM;
    int rc = acmeh_hmac_sign(mac_alg, o->mac_key, o->mac_key_len, uin, inlen, buf, siglen);
    if (rc != ACMEH_OK) {
      free(buf);
      return rc;
    }
    *sig = buf;
    return ACMEH_OK;
  }
  if (o->no_signature || strcmp(alg, "none") == 0) return ACMEH_OK;
  if (!key) return ACMEH_INVALID_ARG;
  if (o->der_signature) return acmeh_key_sign_der(key, uin, inlen, sig, siglen);
  return acmeh_key_sign(key, uin, inlen, sig, siglen);
}

/* Appends '=' padding to a base64url part. The padding a standard encoder
 * would add is used; when none is due one '=' is still added so the mutation
 * is always visible on the wire. Frees `s`, returns a new malloc'd string. */
static char *pad_part(char *s) {
  if (!s) return NULL;
  size_t len = strlen(s);
  size_t pad = (4 - len % 4) % 4;
  if (pad == 0) pad = 1;
  char *p = realloc(s, len + pad + 1);
  if (!p) {
    free(s);
    return NULL;
  }
  memset(p + len, '=', pad);
  p[len + pad] = '\0';
  return p;
}

/* Serialises the three parts in the form the options ask for. */
static char *serialise(const acmeh_jws_opts *o, const char *prot, const char *payload,
                       const char *sig) {
  if (o->compact_serialization) {
    size_t pl = strlen(prot), yl = strlen(payload), sl = strlen(sig);
    char *s = malloc(pl + yl + sl + 3);
    if (s) sprintf(s, "%s.%s.%s", prot, payload, sig);
    return s;
  }
  json_t *body = json_object();
  json_t *hdr = o->unprotected ? json_deep_copy(o->unprotected) : NULL;
  char *out = NULL;
  int bad = !body || (o->unprotected && !hdr);
  if (!bad && o->general_serialization) {
    bad = json_object_set_new(body, "payload", json_string(payload));
    /* Attach each container to its parent before filling it (the _new
     * setters steal even on failure), so nothing is left unowned. */
    json_t *arr = bad ? NULL : json_array();
    json_t *one = arr ? json_object() : NULL;
    bad = bad || !one || json_array_append_new(arr, one) ||
          json_object_set_new(body, "signatures", arr) ||
          json_object_set_new(one, "protected", json_string(prot)) ||
          (hdr && json_object_set(one, "header", hdr)) ||
          json_object_set_new(one, "signature", json_string(sig));
    if (!one) json_decref(arr);
  } else if (!bad) {
    bad = json_object_set_new(body, "protected", json_string(prot)) ||
          (hdr && json_object_set(body, "header", hdr)) ||
          json_object_set_new(body, "payload", json_string(payload)) ||
          json_object_set_new(body, "signature", json_string(sig));
  }
  if (!bad) out = json_dumps(body, JSON_COMPACT);
  json_decref(hdr);
  json_decref(body);
  return out;
}

/* The "payload" member text: override, raw bytes (b64:false) or base64url.
 * Malloc'd; NULL with *rc set on failure. */
static char *payload_part(const acmeh_jws_opts *o, const char *payload, size_t len, int *rc) {
  char *s = NULL;
  *rc = ACMEH_NOMEM;
  if (o->payload_b64_override) {
    s = strdup(o->payload_b64_override);
  } else if (o->b64_false) {
    /* It travels inside a JSON string, so it must be text without NULs. */
    *rc = ACMEH_INVALID_ARG;
    if (memchr(payload, '\0', len)) return NULL;
    s = strndup(payload, len);
  } else {
    s = acmeh_b64url_encode((const unsigned char *)payload, len);
  }
  if (s) *rc = ACMEH_OK;
  return s;
}

int acmeh_jws_build(const acmeh_key *key, const char *payload, size_t payload_len,
                    const acmeh_jws_opts *opts, char **out) {
  static const acmeh_jws_opts defaults = {0};
  const acmeh_jws_opts *o = opts ? opts : &defaults;
  if (!out || (!payload && payload_len)) return ACMEH_INVALID_ARG;
  if (!payload) payload = ""; /* POST-as-GET, RFC 8555 §6.3 */
  const char *alg = header_alg(key, o);
  if (!alg) return ACMEH_INVALID_ARG;

  int rc;
  char *prot_json = NULL, *prot = NULL, *pay = NULL, *input = NULL, *sigb = NULL;
  unsigned char *sig = NULL;
  size_t siglen = 0, inlen = 0;
  json_t *hdr = build_header(key, o, alg, &rc);
  if (!hdr) goto done;
  rc = ACMEH_NOMEM;
  /* Sorted keys give a stable byte string, and match the exact header bytes
   * of the digest's vectors V8-V10. */
  prot_json = json_dumps(hdr, JSON_COMPACT | JSON_SORT_KEYS);
  if (!prot_json) goto done;
  prot = acmeh_b64url_encode((const unsigned char *)prot_json, strlen(prot_json));
  if (!prot) goto done;
  pay = payload_part(o, payload, payload_len, &rc);
  if (!pay) goto done;
  rc = ACMEH_NOMEM;
  /* Signed over the unpadded parts: padding must be the only defect, so a
   * server that strips '=' before verifying is caught accepting it. */
  input = concat3(prot, strlen(prot), ".", 1, pay, strlen(pay), &inlen);
  if (!input) goto done;
  rc = make_signature(key, o, alg, input, inlen, &sig, &siglen);
  if (rc != ACMEH_OK) goto done;
  if (o->flip_signature_bit && siglen > 0) sig[siglen / 2] ^= 0x01;
  rc = ACMEH_NOMEM;
  sigb = o->empty_signature ? strdup("") : acmeh_b64url_encode(sig, siglen);
  if (o->pad_protected) prot = pad_part(prot);
  if (o->pad_payload) pay = pad_part(pay);
  if (o->pad_signature) sigb = pad_part(sigb);
  if (!sigb || !prot || !pay) goto done;
  *out = serialise(o, prot, pay, sigb);
  rc = *out ? ACMEH_OK : ACMEH_NOMEM;
done:
  json_decref(hdr);
  free(prot_json);
  free(prot);
  free(pay);
  free(input);
  free(sig);
  free(sigb);
  return rc;
}

int acmeh_jws_build_json(const acmeh_key *key, const json_t *payload,
                         const acmeh_jws_opts *opts, char **out) {
  if (!payload) return acmeh_jws_build(key, NULL, 0, opts, out);
  char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (!text) return ACMEH_NOMEM;
  int rc = acmeh_jws_build(key, text, strlen(text), opts, out);
  free(text);
  return rc;
}

/* ---- parsing ------------------------------------------------------------- */

/* Decodes one base64url part, naming it and the defect in err. */
static int decode_part(const char *name, const char *s, int allow_empty, unsigned char **buf,
                       size_t *len, char *err, size_t errlen) {
  if (!allow_empty && !*s) return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "%s is empty", name);
  if (strchr(s, '='))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL,
                     "%s carries '=' padding (RFC 8555 §6.1 forbids it)", name);
  int rc = acmeh_b64url_decode(s, strlen(s), buf, len);
  if (rc == ACMEH_PEER_PROTOCOL)
    return acmeh_msg(err, errlen, rc, "%s is not base64url", name);
  return rc;
}

/* Header rules a flattened-JWS parser enforces for ACME (RFC 8555 §6.2). */
static int check_header(const json_t *h, char *err, size_t errlen) {
  if (!json_is_object(h))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "protected header is not a JSON object");
  /* We understand no JWS extensions, so any "crit" must be refused
   * (RFC 7515 §4.1.11); this also refuses RFC 7797 unencoded payloads. */
  if (json_object_get(h, "crit"))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "protected header has \"crit\"");
  if (json_is_false(json_object_get(h, "b64")))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL,
                     "protected header has \"b64\": false (unencoded payload)");
  return ACMEH_OK;
}

static const char *member_str(const json_t *o, const char *name) {
  return json_string_value(json_object_get(o, name));
}

static int parse_body(json_t *body, acmeh_jws_parsed *out, char *err, size_t errlen) {
  if (!json_is_object(body))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "body is not a JSON object");
  if (json_object_get(body, "signatures"))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL,
                     "general serialization (\"signatures\") is not allowed");
  if (json_object_get(body, "header"))
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL,
                     "unprotected \"header\" member is not allowed");
  const char *prot = member_str(body, "protected");
  const char *pay = member_str(body, "payload");
  const char *sig = member_str(body, "signature");
  if (!prot || !pay || !sig)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "missing or non-string \"%s\"",
                     !prot ? "protected" : !pay ? "payload" : "signature");
  unsigned char *hdr_bytes = NULL;
  size_t hdr_len = 0;
  int rc = decode_part("protected", prot, 0, &hdr_bytes, &hdr_len, err, errlen);
  if (rc != ACMEH_OK) return rc;
  json_error_t jerr;
  /* Duplicate header names MUST be rejected (RFC 7515 §5.2 step 4). */
  out->protected_hdr = json_loadb((const char *)hdr_bytes, hdr_len, JSON_REJECT_DUPLICATES, &jerr);
  free(hdr_bytes);
  if (!out->protected_hdr)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "protected header is not JSON: %s",
                     jerr.text);
  rc = check_header(out->protected_hdr, err, errlen);
  if (rc != ACMEH_OK) return rc;
  rc = decode_part("payload", pay, 1, &out->payload, &out->payload_len, err, errlen);
  if (rc != ACMEH_OK) return rc;
  rc = decode_part("signature", sig, 1, &out->sig, &out->sig_len, err, errlen);
  if (rc != ACMEH_OK) return rc;
  out->protected_b64 = strdup(prot);
  out->payload_b64 = strdup(pay);
  return out->protected_b64 && out->payload_b64 ? ACMEH_OK : ACMEH_NOMEM;
}

int acmeh_jws_parse(const char *body, size_t len, acmeh_jws_parsed *out, char *err,
                    size_t errlen) {
  if (!out) return ACMEH_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  if (!body)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "empty body");
  json_error_t jerr;
  json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!j)
    return acmeh_msg(err, errlen, ACMEH_PEER_PROTOCOL, "body is not JSON: %s", jerr.text);
  int rc = parse_body(j, out, err, errlen);
  json_decref(j);
  if (rc != ACMEH_OK) acmeh_jws_parsed_free(out);
  return rc;
}

void acmeh_jws_parsed_free(acmeh_jws_parsed *p) {
  if (!p) return;
  json_decref(p->protected_hdr);
  free(p->protected_b64);
  free(p->payload_b64);
  free(p->payload);
  free(p->sig);
  memset(p, 0, sizeof(*p));
}

char *acmeh_jws_signing_input(const acmeh_jws_parsed *p) {
  if (!p || !p->protected_b64 || !p->payload_b64) return NULL;
  return concat3(p->protected_b64, strlen(p->protected_b64), ".", 1, p->payload_b64,
                 strlen(p->payload_b64), NULL);
}

int acmeh_jws_verify(const acmeh_jws_parsed *p, const acmeh_key *key) {
  if (!p || !key) return ACMEH_INVALID_ARG;
  const char *alg = member_str(p->protected_hdr, "alg");
  if (!alg) return ACMEH_PEER_PROTOCOL;
  char *input = acmeh_jws_signing_input(p);
  if (!input) return ACMEH_NOMEM;
  int rc = acmeh_key_verify(key, alg, (const unsigned char *)input, strlen(input), p->sig,
                            p->sig_len);
  free(input);
  return rc;
}

int acmeh_jws_verify_hmac(const acmeh_jws_parsed *p, const unsigned char *key, size_t keylen) {
  if (!p) return ACMEH_INVALID_ARG;
  const char *alg = member_str(p->protected_hdr, "alg");
  if (!hmac_digest(alg)) return ACMEH_PEER_PROTOCOL;
  char *input = acmeh_jws_signing_input(p);
  if (!input) return ACMEH_NOMEM;
  unsigned char mac[64];
  size_t maclen = 0;
  int rc = acmeh_hmac_sign(alg, key, keylen, (const unsigned char *)input, strlen(input), mac,
                           &maclen);
  free(input);
  if (rc != ACMEH_OK) return rc;
  if (p->sig_len != maclen || CRYPTO_memcmp(mac, p->sig, maclen) != 0) return ACMEH_PEER_PROTOCOL;
  return ACMEH_OK;
}
