#include "base/uvutil.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

int acmeh_uv_addr(const char *addr, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (port < 0 || port > 65535 || !addr) return ACMEH_INVALID_ARG;
  if (uv_ip4_addr(addr, port, (struct sockaddr_in *)ss) == 0) return ACMEH_OK;
  if (uv_ip6_addr(addr, port, (struct sockaddr_in6 *)ss) == 0) return ACMEH_OK;
  return ACMEH_INVALID_ARG;
}

int acmeh_uv_bind_error(int uverr, const char *what, const char *addr, int port, char *err,
                        size_t errlen) {
  int code = (uverr == UV_EADDRINUSE || uverr == UV_EACCES) ? ACMEH_ENV_PORT_IN_USE : ACMEH_ENV_IO;
  return acmeh_msg(err, errlen, code, "%s: cannot listen on %s:%d: %s", what, addr, port,
                   uv_strerror(uverr));
}

static int port_of(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)ss)->sin_port);
  if (ss->ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
  return -1;
}

int acmeh_uv_tcp_port(const uv_tcp_t *h) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getsockname(h, (struct sockaddr *)&ss, &len) != 0) return -1;
  return port_of(&ss);
}

int acmeh_uv_udp_port(const uv_udp_t *h) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_udp_getsockname(h, (struct sockaddr *)&ss, &len) != 0) return -1;
  return port_of(&ss);
}

int acmeh_uv_tcp_listen(uv_tcp_t *h, const char *addr, int port, uv_connection_cb cb,
                        const char *what, char *err, size_t errlen) {
  struct sockaddr_storage ss;
  if (acmeh_uv_addr(addr, port, &ss) != ACMEH_OK)
    return acmeh_msg(err, errlen, ACMEH_INVALID_ARG, "%s: bad bind address %s", what, addr);
  int rc = uv_tcp_bind(h, (const struct sockaddr *)&ss, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)h, 128, cb);
  if (rc != 0) return acmeh_uv_bind_error(rc, what, addr, port, err, errlen);
  return ACMEH_OK;
}

typedef struct {
  uv_write_t req;
  void *data;
  acmeh_uv_written_cb done;
} write_req;

static void write_done(uv_write_t *req, int status) {
  /* a failed write surfaces as a read error/EOF on the same stream */
  write_req *w = (write_req *)req;
  acmeh_uv_written_cb done = w->done;
  uv_stream_t *stream = req->handle;
  free(w->data);
  free(w);
  if (done) done(stream, status);
}

int acmeh_uv_write_owned(uv_stream_t *stream, void *buf, size_t len) {
  return acmeh_uv_write_owned_cb(stream, buf, len, NULL);
}

int acmeh_uv_write_owned_cb(uv_stream_t *stream, void *buf, size_t len, acmeh_uv_written_cb done) {
  write_req *w = malloc(sizeof *w);
  if (!w) {
    free(buf);
    return UV_ENOMEM;
  }
  w->data = buf;
  w->done = done;
  uv_buf_t b = uv_buf_init(buf, (unsigned)len);
  int rc = uv_write(&w->req, stream, &b, 1, write_done);
  if (rc != 0) {
    free(buf);
    free(w);
  }
  return rc;
}

int acmeh_uv_write_copy(uv_stream_t *stream, const void *buf, size_t len) {
  void *copy = malloc(len ? len : 1);
  if (!copy) return UV_ENOMEM;
  memcpy(copy, buf, len);
  return acmeh_uv_write_owned(stream, copy, len);
}
