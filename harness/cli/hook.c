/* acme-harness hook: publishes or withdraws one challenge response through the
 * mocks' management API (pebble-challtestsrv vocabulary), for real ACME
 * clients whose challenge hooks call it (targets/hooks/).
 *
 *   hook http-01     add|del TOKEN [KEYAUTH]      /add-http01, /del-http01
 *   hook dns-01      add|del NAME [VALUE]         /set-txt, /clear-txt at _acme-challenge.NAME
 *                    add NAME --keyauth KEYAUTH   VALUE = base64url(SHA-256(KEYAUTH))
 *   hook tls-alpn-01 add|del NAME [KEYAUTH]       /add-tlsalpn01, /del-tlsalpn01
 *
 * Options are recognised only by their exact spelling (--mgmt URL,
 * --mgmt=URL, --keyauth KEYAUTH, --keyauth=KEYAUTH, --help, and "--" to end
 * them), because tokens and TXT values are base64url and may start with '-'.
 * Exit status: 0 done, 1 the API refused or could not be reached, 2 usage. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/acme/challenge.h"
#include "harness/cli/cli.h"
#include "base/error.h"

#define HOOK_MAX_POS 4

typedef struct {
  const char *mgmt, *keyauth;
  const char *pos[HOOK_MAX_POS]; /* type, action, subject, value */
  int npos, help;
} hook_args;

static void hook_usage(FILE *f) {
  fputs("usage: acme-harness hook [--mgmt URL] http-01 add|del TOKEN [KEYAUTH]\n"
        "       acme-harness hook [--mgmt URL] dns-01 add|del NAME [VALUE | --keyauth KEYAUTH]\n"
        "       acme-harness hook [--mgmt URL] tls-alpn-01 add|del NAME [KEYAUTH]\n"
        "  publishes (add) or withdraws (del) a challenge response through the mocks'\n"
        "  management API at --mgmt URL or $ACMEH_MGMT (e.g. http://127.0.0.1:8055).\n"
        "  dns-01 NAME is the identifier; the TXT record goes to _acme-challenge.NAME.\n"
        "exit status: 0 done, 1 the management API refused or could not be reached, 2 usage\n",
        f);
}

/* Takes the value of option `name` from argv[*i] ("--name V" or "--name=V").
 * Returns 1 if argv[*i] is that option (value in *out, NULL when missing),
 * 0 if it is something else. */
static int take_opt(int argc, char **argv, int *i, const char *name, const char **out) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0) return 0;
  if (argv[*i][n] == '=') return *out = argv[*i] + n + 1, 1;
  if (argv[*i][n] != '\0') return 0;
  *out = *i + 1 < argc ? argv[++*i] : NULL;
  return 1;
}

static int parse(hook_args *a, int argc, char **argv) {
  int only_pos = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    if (!only_pos && strcmp(argv[i], "--") == 0) only_pos = 1;
    else if (!only_pos && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) a->help = 1;
    else if (!only_pos && take_opt(argc, argv, &i, "--mgmt", &v)) {
      if (!v || !*v) return fputs("acme-harness hook: --mgmt needs a URL\n", stderr), 2;
      a->mgmt = v;
    } else if (!only_pos && take_opt(argc, argv, &i, "--keyauth", &v)) {
      if (!v || !*v) return fputs("acme-harness hook: --keyauth needs a key authorization\n", stderr), 2;
      a->keyauth = v;
    } else if (a->npos == HOOK_MAX_POS) {
      return fprintf(stderr, "acme-harness hook: unexpected argument '%s'\n", argv[i]), 2;
    } else {
      a->pos[a->npos++] = argv[i];
    }
  }
  return 0;
}

/* Response bodies are only echoed in error messages; keep the first bytes. */
typedef struct {
  char buf[512];
  size_t len;
} reply_buf;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
  reply_buf *r = userdata;
  size_t n = size * nmemb, room = sizeof r->buf - 1 - r->len;
  memcpy(r->buf + r->len, data, n < room ? n : room);
  r->len += n < room ? n : room;
  r->buf[r->len] = '\0';
  return n;
}

/* POSTs `body` (JSON object, reference kept by the caller) to base + path.
 * Returns 0 on a 2xx answer, 1 otherwise (reason on stderr). */
