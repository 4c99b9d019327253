/* daemon.c — libmicrohttpd glue: the request life cycle.
 *
 *  on_uri (first callback)      creates the fd_request, starts the clock
 *  on_request, first call       routes (404/405), a body sent to a route that takes none
 *                               (413, connection closed unread), preflight, auth
 *                               (401/403/origin), Content-Type (415) and Content-Length
 *                               (413) checks
 *  on_request, upload calls     appends the body, stops buffering past the limit
 *  on_request, last call        runs the handler (or the resume step of a suspended one)
 *  on_completed                 access log line, metrics, frees the fd_request
 *
 * Each step also tells the connection guard (http/conn_guard.h) which phase the connection
 * is in, for the head and body deadlines.
 */
#include "http/daemon.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "http/auth.h"
#include "http/conn_guard.h"
#include "http/cors.h"
#include "http/reply.h"
#include "http/router.h"
#include "http/wait_room.h"
#include "ingest/validate_common.h" /* fd_utf8_valid */
#include "util/crypto.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/workers.h"

struct fd_daemon {
  struct MHD_Daemon *mhd;
  MHD_socket listen_fd;
  const struct fd_route *routes; /* the application's routing table (borrowed) */
  struct fd_http_deps deps;
  int max_body_bytes;
  /* set by fd_daemon_quiesce on the signal-handling thread, read by every request thread */
  atomic_bool shutting_down;
  struct fd_conn_guard *guard; /* request deadlines, per-address limit, client address */
  struct fd_wait_room *room;   /* requests waiting between head and body */
};

static long in_flight; /* requests between on_uri and on_completed */

/* libmicrohttpd's per-connection pool holds the request line and headers, the read buffer
 * the body streams through (the body itself is copied out chunk by chunk, so its size does
 * not depend on this) and the reply headers. MHD 0.9.75 zeroes the whole pool between two
 * requests on a keep-alive connection, so its size is paid on every request: 64 KiB was
 * ~6% of the CPU of a POST /v1/feedback (~3 us). 32 KiB (MHD's own default) halves that
 * and still takes ~16 KiB of request headers (Node's default limit; 64 KiB took ~32 KiB);
 * 16 KiB would take only ~7.5 KiB, too tight for browsers with large cookies. */
#define CONNECTION_POOL_BYTES ((size_t)32 * 1024)

