/* router.c — pattern matching over a routing table, top to bottom, first match wins.
 * "{name}" matches one non-empty path segment; a trailing "*" matches any rest. */
#include "http/router.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/validate_common.h"

/* The percent-decoded segment path[0..len), or NULL when it cannot name an object: a NUL
 * inside ("e1%00zz" must not act on "e1") or invalid UTF-8 (parameters reach SQL as text,
 * which refuses it). Such a path matches no route: 404. */
static char *decoded_param(const char *path, size_t len) {
  char *p = strndup(path, len);
  if (!p) return NULL;
  size_t n = MHD_http_unescape(p);
  p[n] = '\0';
  if (strlen(p) != n || !fd_utf8_valid(p, n)) {
    free(p);
    return NULL;
  }
  return p;
}

static bool match(const char *pattern, const char *path, char **params) {
  int n = 0;
  while (*pattern) {
    if (pattern[0] == '*' && pattern[1] == '\0') return true;
    if (*pattern == '{') {
      const char *close = strchr(pattern, '}');
      const char *seg_end = strchr(path, '/');
      size_t len = seg_end ? (size_t)(seg_end - path) : strlen(path);
      if (!close || len == 0 || n >= FD_MAX_PATH_PARAMS) return false;
      if (params && !(params[n] = decoded_param(path, len))) {
        while (n-- > 0) { /* the earlier parameters of this route */
          free(params[n]);
          params[n] = NULL;
        }
        return false;
      }
      n++;
      path += len;
      pattern = close + 1;
      continue;
    }
    if (*pattern != *path) return false;
    pattern++;
    path++;
  }
  return *path == '\0';
}

enum fd_route_match fd_router_match(const struct fd_route *routes, struct fd_request *req, const char *method,
                                    const char *path, char *allow, size_t allow_len) {
  allow[0] = '\0';
  bool path_known = false;
  for (const struct fd_route *r = routes; r->pattern; r++) {
    if (!match(r->pattern, path, NULL)) continue;
    path_known = true;
    if (strcmp(r->method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
      if (!match(r->pattern, path, req->params)) return FD_ROUTE_NOT_FOUND;
      req->route = r;
      return FD_ROUTE_FOUND;
    }
    if (!strstr(allow, r->method)) {
      if (allow[0]) strncat(allow, ", ", allow_len - strlen(allow) - 1);
      strncat(allow, r->method, allow_len - strlen(allow) - 1);
    }
  }
  return path_known ? FD_ROUTE_WRONG_METHOD : FD_ROUTE_NOT_FOUND;
}
