/* The mock services a run starts on loopback: an authoritative DNS server
 * (UDP + TCP), an HTTP-01 responder, a TLS-ALPN-01 responder and a
 * management API speaking pebble-challtestsrv's vocabulary. They share one
 * libuv loop on their own thread; every function below is thread-safe and may
 * be called from check threads while the loop runs. */
#ifndef ACMEH_MOCKS_H
#define ACMEH_MOCKS_H

#include <jansson.h>
#include <stddef.h>

typedef struct acmeh_mocks acmeh_mocks;

typedef struct {
  const char *bind_addr;    /* loopback address to bind, e.g. "127.0.0.1" (NULL = that) */
  int dns_port;             /* UDP and TCP; 0 = pick a free port */
  int http01_port;          /* 0 = pick a free port */
  int tlsalpn01_port;       /* 0 = pick a free port */
  int mgmt_port;            /* management API (HTTP); 0 = pick a free port, -1 = none */
  const char *default_ipv4; /* A answer for names without records (NULL = "127.0.0.1") */
  int bundle_node_port;     /* mock bundle node, TCPCLv4 (mocks/bundle-node/node.h); 0 = a free port, -1 = none */
} acmeh_mocks_config;

/* Starts all mocks and their loop thread. On success *out is the handle
 * (stop with acmeh_mocks_stop). Returns ACMEH_OK, ACMEH_ENV_PORT_IN_USE,
 * ACMEH_ENV_IO, ACMEH_NOMEM with the reason in err (errlen bytes). */
int acmeh_mocks_start(const acmeh_mocks_config *cfg, acmeh_mocks **out, char *err,
                      size_t errlen);

/* The mocks' stores only (records, request history, DNS UPDATE state): no
 * loop, thread or socket. acmeh_mocks_start builds its servers on these; a
 * caller that drives the endpoints itself (acmeh_mgmt_handle, the setters
 * below; tests/fuzz/fuzz_mgmt_api.c) needs no more. default_ipv4 as in
 * acmeh_mocks_config. Ports read as -1. Free with acmeh_mocks_stop. Returns
 * ACMEH_OK, ACMEH_INVALID_ARG (not IPv4), ACMEH_NOMEM with the reason in err. */
int acmeh_mocks_new_stores(const char *default_ipv4, acmeh_mocks **out, char *err, size_t errlen);

/* Stops the loop, closes every socket, joins the thread and frees m. NULL is a no-op. */
void acmeh_mocks_stop(acmeh_mocks *m);

/* Bound ports (useful when 0 was asked). */
int acmeh_mocks_dns_port(const acmeh_mocks *m);
int acmeh_mocks_http01_port(const acmeh_mocks *m);
int acmeh_mocks_tlsalpn01_port(const acmeh_mocks *m);
int acmeh_mocks_mgmt_port(const acmeh_mocks *m);
/* The mock bundle node's TCPCL port (-1 when none), and the node itself for
 * faults and its journal (NULL when none; owned by the mocks). */
int acmeh_mocks_bundle_node_port(const acmeh_mocks *m);
struct acmeh_bundle_node *acmeh_mocks_bundle_node(const acmeh_mocks *m);

/* DNS records. `host` is a domain name with or without the trailing dot,
 * matched case-insensitively. Return ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_NOMEM. */
int acmeh_mocks_set_txt(acmeh_mocks *m, const char *host, const char *value); /* adds one TXT string */
int acmeh_mocks_clear_txt(acmeh_mocks *m, const char *host);
int acmeh_mocks_add_a(acmeh_mocks *m, const char *host, const char *ipv4);
int acmeh_mocks_add_aaaa(acmeh_mocks *m, const char *host, const char *ipv6);
int acmeh_mocks_add_caa(acmeh_mocks *m, const char *host, int flags, const char *tag,
                        const char *value);
int acmeh_mocks_set_cname(acmeh_mocks *m, const char *host, const char *target);
int acmeh_mocks_set_servfail(acmeh_mocks *m, const char *host, int on);

/* Remove every A / AAAA / CAA record, or the CNAME, of `host`. Return ACMEH_OK
 * (also when there was none) or ACMEH_INVALID_ARG. */
int acmeh_mocks_clear_a(acmeh_mocks *m, const char *host);
int acmeh_mocks_clear_aaaa(acmeh_mocks *m, const char *host);
int acmeh_mocks_clear_caa(acmeh_mocks *m, const char *host);
int acmeh_mocks_clear_cname(acmeh_mocks *m, const char *host);

