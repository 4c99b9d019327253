/* conn_guard.c — request deadlines and per-address connection limits (see conn_guard.h). */
#include "http/conn_guard.h"

#include <pthread.h>
#include <search.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "util/workers.h"

/* How often the sweeper looks: the latest a connection is cut after its deadline. */
#define SWEEP_INTERVAL_MS 200

enum phase { PHASE_HEAD, PHASE_BODY, PHASE_BUSY, PHASE_IDLE };
static const char *const phase_names[] = {"head", "body", "busy", "idle"};

struct tracked {
  struct tracked *prev, *next;
  struct fd_conn_guard *g;
  MHD_socket fd;
  struct fd_netaddr peer;
  bool has_peer;
  bool counted; /* holds one slot of its address's per-address count */
  bool cut;     /* shut down by the guard; MHD closes it next */
  /* under g->mu */
  enum phase phase;
  uint64_t deadline_us; /* 0: none */
  /* written by the connection's thread without the lock: only ever extends the deadline */
  uint64_t body_bytes;
};

struct per_address {
  struct fd_netaddr addr;
  unsigned count;
};

struct fd_conn_guard {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  pthread_t sweeper;
  bool stopping;
  struct tracked *head; /* every open connection */
  void *addresses;      /* tsearch tree of struct per_address, entries with count > 0 */
  struct fd_netranges trusted;
  uint64_t head_us, idle_us;
  unsigned body_min_rate; /* bytes/s, 0 = no body deadline */
  unsigned per_address_limit;
};

static int address_cmp(const void *a, const void *b) {
  return memcmp(((const struct per_address *)a)->addr.b, ((const struct per_address *)b)->addr.b, 16);
}

static struct tracked *tracked_of(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? info->socket_context : NULL;
}

static void set_phase(struct tracked *t, enum phase phase, uint64_t deadline_us) {
  pthread_mutex_lock(&t->g->mu);
  t->phase = phase;
  t->deadline_us = deadline_us;
  if (phase == PHASE_BODY) __atomic_store_n(&t->body_bytes, 0, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&t->g->mu);
}

void fd_conn_guard_request_line(struct MHD_Connection *conn) {
  struct tracked *t = tracked_of(conn);
  /* a fresh connection's head deadline counts from its accept; a keep-alive connection's
   * from the request line that ends its idle phase */
  if (t && t->phase == PHASE_IDLE) set_phase(t, PHASE_HEAD, fd_now_us() + t->g->head_us);
}

void fd_conn_guard_head_done(struct MHD_Connection *conn) {
  struct tracked *t = tracked_of(conn);
  if (t) set_phase(t, PHASE_BODY, t->g->body_min_rate ? fd_now_us() + t->g->head_us : 0);
}

void fd_conn_guard_body_bytes(struct MHD_Connection *conn, size_t n) {
  struct tracked *t = tracked_of(conn);
  if (t) __atomic_add_fetch(&t->body_bytes, (uint64_t)n, __ATOMIC_RELAXED);
}

void fd_conn_guard_busy(struct MHD_Connection *conn) {
  struct tracked *t = tracked_of(conn);
  if (t && t->phase != PHASE_BUSY) set_phase(t, PHASE_BUSY, 0);
}

void fd_conn_guard_request_done(struct MHD_Connection *conn) {
  struct tracked *t = tracked_of(conn);
  if (t) set_phase(t, PHASE_IDLE, fd_now_us() + t->g->idle_us);
}

/* The address's count, one up; under g->mu. 0 when out of memory (then not counted). */
static unsigned address_take(struct fd_conn_guard *g, const struct fd_netaddr *a) {
  struct per_address key = {.addr = *a}, *node;
  void **found = tfind(&key, &g->addresses, address_cmp);
  if (found) {
    node = *found;
  } else {
    node = calloc(1, sizeof *node);
    if (!node) return 0;
    node->addr = *a;
    if (!tsearch(node, &g->addresses, address_cmp)) {
      free(node);
      return 0;
    }
  }
  return ++node->count;
}

static void address_release(struct fd_conn_guard *g, const struct fd_netaddr *a) {
  struct per_address key = {.addr = *a};
  void **found = tfind(&key, &g->addresses, address_cmp);
  if (!found) return;
  struct per_address *node = *found;
  if (--node->count == 0) {
    tdelete(&key, &g->addresses, address_cmp);
    free(node);
  }
}

static void on_started(struct fd_conn_guard *g, struct MHD_Connection *conn, void **socket_context) {
  struct tracked *t = calloc(1, sizeof *t);
  if (!t) return; /* untracked: MHD's inactivity timeout still applies */
  t->g = g;
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  t->fd = info ? info->connect_fd : MHD_INVALID_SOCKET;
  info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  t->has_peer = info && fd_netaddr_from_sockaddr(info->client_addr, &t->peer);
  t->phase = PHASE_HEAD;
  t->deadline_us = fd_now_us() + g->head_us;
  bool over = false;
  pthread_mutex_lock(&g->mu);
  t->next = g->head;
  if (g->head) g->head->prev = t;
  g->head = t;
  if (g->per_address_limit && t->has_peer && !fd_netranges_contain(&g->trusted, &t->peer)) {
    unsigned n = address_take(g, &t->peer);
    t->counted = n > 0;
    over = n > g->per_address_limit;
  }
  if (over && t->fd != MHD_INVALID_SOCKET) {
    /* MHD reads end-of-file at once and closes it: the slot is taken only for a moment */
    shutdown(t->fd, SHUT_RDWR);
    t->cut = true;
  }
  pthread_mutex_unlock(&g->mu);
  *socket_context = t;
  if (over) {
    char addr[64];
    fd_netaddr_format(&t->peer, addr, sizeof addr);
    fd_log(FD_LOG_INFO, "msg=\"connection refused\" reason=per_ip_connection_limit client=%s limit=%u", addr,
           g->per_address_limit);
  }
}

