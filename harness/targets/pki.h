/* Per-run loopback PKI: a throw-away CA and a TLS server certificate for a
 * target that ships none (Debian's pebble). */
#ifndef ACMEH_TARGETS_PKI_H
#define ACMEH_TARGETS_PKI_H

#include <stddef.h>

/* Writes <dir>/ca.pem, <dir>/server-cert.pem and <dir>/server-key.pem: a P-256
 * CA valid for 2 days and a server certificate it signs with SANs localhost,
 * 127.0.0.1 and ::1. Returns ACMEH_OK, ACMEH_ENV_IO, ACMEH_INTERNAL with the
 * reason in err (errlen bytes). */
int acmeh_pki_make_server_cert(const char *dir, char *err, size_t errlen);

#endif
