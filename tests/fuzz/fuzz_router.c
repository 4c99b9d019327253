/* fuzz_router.c — libFuzzer target for http/router.c over the real routing table
 * (api/routes.c): the first input byte picks the method, the rest (up to a NUL, as
 * libmicrohttpd hands over the URL) is the path.
 *
 * Invariants (abort = finding):
 * - FOUND: the route's method is the request's (or GET for HEAD) and the route has as many
 *   path parameters as it has "{name}" segments; each parameter is exactly the independent
 *   percent-decoding of its segment, with no NUL inside (a NUL would cut "e1%00zz" to the
 *   other object "e1") and valid UTF-8 (parameters reach SQL as text);
 * - NOT_FOUND: no parameter was allocated;
 * - WRONG_METHOD: the Allow list is non-empty, bounded and does not name the method. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "http/router.h"
#include "ingest/validate_common.h"

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decode seg[0..len) into out (len + 1 bytes); returns the decoded length. An
 * incomplete escape stays as it is, as in MHD_http_unescape. */
static size_t decode(const char *seg, size_t len, char *out) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    int hi, lo;
    if (seg[i] == '%' && i + 2 < len && (hi = hex(seg[i + 1])) >= 0 && (lo = hex(seg[i + 2])) >= 0) {
      out[n++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      out[n++] = seg[i];
    }
  }
  out[n] = '\0';
  return n;
}

/* The k-th "{..}" segment of path under pattern (both already known to match). */
static void check_params(const struct fd_route *r, const char *path, char *const *params) {
  const char *p = r->pattern;
  int k = 0;
  while (*p) {
    if (*p == '*') return;
    if (*p == '{') {
      const char *seg_end = strchr(path, '/');
      size_t len = seg_end ? (size_t)(seg_end - path) : strlen(path);
      char *want = malloc(len + 1);
      if (!want) abort();
      size_t n = decode(path, len, want);
      const char *got = params[k];
      if (!got || strlen(got) != n || memcmp(got, want, n) != 0) abort();
      if (!fd_utf8_valid(got, n)) abort();
      free(want);
      k++;
      path += len;
      p = strchr(p, '}') + 1;
      continue;
    }
    p++;
    path++;
  }
  for (; k < FD_MAX_PATH_PARAMS; k++)
    if (params[k]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"};
  if (size < 1) return 0;
  const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
  char *path = strndup((const char *)data + 1, size - 1);
  if (!path) return 0;
  struct fd_request req;
  memset(&req, 0, sizeof req);
  char allow[128];
  enum fd_route_match m = fd_router_match(fd_api_routes, &req, method, path, allow, sizeof allow);
  switch (m) {
    case FD_ROUTE_FOUND:
      if (!req.route) abort();
      if (strcmp(req.route->method, method) != 0 &&
          !(strcmp(method, "HEAD") == 0 && strcmp(req.route->method, "GET") == 0))
        abort();
      check_params(req.route, path, req.params);
      break;
    case FD_ROUTE_NOT_FOUND:
      for (int i = 0; i < FD_MAX_PATH_PARAMS; i++)
        if (req.params[i]) abort();
      break;
    case FD_ROUTE_WRONG_METHOD:
      if (!allow[0] || strlen(allow) >= sizeof allow) abort();
      for (char *save = NULL, *t = strtok_r(allow, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (strcmp(t, method) == 0) abort();
      break;
  }
  for (int i = 0; i < FD_MAX_PATH_PARAMS; i++) free(req.params[i]);
  free(path);
  return 0;
}