/* Default answer for A (family 4) or AAAA (family 6) queries about names
 * without records of that type; NULL or "" disables it. The IPv4 default
 * starts as cfg->default_ipv4, the IPv6 one disabled. Returns ACMEH_OK or
 * ACMEH_INVALID_ARG. */
int acmeh_mocks_set_default_ip(acmeh_mocks *m, int family, const char *ip);

/* HTTP-01: serve `content` at /.well-known/acme-challenge/<token> for any Host. */
int acmeh_mocks_add_http01(acmeh_mocks *m, const char *token, const char *content);
int acmeh_mocks_del_http01(acmeh_mocks *m, const char *token);

/* TLS-ALPN-01: answer handshakes with SNI `host` and ALPN acme-tls/1 with a
 * validation certificate for keyAuthorization `keyauth` (RFC 8737 §3). */
int acmeh_mocks_add_tlsalpn01(acmeh_mocks *m, const char *host, const char *keyauth);
int acmeh_mocks_del_tlsalpn01(acmeh_mocks *m, const char *host);

/* Request history for `host` (NULL = all): a new JSON array reference the
 * caller decrefs. kind "http" entries: {"host","method","path","time_ms"};
 * kind "dns" entries: {"qname","qtype","proto","time_ms"}; kind "tlsalpn":
 * {"sni","alpn","time_ms"}. Returns NULL for an unknown kind. */
json_t *acmeh_mocks_history(acmeh_mocks *m, const char *kind, const char *host);
void acmeh_mocks_clear_history(acmeh_mocks *m, const char *kind, const char *host);
/* The entries of `kind` ("http", "dns", "tlsalpn", "mgmt") added after the one
 * numbered *after (0 = all kept), as acmeh_history_since
 * (mocks/common/history.h): a new array, caller decrefs; *after advances.
 * NULL for an unknown kind or out of memory. For `serve`'s live log. */
json_t *acmeh_mocks_history_since(acmeh_mocks *m, const char *kind, unsigned long long *after);
/* Files a management API call that changed the stores (kind "mgmt"): its
 * path ("/set-txt"), its JSON body (copied; strings cut at 300 bytes) and the
 * status answered. The hook CLI's calls show in `serve`'s log this way. */
void acmeh_mocks_record_mgmt(acmeh_mocks *m, const char *path, const json_t *body, int status);

/* DNS UPDATE (RFC 2136) with TSIG (RFC 8945); mocks/dns/update.h has the details.
 * Zones: UPDATEs to a zone not added here get NOTAUTH; SOA queries for an added
 * apex are answered. Return ACMEH_OK, ACMEH_INVALID_ARG, ACMEH_NOMEM. */
int acmeh_mocks_add_zone(acmeh_mocks *m, const char *zone);
/* Same, with the reason for ACMEH_INVALID_ARG in err (errlen bytes). */
int acmeh_mocks_add_zone_msg(acmeh_mocks *m, const char *zone, char *err, size_t errlen);
int acmeh_mocks_del_zone(acmeh_mocks *m, const char *zone);

/* Adds or replaces a TSIG key: {"name", "algorithm" ("hmac-sha256", -sha1/224/384/512),
 * "secret" (base64), "policy": [{"name": exact or fnmatch pattern such as
 * "_acme-challenge.*", "types": ["TXT"]}] (absent = anything in a served zone),
 * "skew_s": n (this key sees the mock's clock shifted by n s: a BADTIME fault)}.
 * The caller keeps `key`. Returns ACMEH_OK, ACMEH_INVALID_ARG (reason in err), ACMEH_NOMEM. */
int acmeh_mocks_add_tsig_key(acmeh_mocks *m, const json_t *key, char *err, size_t errlen);
/* Returns ACMEH_OK, or ACMEH_INVALID_ARG for an unknown key. */
int acmeh_mocks_del_tsig_key(acmeh_mocks *m, const char *name);

/* Unsigned UPDATEs: processed when allow_unsigned, else REFUSED (the default). */
void acmeh_mocks_set_update_policy(acmeh_mocks *m, int allow_unsigned);

/* The UPDATE journal for `zone` and below (NULL = all), oldest first, as a new
 * array the caller decrefs (entry fields: mocks/dns/update.h); NULL when out of
 * memory. Bounded to the last 1000 messages. */
json_t *acmeh_mocks_dns_update_journal(acmeh_mocks *m, const char *zone);
void acmeh_mocks_clear_dns_update_journal(acmeh_mocks *m);

#endif