const char *fd_request_arg(struct fd_request *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *fd_request_header(struct fd_request *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void fd_request_suspend(struct fd_request *req, fd_handler on_resume) {
  req->resume = on_resume;
  if (req->offload) { /* suspended by the hand-off already (request.h): hand it on */
    *req->offload = true;
    req->offload = NULL;
    return;
  }
  req->suspended = true;
  MHD_suspend_connection(req->conn);
}

void fd_request_resume(struct fd_request *req) { MHD_resume_connection(req->conn); }

bool fd_request_wait_at_head(struct fd_request *req, int64_t key, int max_ms, bool (*ready)(struct fd_request *req),
                             fd_handler then) {
  return fd_wait_room_enter(req->daemon->room, req, key, max_ms, ready, then);
}

/* libmicrohttpd's threads carry the process's name; each names itself on its first request
 * (top -H, perf: docs/operations.md "Threads") */
static __thread bool thread_named;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  const struct fd_daemon *d = cls;
  if (!thread_named) {
    thread_named = true;
    fd_thread_name("fd-http");
  }
  struct fd_request *req = calloc(1, sizeof *req);
  if (!req) return NULL;
  req->conn = conn;
  req->daemon = d;
  req->app = d->deps.app;
  req->start_us = fd_now_us();
  /* a log-correlation id, not a secret: the cheap per-thread generator (a DRBG call here
   * was ~5% of the CPU of a POST /v1/feedback) */
  uint64_t id = fd_fast_random_u64();
  unsigned char rnd[8];
  memcpy(rnd, &id, sizeof rnd);
  fd_hex_encode(rnd, sizeof rnd, req->request_id);
  const char *q = strchr(uri, '?');
  req->path = q ? strndup(uri, (size_t)(q - uri)) : strdup(uri);
  fd_conn_guard_request_line(conn);
  __atomic_add_fetch(&in_flight, 1, __ATOMIC_RELAXED);
  return req;
}

static void request_free(struct fd_request *req) {
  if (req->state_free) req->state_free(req->state);
  for (int i = 0; i < FD_MAX_PATH_PARAMS; i++) free(req->params[i]);
  fd_auth_clear(&req->auth);
  if (req->stashed) MHD_destroy_response(req->stashed);
  free(req->body);
  free((char *)req->path);
  free(req);
}

/* quote a value for logfmt: paths are client input */
static void log_safe(const char *in, char *out, size_t len) {
  size_t j = 0;
  for (size_t i = 0; in && in[i] && j + 1 < len; i++) {
    unsigned char c = (unsigned char)in[i];
    out[j++] = (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) ? '_' : (char)c;
  }
  out[j] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
  struct fd_request *req = *con_cls;
  if (!req) return;
  const struct fd_daemon *d = cls;
  fd_conn_guard_request_done(conn);
  uint64_t dur = fd_now_us() - req->start_us;
  unsigned int status = req->status ? req->status : 499; /* client went away before a reply */
  if (fd_log_enabled(FD_LOG_INFO)) {
    char path[256], client[64];
    log_safe(req->path, path, sizeof path);
    fd_conn_guard_client(d->guard, conn, client, sizeof client);
    fd_log_access("msg=request req=%s method=%s path=\"%s\" status=%u bytes=%zu dur_us=%llu client=%s%s",
                  req->request_id, req->method ? req->method : "-", path, status, req->reply_bytes,
                  (unsigned long long)dur, client, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
  }
  fd_metrics_request(req->route ? (int)(req->route - d->routes) : -1, status, dur);
  request_free(req);
  *con_cls = NULL;
  __atomic_sub_fetch(&in_flight, 1, __ATOMIC_RELAXED);
}

/* Query-string arguments reach handlers as C strings and SQL as text: an argument with a
 * NUL would be read cut short, one that is not UTF-8 would be refused by the database (a 5xx
 * for a client's mistake). Both are 400 invalid_parameter naming the argument, before any
 * handler or query runs (docs/api.md "Errors"). */
struct bad_arg {
  bool found;
  bool name_printable; /* false when the name itself is broken: the error's field is null */
  char name[64];
};

static bool clean_text(const char *s, size_t len) { return !memchr(s, '\0', len) && fd_utf8_valid(s, len); }

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                 const char *value, size_t value_size) {
  (void)kind;
  struct bad_arg *bad = cls;
  bool key_ok = clean_text(key, key_size);
  if (key_ok && (!value || clean_text(value, value_size))) return MHD_YES;
  bad->found = true;
  bad->name_printable = key_ok && key_size < sizeof bad->name;
  if (bad->name_printable) {
    memcpy(bad->name, key, key_size);
    bad->name[key_size] = '\0';
  }
  return MHD_NO; /* the first bad argument is enough */
}

static bool check_query_args(struct fd_request *req) {
  struct bad_arg bad = {0};
  MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, check_arg, &bad);
  if (!bad.found) return true;
  if (bad.name_printable)
    fd_reply_error(req, FD_ERR_INVALID_PARAMETER, bad.name, "query parameter %s must be UTF-8 text without NUL",
                   bad.name);
  else
    fd_reply_error(req, FD_ERR_INVALID_PARAMETER, NULL, "query parameter names must be UTF-8 text without NUL");
  return false;
}

static bool has_body_method(const char *method) {
  return strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0 || strcmp(method, "PUT") == 0;
}

/* Whether the request announces a body: a non-zero Content-Length (MHD answered 400 to an
 * unparseable one already) or any Transfer-Encoding (chunked). */
