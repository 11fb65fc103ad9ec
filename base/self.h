/* The path of the running acme-harness binary, for children that call the
 * harness back (hook-style clients, the `serve` target, the death shim). */
#ifndef ACMEH_BASE_SELF_H
#define ACMEH_BASE_SELF_H

/* Absolute path of this executable, read once from /proc/self/exe. The
 * string is static (do not free). NULL when /proc is unreadable or the path
 * is longer than 4095 bytes. Thread-safe. */
const char *acmeh_self_exe(void);

#endif
