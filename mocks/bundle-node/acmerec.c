/* ACME administrative records of RFC 9891 through libcbor (acmerec.h). */
#include <cbor.h>
#include <inttypes.h>
#include <string.h>

#include "base/error.h"
#include "mocks/bundle-node/acmerec.h"
#include "mocks/bundle-node/bpv7.h"
#include "mocks/bundle-node/cborutil.h"

static cbor_item_t *alg_list(const acmeh_dtn_record *r) {
  cbor_item_t *a = cbor_new_definite_array(r->alg_count);
  for (size_t i = 0; a && i < r->alg_count; i++)
    if (!acmeh_cbor_push(a, acmeh_cbor_int(r->algs[i]))) cbor_decref(&a);
  return a;
}

static cbor_item_t *digest(const acmeh_dtn_record *r) {
  cbor_item_t *a = cbor_new_definite_array(2);
  if (a && !(acmeh_cbor_push(a, acmeh_cbor_int(r->digest_alg)) && acmeh_cbor_push(a, cbor_build_bytestring(r->digest, r->digest_len)))) cbor_decref(&a);
  return a;
}

static size_t popcount4(unsigned k) { return !!(k & 2) + !!(k & 4) + !!(k & 8) + !!(k & 16); }

int acmeh_dtn_record_encode(const acmeh_dtn_record *r, unsigned char **out, size_t *outlen) {
  *out = NULL, *outlen = 0;
  if (r->id_chal_len > ACMEH_DTN_MAX_BSTR || r->token_bundle_len > ACMEH_DTN_MAX_BSTR || r->digest_len > ACMEH_DTN_MAX_BSTR ||
      r->alg_count > ACMEH_DTN_MAX_ALGS)
    return ACMEH_INVALID_ARG;
  unsigned k = r->keys;
  cbor_item_t *map = cbor_new_definite_map(popcount4(k)), *rec = cbor_new_definite_array(2);
  int ok = map && rec;
  if (ok && (k & 2)) ok = acmeh_cbor_put(map, acmeh_cbor_uint(1), cbor_build_bytestring(r->id_chal, r->id_chal_len));
  if (ok && (k & 4)) ok = acmeh_cbor_put(map, acmeh_cbor_uint(2), cbor_build_bytestring(r->token_bundle, r->token_bundle_len));
  if (ok && (k & 8)) ok = acmeh_cbor_put(map, acmeh_cbor_uint(3), digest(r));
  if (ok && (k & 16)) ok = acmeh_cbor_put(map, acmeh_cbor_uint(4), alg_list(r));
  if (ok) {
    if (acmeh_cbor_push(rec, acmeh_cbor_uint(r->type_code))) ok = acmeh_cbor_push(rec, map); /* map given away either way */
    else ok = 0, cbor_decref(&map);
    map = NULL;
  }
  int rc = ok ? acmeh_cbor_serialize(rec, out, outlen) : ACMEH_NOMEM;
  if (map) cbor_decref(&map);
  if (rec) cbor_decref(&rec);
  return rc;
}

static int bstr(const cbor_item_t *v, unsigned char *dst, size_t *dlen, const char *name, char *msg, size_t msglen) {
  if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
    return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "%s is not a byte string", name);
  size_t n = cbor_bytestring_length(v);
  if (n > ACMEH_DTN_MAX_BSTR) return acmeh_msg(msg, msglen, ACMEH_PEER_TOO_LARGE, "%s of %zu bytes exceeds the cap of %d", name, n, ACMEH_DTN_MAX_BSTR);
  memcpy(dst, cbor_bytestring_handle(v), n);
  *dlen = n;
  return ACMEH_OK;
}

static int read_digest(const cbor_item_t *v, acmeh_dtn_record *r, char *msg, size_t msglen) {
  if (!cbor_isa_array(v) || cbor_array_size(v) != 2) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "key-auth-digest (key 3) is not [alg, bstr]");
  if (!acmeh_cbor_get_int(cbor_array_handle(v)[0], &r->digest_alg))
    return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "key-auth-digest alg is not an integer COSE algorithm");
  return bstr(cbor_array_handle(v)[1], r->digest, &r->digest_len, "key-auth-digest value", msg, msglen);
}

static int read_algs(const cbor_item_t *v, acmeh_dtn_record *r, char *msg, size_t msglen) {
  size_t n = cbor_isa_array(v) ? cbor_array_size(v) : 0;
  if (n == 0) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "alg-list (key 4) is not a non-empty array");
  if (n > ACMEH_DTN_MAX_ALGS) return acmeh_msg(msg, msglen, ACMEH_PEER_TOO_LARGE, "alg-list of %zu entries exceeds the cap of %d", n, ACMEH_DTN_MAX_ALGS);
  for (size_t i = 0; i < n; i++) {
    const cbor_item_t *a = cbor_array_handle(v)[i];
    if (cbor_isa_string(a)) r->alg_text_count++;
    else if (!acmeh_cbor_get_int(a, &r->algs[r->alg_count++])) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "alg-list entry %zu is neither int nor text", i);
  }
  return ACMEH_OK;
}

static int read_entry(const struct cbor_pair *p, acmeh_dtn_record *r, char *msg, size_t msglen) {
  uint64_t key;
  if (!acmeh_cbor_get_uint(p->key, &key) || key < 1 || key > 4) return r->keys |= 1, ACMEH_OK; /* unknown keys: noted, not fatal */
  if (r->keys & (1u << key)) return acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "record map key %" PRIu64 " repeated", key);
  r->keys |= 1u << key;
  if (key == 1) return bstr(p->value, r->id_chal, &r->id_chal_len, "id-chal (key 1)", msg, msglen);
  if (key == 2) return bstr(p->value, r->token_bundle, &r->token_bundle_len, "token-bundle (key 2)", msg, msglen);
  if (key == 3) return read_digest(p->value, r, msg, msglen);
  return read_algs(p->value, r, msg, msglen);
}

int acmeh_dtn_record_decode(const unsigned char *data, size_t len, acmeh_dtn_record *r, char *msg, size_t msglen) {
  memset(r, 0, sizeof *r);
  int rc = acmeh_cbor_check(data, len, msg, msglen);
  if (rc) return rc;
  struct cbor_load_result lr;
  cbor_item_t *top = cbor_load(data, len, &lr);
  if (!top) return acmeh_msg(msg, msglen, ACMEH_NOMEM, "libcbor could not load the record");
  if (!cbor_isa_array(top) || cbor_array_size(top) != 2 || !acmeh_cbor_get_uint(cbor_array_handle(top)[0], &r->type_code) ||
      !cbor_isa_map(cbor_array_handle(top)[1]))
    rc = acmeh_msg(msg, msglen, ACMEH_PEER_PROTOCOL, "the administrative record is not [type code, map] (RFC 9171 §6.1, RFC 9891 Appendix A)");
  const cbor_item_t *map = rc ? NULL : cbor_array_handle(top)[1];
  for (size_t i = 0; map && rc == ACMEH_OK && i < cbor_map_size(map); i++) rc = read_entry(&cbor_map_handle(map)[i], r, msg, msglen);
  cbor_decref(&top);
  return rc;
}
