/* http_client.c — one HTTP/1.1 POST over a plain or TLS socket (see http_client.h). */
#include "util/http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/netaddr.h"

/* ---- URLs ------------------------------------------------------------------------------- */

static bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

bool fd_url_parse(const char *url, struct fd_url *out, const char **why) {
  memset(out, 0, sizeof *out);
  size_t n = strlen(url);
  if (n >= FD_URL_MAX) return *why = "url is longer than 2047 bytes", false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
      return *why = "url must not contain spaces, control or non-ASCII characters (percent-encode them)", false;
  const char *rest;
  if (strncmp(url, "http://", 7) == 0) {
    rest = url + 7;
  } else if (strncmp(url, "https://", 8) == 0) {
    out->https = true;
    rest = url + 8;
  } else {
    return *why = "url must be an http:// or https:// URL", false;
  }
  if (strchr(url, '#')) return *why = "url must not have a fragment", false;
  size_t auth_len = strcspn(rest, "/?");
  const char *target = rest + auth_len;
  if (memchr(rest, '@', auth_len)) return *why = "url must not contain credentials (user@host)", false;
  const char *port = NULL;
  size_t host_len;
  const char *host = rest;
  if (rest[0] == '[') { /* [IPv6 literal] */
    const char *close = memchr(rest, ']', auth_len);
    if (!close) return *why = "url has an unclosed [IPv6] host", false;
    host = rest + 1;
    host_len = (size_t)(close - host);
    if (close + 1 < rest + auth_len) {
      if (close[1] != ':') return *why = "url has a malformed host", false;
      port = close + 2;
    }
  } else {
    const char *colon = memchr(rest, ':', auth_len);
    host_len = colon ? (size_t)(colon - rest) : auth_len;
    if (colon) port = colon + 1;
    for (size_t i = 0; i < host_len; i++)
      if (!host_char(rest[i])) return *why = "url has a malformed host", false;
  }
  if (host_len == 0 || host_len >= sizeof out->host) return *why = "url must name a host", false;
  memcpy(out->host, host, host_len);
  struct fd_netaddr ignored;
  out->host_is_literal = fd_netaddr_parse(out->host, &ignored);
  if (rest[0] == '[' && !out->host_is_literal) return *why = "url has a malformed [IPv6] host", false;
  if (port) {
    size_t plen = (size_t)(rest + auth_len - port);
    unsigned long v = 0;
    if (plen == 0 || plen > 5) return *why = "url has a malformed port", false;
    for (size_t i = 0; i < plen; i++) {
      if (port[i] < '0' || port[i] > '9') return *why = "url has a malformed port", false;
      v = v * 10 + (unsigned long)(port[i] - '0');
    }
    if (v < 1 || v > 65535) return *why = "url port must be 1 to 65535", false;
    snprintf(out->port, sizeof out->port, "%lu", v);
  } else {
    strcpy(out->port, out->https ? "443" : "80");
  }
  snprintf(out->target, sizeof out->target, "%s%s", *target == '?' ? "/" : "", *target ? target : "/");
  return true;
}

/* ---- one connection --------------------------------------------------------------------- */

struct conn {
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;
  uint64_t deadline_us; /* fd_now_us() clock */
};

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return false;
}

static int ms_left(uint64_t deadline_us) {
  uint64_t now = fd_now_us();
  return now >= deadline_us ? 0 : (int)((deadline_us - now + 999) / 1000);
}

/* Wait until fd is ready for `events`, at most until deadline_us. */
static bool wait_fd(int fd, short events, uint64_t deadline_us) {
  for (;;) {
    int left = ms_left(deadline_us);
    if (left <= 0) return false;
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, left);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

static int connect_one(const struct addrinfo *ai, int timeout_ms, uint64_t deadline_us) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return -1;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
  uint64_t until = fd_now_us() + (uint64_t)timeout_ms * 1000;
  if (until > deadline_us) until = deadline_us;
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, until) && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
      soerr == 0)
    return fd;
  close(fd);
  errno = soerr ? soerr : ETIMEDOUT;
  return -1;
}