static int post(const char *base, const char *path, json_t *body) {
  char url[2048];
  size_t blen = strlen(base);
  while (blen > 0 && base[blen - 1] == '/') blen--;
  int w = blen < sizeof url ? snprintf(url, sizeof url, "%.*s%s", (int)blen, base, path) : -1;
  if (w < 0 || (size_t)w >= sizeof url) return fputs("acme-harness hook: management URL too long\n", stderr), 1;
  char *json = json_dumps(body, JSON_COMPACT);
  CURL *c = curl_easy_init();
  struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
  if (!json || !c || !hdr) {
    free(json), curl_easy_cleanup(c), curl_slist_free_all(hdr);
    return fputs("acme-harness hook: out of memory\n", stderr), 1;
  }
  reply_buf reply = {.len = 0};
  char cerr[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* the mocks are on loopback; never through a proxy */
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  int out = 0;
  if (rc != CURLE_OK) {
    fprintf(stderr, "acme-harness hook: POST %s: %s\n", url, *cerr ? cerr : curl_easy_strerror(rc));
    out = 1;
  } else if (status < 200 || status > 299) {
    fprintf(stderr, "acme-harness hook: POST %s %s: HTTP %ld%s%s\n", url, json, status, reply.len ? ": " : "",
            reply.buf);
    out = 1;
  }
  curl_slist_free_all(hdr);
  curl_easy_cleanup(c);
  free(json);
  return out;
}

/* "_acme-challenge." + name without a leading "*." (a wildcard's challenge
 * lives at its base name, RFC 8555 §8.4) and with exactly one trailing dot. */
static int dns01_host(const char *name, char *out, size_t outlen) {
  if (strncmp(name, "*.", 2) == 0) name += 2;
  size_t n = strlen(name);
  while (n > 0 && name[n - 1] == '.') n--;
  if (n == 0) return -1;
  int w = snprintf(out, outlen, "_acme-challenge.%.*s.", (int)n, name);
  return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

static int run_http01(const char *mgmt, int add, const char *token, const char *keyauth) {
  json_t *b = add ? json_pack("{s:s, s:s}", "token", token, "content", keyauth)
                  : json_pack("{s:s}", "token", token);
  int rc = b ? post(mgmt, add ? "/add-http01" : "/del-http01", b) : 1;
  json_decref(b);
  return rc;
}

static int run_dns01(const char *mgmt, int add, const char *name, const char *value) {
  char host[600];
  if (dns01_host(name, host, sizeof host)) return fprintf(stderr, "acme-harness hook: bad name '%s'\n", name), 2;
  json_t *b = add ? json_pack("{s:s, s:s}", "host", host, "value", value) : json_pack("{s:s}", "host", host);
  int rc = b ? post(mgmt, add ? "/set-txt" : "/clear-txt", b) : 1;
  json_decref(b);
  return rc;
}

static int run_tlsalpn01(const char *mgmt, int add, const char *name, const char *keyauth) {
  json_t *b = add ? json_pack("{s:s, s:s}", "host", name, "content", keyauth) : json_pack("{s:s}", "host", name);
  int rc = b ? post(mgmt, add ? "/add-tlsalpn01" : "/del-tlsalpn01", b) : 1;
  json_decref(b);
  return rc;
}

int acmeh_cli_hook(int argc, char **argv) {
  hook_args a = {0};
  if (parse(&a, argc, argv)) return hook_usage(stderr), 2;
  if (a.help) return hook_usage(stdout), 0;
  if (a.npos < 3) return hook_usage(stderr), 2;
  const char *type = a.pos[0], *action = a.pos[1], *subject = a.pos[2], *value = a.npos > 3 ? a.pos[3] : NULL;
  int add = strcmp(action, "add") == 0;
  if (!add && strcmp(action, "del") != 0)
    return fprintf(stderr, "acme-harness hook: action must be add or del, not '%s'\n", action), 2;
  if (!*subject) return fputs("acme-harness hook: empty TOKEN or NAME\n", stderr), 2;
  int is_http = strcmp(type, "http-01") == 0, is_dns = strcmp(type, "dns-01") == 0,
      is_alpn = strcmp(type, "tls-alpn-01") == 0;
  if (!is_http && !is_dns && !is_alpn)
    return fprintf(stderr, "acme-harness hook: challenge type must be http-01, dns-01 or tls-alpn-01, not '%s'\n",
                   type),
           2;
  if (a.keyauth && !is_dns)
    return fputs("acme-harness hook: --keyauth applies to dns-01 only (http-01 and tls-alpn-01 take the key "
                 "authorization as is)\n",
                 stderr),
           2;
  if (a.keyauth && value) return fputs("acme-harness hook: give VALUE or --keyauth, not both\n", stderr), 2;
  char digest[44];
  if (add && is_dns && a.keyauth) {
    if (acmeh_dns01_txt(a.keyauth, digest) != ACMEH_OK)
      return fputs("acme-harness hook: cannot compute the dns-01 digest\n", stderr), 1;
    value = digest;
  }
  if (add && (!value || !*value))
    return fprintf(stderr, "acme-harness hook: %s add needs %s\n", type,
                   is_dns ? "VALUE or --keyauth KEYAUTH" : "KEYAUTH"),
           2;
  const char *mgmt = a.mgmt ? a.mgmt : getenv("ACMEH_MGMT");
  if (!mgmt || !*mgmt)
    return fputs("acme-harness hook: no management API: give --mgmt URL or set ACMEH_MGMT\n", stderr), 2;
  if (is_http) return run_http01(mgmt, add, subject, value);
  if (is_dns) return run_dns01(mgmt, add, subject, value);
  return run_tlsalpn01(mgmt, add, subject, value);
}