static bool announces_body(struct fd_request *req) {
  if (fd_request_header(req, "Transfer-Encoding")) return true;
  const char *cl = fd_request_header(req, "Content-Length");
  return cl && strtoull(cl, NULL, 10) > 0;
}

static bool is_json_content_type(const char *ct) {
  if (!ct) return false;
  while (*ct == ' ') ct++;
  size_t n = strlen("application/json");
  return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* First call: everything that can be decided from the request line and headers. Returns
 * true when the request may go on to its body and handler. */
static bool check_headers(const struct fd_daemon *d, struct fd_request *req, const char *method) {
  char allow[128];
  req->origin = fd_request_header(req, "Origin");
  enum fd_route_match m = fd_router_match(d->routes, req, method, req->path, allow, sizeof allow);
  if (m == FD_ROUTE_WRONG_METHOD && strcmp(method, "OPTIONS") == 0) {
    strncat(allow, ", OPTIONS", sizeof allow - strlen(allow) - 1);
    fd_cors_preflight(req, d->deps.pool, allow);
    return false;
  }
  if (m == FD_ROUTE_NOT_FOUND) {
    fd_reply_error(req, FD_ERR_NOT_FOUND, NULL, "no such resource: %s", req->path);
    return false;
  }
  if (m == FD_ROUTE_WRONG_METHOD) {
    fd_reply_error_header(req, FD_ERR_METHOD_NOT_ALLOWED, "Allow", allow, "method not allowed on this resource");
    return false;
  }
  /* A route that takes no body has a body limit of 0: answered before the body is read, so
   * MHD closes the connection without buffering it (an early reply discards the request). */
  if (!has_body_method(method) && announces_body(req)) {
    fd_reply_error(req, FD_ERR_PAYLOAD_TOO_LARGE, NULL, "%s %s takes no request body", method, req->route->pattern);
    return false;
  }
  if (!check_query_args(req)) return false;
  if (req->route->scope != FD_SCOPE_NONE) {
    switch (fd_auth_request(req, d->deps.pool)) {
      case FD_AUTH_UNAVAILABLE: fd_reply_unavailable(req, "the database is unavailable"); return false;
      case FD_AUTH_UNAUTHORIZED:
        /* readable (CORS) only by a page of an origin some project allows: cors.c */
        if (req->origin && fd_cors_origin_known(d->deps.pool, req->origin) != 1) req->origin = NULL;
        fd_reply_error(req, FD_ERR_UNAUTHORIZED, NULL, "a valid API key is required (Authorization: Bearer <key>)");
        return false;
      case FD_AUTH_OK: break;
    }
    if (!fd_auth_has_scope(&req->auth, req->route->scope)) {
      fd_reply_error(req, FD_ERR_FORBIDDEN, NULL, "this key lacks the scope this endpoint needs");
      return false;
    }
    if (req->origin && !fd_cors_origin_allowed(req->auth.allowed_origins, req->origin)) {
      fd_reply_error(req, FD_ERR_FORBIDDEN, NULL, "origin %s is not allowed for this project", req->origin);
      return false;
    }
  }
  if (has_body_method(method)) {
    const char *cl = fd_request_header(req, "Content-Length");
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (declared > (unsigned long long)d->max_body_bytes) {
      fd_reply_error(req, FD_ERR_PAYLOAD_TOO_LARGE, NULL, "the body is larger than %d bytes", d->max_body_bytes);
      return false;
    }
    req->body_declared = (size_t)declared;
    if (!is_json_content_type(fd_request_header(req, "Content-Type"))) {
      fd_reply_error(req, FD_ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
                     "the body must be sent as Content-Type: application/json");
      return false;
    }
  }
  return !req->route->admit || req->route->admit(req);
}

static bool append_body(const struct fd_daemon *d, struct fd_request *req, const char *data, size_t len) {
  if (req->body_too_large) return true;
  if (req->body_len + len > (size_t)d->max_body_bytes) {
    req->body_too_large = true; /* keep reading (and dropping) so the 413 reaches the client */
    free(req->body);
    req->body = NULL;
    req->body_len = req->body_cap = 0;
    return true;
  }
  if (req->body_len + len + 1 > req->body_cap) {
    /* the declared length (plus the NUL) is usually exact: one small allocation instead
     * of 4 KiB, which would take glibc's large-request path (a fastbin consolidation) */
    size_t cap = req->body_cap ? req->body_cap : req->body_declared ? req->body_declared + 1 : 4096;
    /* a declared length is a client's word: start at most at 64 KiB, grow with what arrives */
    if (!req->body_cap && cap > 65536) cap = 65536;
    while (cap < req->body_len + len + 1) cap *= 2;
    char *b = realloc(req->body, cap);
    if (!b) return false;
    req->body = b;
    req->body_cap = cap;
  }
  memcpy(req->body + req->body_len, data, len);
  req->body_len += len;
  req->body[req->body_len] = '\0';
  return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  const struct fd_daemon *d = cls;
  struct fd_request *req = *con_cls;
  if (!req) return MHD_NO; /* on_uri could not allocate: drop the connection */
  if (req->replied) {
    *upload_data_size = 0; /* an early error reply is queued; discard the rest of the body */
    return MHD_YES;
  }
  if (req->held) { /* back from the waiting room: its step decides before any body is taken */
    req->held = false;
    req->suspended = false;
    fd_handler then = req->resume;
    req->resume = NULL;
    then(req);
    if (req->replied) {
      *upload_data_size = 0;
      return MHD_YES;
    }
    fd_conn_guard_head_done(conn); /* the body's deadline counts from now */
    if (!*upload_data_size) return MHD_YES;
  }
  if (!req->headers_checked) {
    req->headers_checked = true;
    req->method = method;
    fd_conn_guard_head_done(conn);
    /* answered (MHD sends the reply), or waiting in the room: no deadline runs meanwhile */
    if (!check_headers(d, req, method)) fd_conn_guard_busy(conn);
    return MHD_YES;
  }
  if (*upload_data_size) {
    fd_conn_guard_body_bytes(conn, *upload_data_size);
    if (!append_body(d, req, upload_data, *upload_data_size)) return MHD_NO;
    *upload_data_size = 0;
    return MHD_YES;
  }
  fd_conn_guard_busy(conn);
  if (req->resume) {
    fd_handler next = req->resume;
    req->resume = NULL;
    req->suspended = false;
    next(req);
  } else if (req->body_too_large) {
    fd_reply_error(req, FD_ERR_PAYLOAD_TOO_LARGE, NULL, "the body is larger than %d bytes", d->max_body_bytes);
  } else {
    req->route->handler(req);
  }
  if (!req->replied && !req->suspended) {
    fd_log_bug("msg=\"handler returned without a reply\" path=%s", req->path);
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "internal error");
  }
  return MHD_YES;
}