/* Resolve, refuse internal destinations unless allowed, connect to the first address that
 * answers. The address checked is the address connected to: a name that resolves to a
 * public address now and a private one later (DNS rebinding) is checked each time. */
static bool open_tcp(struct conn *c, const struct fd_url *u, const struct fd_http_post *p, char *err, size_t errlen) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
  int gai = getaddrinfo(u->host, u->port, &hints, &res);
  if (gai != 0) return fail(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(gai));
  int refused = 0, last_errno = 0;
  char addr_text[64] = "";
  for (struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next) {
    struct fd_netaddr a;
    if (!fd_netaddr_from_sockaddr(ai->ai_addr, &a)) continue;
    fd_netaddr_format(&a, addr_text, sizeof addr_text);
    if (!p->allow_internal && fd_netaddr_is_internal(&a)) {
      refused++;
      continue;
    }
    c->fd = connect_one(ai, p->connect_timeout_ms, c->deadline_us);
    if (c->fd < 0) last_errno = errno;
  }
  freeaddrinfo(res);
  if (c->fd >= 0) return true;
  if (refused && !last_errno)
    return fail(err, errlen,
                "destination %s is a loopback, private or link-local address (allowed only with webhook_allow_private)",
                addr_text);
  if (!last_errno) return fail(err, errlen, "%s has no IPv4 or IPv6 address", u->host);
  return fail(err, errlen, "cannot connect to %s port %s: %s", u->host, u->port,
              last_errno == ETIMEDOUT ? "connect timeout" : strerror(last_errno));
}

static void tls_error(char *err, size_t errlen, const char *what, SSL *ssl) {
  long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  unsigned long e = ERR_get_error();
  char buf[200] = "";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  if (verify != X509_V_OK)
    fail(err, errlen, "TLS %s: certificate not accepted: %s", what, X509_verify_cert_error_string(verify));
  else
    fail(err, errlen, "TLS %s failed%s%s", what, *buf ? ": " : "", buf);
}

/* Drive an SSL call on a non-blocking socket until it completes or the deadline passes.
 * Returns its positive result, 0 on a clean close, -1 on failure (err set). */
static int ssl_io(struct conn *c, int (*op)(SSL *, void *, int), void *buf, int len, const char *what, char *err,
                  size_t errlen) {
  for (;;) {
    int r = op(c->ssl, buf, len);
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!ev) {
      tls_error(err, errlen, what, c->ssl);
      return -1;
    }
    if (!wait_fd(c->fd, ev, c->deadline_us)) {
      fail(err, errlen, "timeout during TLS %s", what);
      return -1;
    }
  }
}

static int op_handshake(SSL *s, void *b, int n) {
  (void)b, (void)n;
  return SSL_connect(s);
}
static int op_write(SSL *s, void *b, int n) { return SSL_write(s, b, n); }
static int op_read(SSL *s, void *b, int n) { return SSL_read(s, b, n); }

static bool open_tls(struct conn *c, const struct fd_url *u, char *err, size_t errlen) {
  c->ctx = SSL_CTX_new(TLS_client_method());
  if (!c->ctx) return fail(err, errlen, "TLS: out of memory");
  SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) return fail(err, errlen, "TLS: no trust store");
  c->ssl = SSL_new(c->ctx);
  if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) return fail(err, errlen, "TLS: out of memory");
  /* SNI for names only; the certificate must name the host (or IP literal) of the URL */
  if (!u->host_is_literal) SSL_set_tlsext_host_name(c->ssl, u->host);
  if ((u->host_is_literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host)
                          : SSL_set1_host(c->ssl, u->host)) != 1)
    return fail(err, errlen, "TLS: cannot set the expected host");
  return ssl_io(c, op_handshake, NULL, 0, "handshake", err, errlen) > 0;
}

