#include "tests/unit/support/raw_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/clock.h"

long acmeh_test_raw_exchange(int port, const char *ca_file, const char *req, size_t len, char *out, size_t outlen,
                             long trickle_ms) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  long got = -1;
  SSL *ssl = NULL;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && (ssl = SSL_new(ctx)) && SSL_set_fd(ssl, fd) &&
      SSL_set_tlsext_host_name(ssl, "localhost") && SSL_connect(ssl) == 1) {
    for (size_t off = 0, n = 0; off < len; off += n) {
      size_t chunk = trickle_ms ? 1 : len - off > 16384 ? 16384 : len - off;
      if (SSL_write_ex(ssl, req + off, chunk, &n) != 1) break;
      if (trickle_ms) acmeh_sleep_ms(trickle_ms);
    }
    got = 0;
    size_t n = 0;
    while ((size_t)got < outlen - 1 && SSL_read_ex(ssl, out + got, outlen - 1 - (size_t)got, &n) == 1) got += (long)n;
    out[got] = '\0';
  }
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return got;
}