/* libmicrohttpd's printf-style log callback */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  for (char *p = msg; *p; p++)
    if (*p == '\n' || *p == '"') *p = ' ';
  fd_log(FD_LOG_WARN, "msg=\"libmicrohttpd: %s\"", msg);
}

static bool parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen) {
  char host[256];
  const char *colon = strrchr(listen, ':');
  if (!colon) {
    snprintf(err, errlen, "listen must be host:port, not '%s'", listen);
    return false;
  }
  size_t hl = (size_t)(colon - listen);
  if (hl >= sizeof host) hl = sizeof host - 1;
  memcpy(host, listen, hl);
  host[hl] = '\0';
  if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = '\0';
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
  int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
  if (rc != 0) {
    snprintf(err, errlen, "cannot resolve listen address '%s': %s", listen, gai_strerror(rc));
    return false;
  }
  memcpy(ss, ai->ai_addr, ai->ai_addrlen);
  *len = ai->ai_addrlen;
  freeaddrinfo(ai);
  return true;
}

/* Thousands of idle keep-alive connections need thousands of descriptors. */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) fd_log(FD_LOG_WARN, "msg=\"could not raise the open file limit\"");
  }
}

struct fd_daemon *fd_daemon_start(const struct fd_config *cfg, const struct fd_route *routes,
                                  const struct fd_http_deps *deps, char *err, size_t errlen) {
  struct sockaddr_storage ss;
  socklen_t sslen;
  if (!parse_listen(cfg->listen, &ss, &sslen, err, errlen)) return NULL;
  raise_fd_limit();
  unsigned threads = cfg->threads > 0 ? (unsigned)cfg->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
  if (threads < 1) threads = 1;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  struct fd_daemon *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  d->routes = routes;
  d->deps = *deps;
  d->max_body_bytes = cfg->max_body_bytes;
  atomic_init(&d->shutting_down, false);
  d->guard = fd_conn_guard_start(cfg, err, errlen);
  if (!d->guard) {
    free(d);
    return NULL;
  }
  d->room = fd_wait_room_start();
  if (!d->room) {
    snprintf(err, errlen, "cannot start the waiting room's thread");
    fd_conn_guard_stop(d->guard);
    free(d);
    return NULL;
  }
  const char *names[64];
  int n_routes = 0;
  while (routes[n_routes].pattern && n_routes < (int)(sizeof names / sizeof names[0])) {
    names[n_routes] = routes[n_routes].name;
    n_routes++;
  }
  fd_metrics_set_route_names(names, n_routes);
  d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, &on_request, d, MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit, MHD_OPTION_NOTIFY_CONNECTION,
                            &fd_conn_guard_notify, d->guard, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)cfg->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            CONNECTION_POOL_BYTES, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_URI_LOG_CALLBACK,
                            &on_uri, d, MHD_OPTION_NOTIFY_COMPLETED, &on_completed, d, MHD_OPTION_END);
  if (!d->mhd) {
    snprintf(err, errlen, "cannot listen on %s (address in use or not permitted?)", cfg->listen);
    fd_wait_room_stop(d->room);
    fd_conn_guard_stop(d->guard);
    free(d);
    return NULL;
  }
  fd_log(FD_LOG_INFO, "msg=\"listening\" address=%s threads=%u", cfg->listen, threads);
  return d;
}