static bool send_all(struct conn *c, const char *buf, size_t len, char *err, size_t errlen) {
  while (len > 0) {
    int chunk = len > (1 << 20) ? 1 << 20 : (int)len;
    ssize_t w;
    if (c->ssl) {
      w = ssl_io(c, op_write, (void *)(uintptr_t)buf, chunk, "write", err, errlen);
      if (w <= 0) return w == 0 ? fail(err, errlen, "connection closed while sending") : false;
    } else {
      w = send(c->fd, buf, (size_t)chunk, MSG_NOSIGNAL);
      if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait_fd(c->fd, POLLOUT, c->deadline_us)) return fail(err, errlen, "timeout while sending");
        continue;
      }
      if (w <= 0) return fail(err, errlen, "send failed: %s", strerror(errno));
    }
    buf += w;
    len -= (size_t)w;
  }
  return true;
}

/* Read until the status line is complete: "HTTP/1.x NNN ...\r\n". */
static bool read_status(struct conn *c, int *status, char *err, size_t errlen) {
  char line[256];
  size_t got = 0;
  while (got < sizeof line - 1 && !memchr(line, '\n', got)) {
    ssize_t r;
    if (c->ssl) {
      r = ssl_io(c, op_read, line + got, (int)(sizeof line - 1 - got), "read", err, errlen);
      if (r < 0) return false;
    } else {
      r = recv(c->fd, line + got, sizeof line - 1 - got, 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait_fd(c->fd, POLLIN, c->deadline_us)) return fail(err, errlen, "timeout waiting for the answer");
        continue;
      }
      if (r < 0) return fail(err, errlen, "receive failed: %s", strerror(errno));
    }
    if (r == 0) return fail(err, errlen, "connection closed without an answer");
    got += (size_t)r;
  }
  line[got] = '\0';
  int code = 0;
  if (sscanf(line, "HTTP/1.%*1[01] %3d", &code) != 1 || code < 100 || code > 599)
    return fail(err, errlen, "malformed answer (not an HTTP/1.x status line)");
  *status = code;
  return true;
}

bool fd_http_post(const struct fd_http_post *p, int *status, char *err, size_t errlen) {
  struct fd_url u;
  const char *why;
  if (!fd_url_parse(p->url, &u, &why)) return fail(err, errlen, "%s", why);
  struct conn c = {.fd = -1, .deadline_us = fd_now_us() + (uint64_t)p->timeout_ms * 1000};
  bool ok = open_tcp(&c, &u, p, err, errlen) && (!u.https || open_tls(&c, &u, err, errlen));
  char *head = NULL;
  size_t head_len = 0;
  if (ok) {
    FILE *f = open_memstream(&head, &head_len);
    if (!f) {
      ok = fail(err, errlen, "out of memory");
    } else {
      bool default_port = strcmp(u.port, u.https ? "443" : "80") == 0;
      bool v6 = strchr(u.host, ':') != NULL;
      fprintf(f, "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n", u.target, v6 ? "[" : "", u.host, v6 ? "]" : "",
              default_port ? "" : ":", default_port ? "" : u.port);
      fprintf(f, "User-Agent: feedbackd-webhooks\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n",
              p->body_len);
      fputs("Connection: close\r\n", f);
      for (size_t i = 0; i < p->n_headers; i++) fprintf(f, "%s\r\n", p->headers[i]);
      fputs("\r\n", f);
      if (fclose(f) != 0 || !head) ok = fail(err, errlen, "out of memory");
    }
  }
  ok = ok && send_all(&c, head, head_len, err, errlen) && send_all(&c, p->body, p->body_len, err, errlen) &&
       read_status(&c, status, err, errlen);
  free(head);
  if (c.ssl) {
    SSL_set_quiet_shutdown(c.ssl, 1); /* no close_notify round trip: Connection: close */
    SSL_free(c.ssl);
  }
  SSL_CTX_free(c.ctx);
  if (c.fd >= 0) close(c.fd);
  ERR_clear_error();
  return ok;
}
