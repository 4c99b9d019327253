/* router.c — pattern matching over a routing table, top to bottom, first match wins.
 * "{name}" matches one non-empty path segment; a trailing "*" matches any rest. */
#include "http/router.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

static bool match(const char *pattern, const char *path, char **params) {
  int n = 0;
  while (*pattern) {
    if (pattern[0] == '*' && pattern[1] == '\0') return true;
    if (*pattern == '{') {
      const char *close = strchr(pattern, '}');
      const char *seg_end = strchr(path, '/');
      size_t len = seg_end ? (size_t)(seg_end - path) : strlen(path);
      if (!close || len == 0 || n >= FD_MAX_PATH_PARAMS) return false;
      if (params) {
        params[n] = strndup(path, len);
        if (params[n]) params[n][MHD_http_unescape(params[n])] = '\0';
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
