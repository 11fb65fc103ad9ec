/* Small libuv helpers shared by the mock servers. */
#ifndef ACMEH_BASE_UVUTIL_H
#define ACMEH_BASE_UVUTIL_H

#include <stddef.h>
#include <uv.h>

/* Resolves a loopback literal addr:port into ss. Returns ACMEH_OK or
 * ACMEH_INVALID_ARG (not an IPv4/IPv6 literal). */
int acmeh_uv_addr(const char *addr, int port, struct sockaddr_storage *ss);

/* Maps a libuv bind/listen error to ACMEH_ENV_PORT_IN_USE or ACMEH_ENV_IO
 * and writes the reason into err. */
int acmeh_uv_bind_error(int uverr, const char *what, const char *addr, int port, char *err,
                        size_t errlen);

/* The port a bound TCP or UDP handle listens on, or -1. */
int acmeh_uv_tcp_port(const uv_tcp_t *h);
int acmeh_uv_udp_port(const uv_udp_t *h);

/* Binds and listens a TCP server handle (already uv_tcp_init'ed) on
 * addr:port. Returns ACMEH_OK or the error of acmeh_uv_bind_error. */
int acmeh_uv_tcp_listen(uv_tcp_t *h, const char *addr, int port, uv_connection_cb cb,
                        const char *what, char *err, size_t errlen);

/* Queues a copy of buf for writing on stream; the copy is freed when the
 * write completes. Returns 0 or a libuv error. */
int acmeh_uv_write_copy(uv_stream_t *stream, const void *buf, size_t len);

/* Queues buf (malloc'd; ownership passes) for writing. Returns 0 or a libuv
 * error (buf freed either way). */
int acmeh_uv_write_owned(uv_stream_t *stream, void *buf, size_t len);

/* Runs once a write has left the stream's queue (status < 0: it failed or
 * was cancelled because the stream is closing; the handle is still open). */
typedef void (*acmeh_uv_written_cb)(uv_stream_t *stream, int status);

/* As acmeh_uv_write_owned, and then `done` (may be NULL) runs after buf is
 * freed, so that a writer can resume what it paused until its peer read. */
int acmeh_uv_write_owned_cb(uv_stream_t *stream, void *buf, size_t len, acmeh_uv_written_cb done);

#endif