void fd_daemon_quiesce(struct fd_daemon *d) {
  if (!d || !d->mhd) return;
  atomic_store(&d->shutting_down, true);
  fd_wait_room_close(d->room);
  d->listen_fd = MHD_quiesce_daemon(d->mhd);
  if (d->listen_fd != MHD_INVALID_SOCKET) close(d->listen_fd);
}

bool fd_daemon_shutting_down(const struct fd_daemon *d) { return d && atomic_load(&d->shutting_down); }

bool fd_daemon_drain(struct fd_daemon *d, int timeout_ms) {
  uint64_t deadline = fd_now_us() + (uint64_t)timeout_ms * 1000u;
  /* idle for 50 ms in a row, not a single look at zero: with one writer every waiting
   * request is answered by the same COMMIT, so zero is reached at once while keep-alive
   * clients are about to send their next request; the ingest queue closed under such a
   * request answers it 503 */
  for (int idle = 0; idle < 5; usleep(10000)) {
    if (__atomic_load_n(&in_flight, __ATOMIC_RELAXED) == 0) {
      idle++;
      continue;
    }
    idle = 0;
    if (fd_now_us() >= deadline) return false;
  }
  return true;
}

void fd_daemon_stop(struct fd_daemon *d) {
  if (!d) return;
  fd_wait_room_stop(d->room); /* resumes whoever still waits: MHD must not stop with them suspended */
  if (d->mhd) MHD_stop_daemon(d->mhd);
  fd_conn_guard_stop(d->guard); /* after MHD: its connections' notifications use the guard */
  free(d);
}
