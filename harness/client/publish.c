/* The mocks publisher (publish.h). */
#include "harness/client/publish.h"

#include "base/error.h"

static int said(int rc, const char *what, const char *where, char *err, size_t errlen) {
  return rc ? acmeh_msg(err, errlen, rc, "the mocks refused %s for %s: %s", what, where, acmeh_strerror(rc)) : ACMEH_OK;
}

static int mocks_set_txt(const acmeh_publisher *p, const char *host, const char *value, char *err, size_t errlen) {
  return said(acmeh_mocks_set_txt(p->mocks, host, value), "TXT", host, err, errlen);
}

static void mocks_clear_txt(const acmeh_publisher *p, const char *host) { acmeh_mocks_clear_txt(p->mocks, host); }

static int mocks_set_cname(const acmeh_publisher *p, const char *host, const char *target, char *err, size_t errlen) {
  return said(acmeh_mocks_set_cname(p->mocks, host, target), "CNAME", host, err, errlen);
}

static void mocks_clear_cname(const acmeh_publisher *p, const char *host) { acmeh_mocks_clear_cname(p->mocks, host); }

static int mocks_add_http01(const acmeh_publisher *p, const char *token, const char *keyauth, char *err, size_t errlen) {
  return said(acmeh_mocks_add_http01(p->mocks, token, keyauth), "http-01", token, err, errlen);
}

static void mocks_del_http01(const acmeh_publisher *p, const char *token) { acmeh_mocks_del_http01(p->mocks, token); }

static int mocks_add_tlsalpn01(const acmeh_publisher *p, const char *name, const char *keyauth, char *err, size_t errlen) {
  return said(acmeh_mocks_add_tlsalpn01(p->mocks, name, keyauth), "tls-alpn-01", name, err, errlen);
}

static void mocks_del_tlsalpn01(const acmeh_publisher *p, const char *name) { acmeh_mocks_del_tlsalpn01(p->mocks, name); }

void acmeh_publisher_mocks(acmeh_publisher *p, acmeh_mocks *m) {
  *p = (acmeh_publisher){.name = "mocks",
                         .set_txt = mocks_set_txt,
                         .clear_txt = mocks_clear_txt,
                         .add_http01 = mocks_add_http01,
                         .del_http01 = mocks_del_http01,
                         .add_tlsalpn01 = mocks_add_tlsalpn01,
                         .del_tlsalpn01 = mocks_del_tlsalpn01,
                         .set_cname = mocks_set_cname,
                         .clear_cname = mocks_clear_cname,
                         .mocks = m};
}
