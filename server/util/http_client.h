/* http_client.h — the small HTTP/1.1 client of webhook deliveries: one POST per connection
 * (Connection: close), plain sockets for http://, OpenSSL for https:// (certificate and host
 * name verified against the system's trust store), a connect timeout and a total deadline.
 * Only the status line of the answer is read: a receiver's body means nothing to us. */
#ifndef FD_UTIL_HTTP_CLIENT_H
#define FD_UTIL_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define FD_URL_MAX 2048

struct fd_url {
  bool https;
  char host[256];          /* as written, without the brackets of an IPv6 literal */
  char port[6];            /* "80"/"443" when absent */
  char target[FD_URL_MAX]; /* path and query, "/" when absent */
  bool host_is_literal;    /* an IP address, not a name */
};

/* Parse an absolute http(s) URL. false with a reason in *why (static text) for another
 * scheme, credentials (user@), a fragment, spaces, control or non-ASCII characters, a bad
 * port, an empty host or a URL longer than FD_URL_MAX - 1 bytes. */
bool fd_url_parse(const char *url, struct fd_url *out, const char **why) __attribute__((warn_unused_result));

struct fd_http_post {
  const char *url;
  const char *const *headers; /* "Name: value" lines without CRLF */
  size_t n_headers;
  const char *body;
  size_t body_len;
  int connect_timeout_ms; /* per address tried */
  int timeout_ms;         /* the whole exchange, name resolution excepted */
  bool allow_internal;    /* false: refuse destinations fd_netaddr_is_internal names (SSRF) */
};

/* POST and read the answer's status. true when an answer came (*status set, 2xx or not);
 * false with a one-line reason in err otherwise (no address, refused destination, connect
 * failure, TLS failure, timeout, malformed answer). */
bool fd_http_post(const struct fd_http_post *p, int *status, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