static void on_closed(struct fd_conn_guard *g, void **socket_context) {
  struct tracked *t = *socket_context;
  if (!t) return;
  /* MHD closes the descriptor only after this returns: while t is in the list under the
   * lock, the sweeper's shutdown() cannot reach a descriptor reused by another connection */
  pthread_mutex_lock(&g->mu);
  if (t->prev)
    t->prev->next = t->next;
  else
    g->head = t->next;
  if (t->next) t->next->prev = t->prev;
  if (t->counted) address_release(g, &t->peer);
  pthread_mutex_unlock(&g->mu);
  free(t);
  *socket_context = NULL;
}

void fd_conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  if (code == MHD_CONNECTION_NOTIFY_STARTED)
    on_started(cls, conn, socket_context);
  else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
    on_closed(cls, socket_context);
}

/* under g->mu */
static bool past_deadline(const struct fd_conn_guard *g, const struct tracked *t, uint64_t now) {
  if (t->cut || !t->deadline_us || t->fd == MHD_INVALID_SOCKET) return false;
  uint64_t deadline = t->deadline_us;
  if (t->phase == PHASE_BODY)
    deadline += __atomic_load_n(&t->body_bytes, __ATOMIC_RELAXED) * 1000000u / g->body_min_rate;
  return now > deadline;
}

static void sweep(struct fd_conn_guard *g) {
  uint64_t now = fd_now_us();
  for (struct tracked *t = g->head; t; t = t->next) {
    if (!past_deadline(g, t, now)) continue;
    shutdown(t->fd, SHUT_RDWR);
    t->cut = true;
    char addr[64] = "-";
    if (t->has_peer) fd_netaddr_format(&t->peer, addr, sizeof addr);
    fd_log(FD_LOG_INFO, "msg=\"connection cut\" reason=deadline phase=%s client=%s", phase_names[t->phase], addr);
  }
}

static void *sweeper_main(void *arg) {
  struct fd_conn_guard *g = arg;
  fd_thread_name("fd-connguard");
  pthread_mutex_lock(&g->mu);
  while (!g->stopping) {
    struct timespec until = fd_deadline_ms(CLOCK_MONOTONIC, SWEEP_INTERVAL_MS);
    pthread_cond_timedwait(&g->wake, &g->mu, &until);
    if (!g->stopping) sweep(g);
  }
  pthread_mutex_unlock(&g->mu);
  return NULL;
}

struct fd_conn_guard *fd_conn_guard_start(const struct fd_config *cfg, char *err, size_t errlen) {
  struct fd_conn_guard *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (!fd_netranges_parse(cfg->trusted_proxies, &g->trusted, err, errlen)) {
    free(g);
    return NULL;
  }
  g->head_us = (uint64_t)cfg->request_head_timeout * 1000000u;
  g->idle_us = (uint64_t)cfg->connection_timeout * 1000000u;
  g->body_min_rate = (unsigned)cfg->request_body_min_rate;
  g->per_address_limit = (unsigned)cfg->per_ip_connection_limit;
  pthread_mutex_init(&g->mu, NULL);
  fd_cond_init_monotonic(&g->wake);
  if (pthread_create(&g->sweeper, NULL, sweeper_main, g) != 0) {
    snprintf(err, errlen, "cannot start the connection sweeper thread");
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->mu);
    fd_netranges_free(&g->trusted);
    free(g);
    return NULL;
  }
  return g;
}

void fd_conn_guard_stop(struct fd_conn_guard *g) {
  if (!g) return;
  pthread_mutex_lock(&g->mu);
  g->stopping = true;
  pthread_cond_signal(&g->wake);
  pthread_mutex_unlock(&g->mu);
  pthread_join(g->sweeper, NULL);
  tdestroy(g->addresses, free); /* empty once MHD closed every connection */
  pthread_cond_destroy(&g->wake);
  pthread_mutex_destroy(&g->mu);
  fd_netranges_free(&g->trusted);
  free(g);
}

struct xff {
  char text[2048];
  size_t len;
  bool overflow; /* the right-most entries did not fit: the client cannot be told */
};

/* every X-Forwarded-For header, in order, joined by commas (proxies may add a header of
 * their own instead of appending to the last one) */
static enum MHD_Result join_xff(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  struct xff *x = cls;
  if (strcasecmp(key, "X-Forwarded-For") != 0 || !value) return MHD_YES;
  int n = snprintf(x->text + x->len, sizeof x->text - x->len, "%s%s", x->len ? "," : "", value);
  if (n < 0 || (size_t)n >= sizeof x->text - x->len) {
    x->overflow = true;
    return MHD_NO;
  }
  x->len += (size_t)n;
  return MHD_YES;
}

void fd_conn_guard_client(const struct fd_conn_guard *g, struct MHD_Connection *conn, char *out, size_t len) {
  struct tracked *t = tracked_of(conn);
  if (!t || !t->has_peer) {
    snprintf(out, len, "-");
    return;
  }
  struct fd_netaddr client = t->peer;
  if (fd_netranges_contain(&g->trusted, &t->peer)) {
    struct xff x = {.len = 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, join_xff, &x);
    if (!x.overflow) client = fd_netaddr_client(&g->trusted, &t->peer, x.text);
  }
  fd_netaddr_format(&client, out, len);
}
