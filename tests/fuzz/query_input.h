/* query_input.h — fuzz input as a query string, for the targets of the GET parameter
 * parsers: "name=value&name=value", each part percent-decoded with libmicrohttpd's own
 * MHD_http_unescape and cut at the first NUL, as the daemon's fd_request_arg sees it. The
 * first occurrence of a name wins, as with MHD_lookup_connection_value. Also the checks
 * every parameter parser shares. */
#ifndef FD_FUZZ_QUERY_INPUT_H
#define FD_FUZZ_QUERY_INPUT_H

#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "ingest/validate_common.h"

#define FZ_QUERY_MAX 32

struct fz_query {
  size_t n;
  char *name[FZ_QUERY_MAX], *value[FZ_QUERY_MAX];
  char *buf;
};

static inline void fz_query_parse(struct fz_query *q, const uint8_t *data, size_t size) {
  q->n = 0;
  q->buf = malloc(size + 1);
  if (!q->buf) abort();
  memcpy(q->buf, data, size);
  q->buf[size] = '\0';
  char *save = NULL;
  for (char *part = strtok_r(q->buf, "&", &save); part && q->n < FZ_QUERY_MAX; part = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(part, '=');
    char *value = eq ? eq + 1 : part + strlen(part); /* "name" alone: empty value, as MHD */
    if (eq) *eq = '\0';
    part[MHD_http_unescape(part)] = '\0';
    value[MHD_http_unescape(value)] = '\0';
    q->name[q->n] = part;
    q->value[q->n] = value;
    q->n++;
  }
}

static inline const char *fz_query_get(void *cls, const char *name) {
  const struct fz_query *q = cls;
  for (size_t i = 0; i < q->n; i++)
    if (strcmp(q->name[i], name) == 0) return q->value[i];
  return NULL;
}

static inline void fz_query_free(struct fz_query *q) { free(q->buf); }

/* A parameter error is the client's (400 invalid_parameter) about one of `names`, and its
 * text can be sent as JSON. */
static inline void fz_check_param_error(const struct fd_error *err, const char *const *names) {
  if (err->code != FD_ERR_INVALID_PARAMETER) abort();
  if (!fd_utf8_valid(err->message, strlen(err->message))) abort();
  bool known = false;
  for (size_t i = 0; names[i]; i++) known = known || strcmp(names[i], err->field) == 0;
  if (!known) abort();
}

/* A string that reaches SQL as text: PostgreSQL refuses invalid UTF-8 (a 5xx). */
static inline void fz_check_text(const char *s) {
  if (s && !fd_utf8_valid(s, strlen(s))) abort();
}

#endif
